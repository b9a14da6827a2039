"""Roll up many hours: in this process, or on any executor through a ``mapper``.

:func:`rollup_hour` is the unit of work: a top-level, picklable function of plain arguments
(database URL, model id, hour, plan) that makes (and caches, per process) its own engine, so
``executor.map(fn, hours)`` on a Dask cluster runs it on the workers, each reading the hour's
blobs from the database (or the archive) directly. :func:`rollup_hours` builds the plan once,
maps the hours (default: in this process, on the caller's engine) in chunks, and upserts each
chunk's rows in one transaction (a rerun of an hour replaces its rows).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.errors import DataError
from lifecycle.rollup.hourly import HOUR, HourProfile, build_hour
from lifecycle.rollup.plan import RollupPlan, make_plan
from lifecycle.storage.engine import make_engine
from lifecycle.storage.profile_repo import upsert_profiles

__all__ = ["CHUNK_HOURS", "Mapper", "RollupResult", "hours_in", "rollup_hour", "rollup_hours"]

#: Hours mapped (and held in memory) at once before their rows are written.
CHUNK_HOURS = 24

Mapper = Callable[[Callable[[datetime], HourProfile], list[datetime]], Sequence[HourProfile]]

_ENGINES: dict[str, Engine] = {}


@dataclass(frozen=True)
class RollupResult:
    """What a rollup run did: hours written (with rows), hours without served rows."""

    model: str
    hours_done: tuple[datetime, ...]
    empty_hours: tuple[datetime, ...]
    n_rows: int
    seconds: float

    @property
    def empty(self) -> bool:
        """No hour had a served row (the job reports an empty window)."""
        return not self.hours_done


def hours_in(since: datetime, until: datetime) -> list[datetime]:
    """Starts of the whole UTC hours inside ``[since, until)``.

    Raises :class:`DataError` for naive datetimes or ``since >= until``.
    """
    if since.tzinfo is None or until.tzinfo is None:
        raise DataError("naive datetime given for a rollup window; pass aware UTC times, "
                        "e.g. 2026-03-01T00:00:00+00:00")
    if since >= until:
        raise DataError(f"window start {since} must be before its end {until}")
    first = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first < since:
        first += HOUR
    hours = []
    while first + HOUR <= until:
        hours.append(first)
        first += HOUR
    return hours


def _engine_for(database_url: str) -> Engine:
    engine = _ENGINES.get(database_url)
    if engine is None:
        engine = _ENGINES[database_url] = make_engine(database_url)
    return engine


def rollup_hour(database_url: str, model_id: int, hour_start: datetime, *,
                plan: RollupPlan, now: datetime | None = None) -> HourProfile:
    """Profiles of one hour of model ``model_id`` (picklable: for executors; nothing is
    written, the caller upserts the returned rows)."""
    return build_hour(_engine_for(database_url), model_id, plan, hour_start, now=now)


def _in_process(engine: Engine, model_id: int, plan: RollupPlan,
                now: datetime | None) -> Callable[[datetime], HourProfile]:
    return functools.partial(build_hour, engine, model_id, plan, now=now)


def _default_map(fn: Callable[[datetime], HourProfile], items: list[datetime]) -> Any:
    return [fn(item) for item in items]


def rollup_hours(engine: Engine, settings: Settings, model: str, hours: Sequence[datetime],
                 *, mapper: Mapper | None = None, now: datetime | None = None,
                 chunk: int = CHUNK_HOURS) -> RollupResult:
    """Roll up ``hours`` (hour starts) of ``model`` and upsert their profiles.

    ``mapper(fn, hours)`` runs ``fn`` (a picklable :func:`rollup_hour` partial) over a chunk
    of hours, e.g. ``lambda fn, xs: client.gather(client.map(fn, xs))``; default: in this
    process on ``engine``. Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown
    model and :class:`DataError` for an hour start that is not a whole aware UTC hour.
    """
    started = time.perf_counter()
    for h in hours:
        if h.tzinfo is None or h.astimezone(UTC).replace(minute=0, second=0,
                                                          microsecond=0) != h:
            raise DataError(f"hour {h} is not the start of a whole UTC hour; pass aware "
                            "times on the hour (hours_in(since, until) lists them)")
    with Session(engine) as session:
        model_id, plan = make_plan(session, settings, model)
    if mapper is None:
        fn: Callable[[datetime], HourProfile] = _in_process(engine, model_id, plan, now)
        run: Mapper = _default_map
    else:
        url = engine.url.render_as_string(hide_password=False)
        fn = functools.partial(rollup_hour, url, model_id, plan=plan, now=now)
        run = mapper
    done: list[datetime] = []
    empty: list[datetime] = []
    n_rows = 0
    todo = list(hours)
    for i in range(0, len(todo), max(chunk, 1)):
        results = list(run(fn, todo[i:i + max(chunk, 1)]))
        rows = [row for r in results for row in r.rows]
        with Session(engine) as session, session.begin():
            upsert_profiles(session, model_id, rows, now=now)
        for r in results:
            (done if r.n_rows else empty).append(r.hour_start)
            n_rows += r.n_rows
    return RollupResult(model, tuple(done), tuple(empty), n_rows,
                        time.perf_counter() - started)

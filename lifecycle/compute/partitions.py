"""Partitions of a heavy pass: groups of consecutive stored batches, and how a worker reads one.

:func:`plan_partitions` runs on the client and reads only batch ids and row counts (never a
blob): it walks ``prediction_batches`` of the window, and the batches the retention job moved
to the Parquet archive (``archive_parts`` in state ``deleted``), in ``(ts_min, id)`` order -
the order :func:`~lifecycle.storage.batch_source.read_parts` yields them - and cuts a new
partition each time ``rows_per_partition`` stored rows are reached. A :class:`Partition` is
small and picklable; a worker turns it back into rows with :func:`read_partition`, reading the blobs
from the database itself through one engine per database URL per process
(:func:`worker_engine`), so no row passes through the client.

Counts are of stored rows: a batch that straddles the window's edge counts whole, so a
partition's ``n_rows`` is an upper bound of the window's rows in it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.config.database_url import redact_url
from lifecycle.storage.archive_repo import DELETED, parts
from lifecycle.storage.batch_source import WindowPart, read_parts
from lifecycle.storage.engine import make_engine
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.tables import PredictionBatch

__all__ = ["Partition", "dispose_worker_engines", "plan_partitions", "read_partition",
           "worker_engine"]


@dataclass(frozen=True)
class Partition:
    """One group of consecutive stored batches of a window (what a worker is handed).

    ``database_url`` is what the worker connects with; it is never shown (``repr`` and
    :meth:`describe` redact its password). ``index`` is the partition's position in the
    pass (0-based); ``n_rows`` the stored rows of its batches.
    """

    database_url: str = field(repr=False)
    model_id: int
    batch_ids: tuple[str, ...]
    since: datetime | None
    until: datetime | None
    n_rows: int
    index: int = 0

    def __repr__(self) -> str:
        return (f"Partition(index={self.index}, database={redact_url(self.database_url)!r}, "
                f"model_id={self.model_id}, batches={len(self.batch_ids)}, "
                f"rows={self.n_rows}, since={self.since!r}, until={self.until!r})")



def _url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def plan_partitions(engine: Engine, model: str, since: datetime | None,
                    until: datetime | None, rows_per_partition: int, *,
                    database_url: str | None = None) -> list[Partition]:
    """The window's batches of ``model`` in groups of about ``rows_per_partition`` rows.

    ``database_url`` is the URL workers connect with (default: ``engine``'s own URL, password
    included; pass a URL without the password when the workers get it from their own
    environment, e.g. ``PGPASSWORD``; docs/scale.md, Security).

    Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown model.
    """
    if rows_per_partition < 1:
        raise ValueError(f"rows_per_partition must be >= 1, got {rows_per_partition}")
    url = database_url or _url_of(engine)
    with Session(engine) as session:
        model_id = int(get_model(session, model).id)
        stmt = select(PredictionBatch.ts_min, PredictionBatch.id, PredictionBatch.n_rows).where(
            PredictionBatch.model_id == model_id)
        if since is not None:
            stmt = stmt.where(PredictionBatch.ts_max >= since)
        if until is not None:
            stmt = stmt.where(PredictionBatch.ts_min < until)
        hot = session.execute(stmt.order_by(PredictionBatch.ts_min, PredictionBatch.id)).all()
        # second, never first (as read_parts): a batch retired in between is seen here
        archived = parts(session.connection(), model_id, states=(DELETED,), since=since,
                         until=until)
    listed: list[tuple[datetime, str, int]] = [(r[0], str(r[1]), int(r[2])) for r in hot]
    if archived:  # batches moved to the Parquet archive (read hot while they still exist)
        seen = {r[1] for r in listed}
        listed += [(b.ts_min, b.batch_id, b.n_rows) for p in archived for b in p.batches
                   if b.batch_id not in seen
                   and (since is None or b.ts_max >= since)
                   and (until is None or b.ts_min < until)]
        listed.sort(key=lambda r: (r[0], r[1]))
    rows = [(batch_id, n_rows) for _, batch_id, n_rows in listed]
    out: list[Partition] = []
    ids: list[str] = []
    n = 0
    for batch_id, n_rows in rows:
        ids.append(str(batch_id))
        n += int(n_rows)
        if n >= rows_per_partition:
            out.append(Partition(url, model_id, tuple(ids), since, until, n, len(out)))
            ids, n = [], 0
    if ids:
        out.append(Partition(url, model_id, tuple(ids), since, until, n, len(out)))
    return out


_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def worker_engine(database_url: str) -> Engine:
    """This process's engine for ``database_url`` (made once, then reused by every partition
    the process runs: a worker keeps its connection pool between tasks)."""
    with _LOCK:
        engine = _ENGINES.get(database_url)
        if engine is None:
            engine = _ENGINES[database_url] = make_engine(database_url,
                                                          application_name="lifecycle-compute")
        return engine


def dispose_worker_engines() -> None:
    """Close every cached engine of this process (tests, and a client that is done)."""
    with _LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.dispose()


def read_partition(p: Partition, *, role: str | None = None,
                   with_inputs: bool = True) -> Iterator[WindowPart]:
    """The window's rows of ``p``'s batches, batch by batch, in ``(ts_min, id)`` order."""
    return read_parts(worker_engine(p.database_url), p.model_id, p.since, p.until,
                      role=role, with_inputs=with_inputs, batch_ids=p.batch_ids)

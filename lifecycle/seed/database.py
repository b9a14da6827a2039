"""Fill a lifecycle database with realistic, seeded monitoring history.

Used by the dashboard tests, the dashboard benchmark, screenshots and the demo. Rows are
written directly through the ORM tables (bulk ``executemany``), on SQLite or PostgreSQL:

* ``models`` with their tasks and feature lists;
* ``traffic_hourly`` (champion traffic with a daily cycle; a challenger in shadow over the
  last fifth of the span) and, when asked, the matching logged predictions: one writer
  batch per model and day, written through the capture repository
  (:func:`lifecycle.storage.capture_repo.write_batches`: the ``prediction_batches`` row, its
  join keys and the hourly traffic, exactly as the capture writer stores them);
* ``drift_reports`` + ``drift_feature_results`` (data, prediction and label drift) computed
  from synthetic binned distributions: drift starts at ``drift_onset`` of the span on the
  features listed in :attr:`SeedModel.drifting` (see :mod:`lifecycle.seed.reports`);
* ``performance_reports`` + ``performance_metrics`` (realised and label-free estimate) +
  ``change_points``; ``alerts`` (open, acknowledged, resolved), ``job_runs`` (a few
  failures), ``audit_events``.

Everything is deterministic for a given ``seed`` and ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from lifecycle.errors import DataError
from lifecycle.registry.base import Registry
from lifecycle.seed.loop import write_loop
from lifecycle.seed.loop_plan import DEFAULT_LOOP, LoopSize, plan_loop
from lifecycle.seed.models import DEFAULT_MODELS, SeedModel
from lifecycle.seed.ops import write_ops
from lifecycle.seed.reports import ReportSeeder
from lifecycle.states import CHALLENGER, CHAMPION
from lifecycle.storage.tables import ModelRow, TrafficHourly

__all__ = ["SeedSummary", "seed_database", "seed_reference"]


@dataclass(frozen=True)
class SeedSummary:
    """What :func:`seed_database` wrote (row counts per table, time span)."""

    start: datetime
    end: datetime
    models: tuple[str, ...]
    rows: dict[str, int]


def _hour_floor(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def seed_database(
    engine: Engine,
    *,
    models: Sequence[SeedModel] | None = None,
    days: float = 14,
    now: datetime | None = None,
    seed: int = 0,
    report_every_hours: int = 1,
    predictions: int | None = None,
    drift_onset: float = 0.7,
    chunk_size: int = 20_000,
    loop: LoopSize | None = DEFAULT_LOOP,
    registry: Registry | None = None,
) -> SeedSummary:
    """Write ``days`` of monitoring history ending at ``now`` (default: this hour).

    Parameters
    ----------
    engine
        A migrated database (SQLite or PostgreSQL). Models with the same names must not exist.
    models
        Models to create (default: the first three of :data:`DEFAULT_MODELS`).
    days
        Length of the history.
    report_every_hours
        One drift and performance report per model per this many hours.
    predictions
        When given, scale traffic so that about this many predictions are logged in total and
        write the per-row ``predictions`` (and their ``prediction_batches``) as well; when
        None only the hourly aggregates are written.
    drift_onset
        Fraction of the span after which the ``drifting`` features start to shift.
    loop
        Retrain runs, shadow evaluations and promotions per model
        (:mod:`lifecycle.seed.loop`); None writes none (the traffic still shows version 1
        promoted to 2 at 35 % of the span, without its rows).
    registry
        When given (a local MLflow store, :class:`lifecycle.testing.InMemoryRegistry`), the
        planned versions are registered there with their runs, aliases and tags; it must hold
        no versions of the seeded models yet.
    """
    models = tuple(DEFAULT_MODELS[:3] if models is None else models)
    if not models:
        raise DataError("seed_database needs at least one model; pass models=DEFAULT_MODELS")
    if days <= 0 or report_every_hours < 1:
        raise DataError("days must be > 0 and report_every_hours >= 1")
    end = _hour_floor(now or datetime.now(UTC)) + timedelta(hours=1)
    n_hours = max(1, int(round(days * 24)))
    start = end - timedelta(hours=n_hours)
    hours = [start + timedelta(hours=h) for h in range(n_hours)]
    rng = np.random.default_rng(seed)
    rows: dict[str, int] = {}

    def count(table: str, n: int) -> None:
        rows[table] = rows.get(table, 0) + n

    # Daily cycle shared by all models, peaking mid-afternoon UTC.
    hour_of_day = np.array([h.hour for h in hours])
    cycle = 1.0 + 0.6 * np.sin((hour_of_day - 8) / 24 * 2 * np.pi)
    scale = 1.0
    if predictions is not None:
        expected = sum(m.rate_per_hour for m in models) * cycle.sum() * 1.2
        scale = predictions / expected

    with Session(engine) as session, session.begin():
        model_ids: dict[str, int] = {}
        for m in models:
            model = ModelRow(
                name=m.name, task=m.task, description=m.description, created_at=start,
                details={"features": list(m.features), "categorical": list(m.categorical),
                         "seeded": True},
            )
            session.add(model)
            session.flush()
            model_ids[m.name] = model.id
    count("models", len(models))

    plans = {m.name: plan_loop(n_hours, loop or LoopSize(retrain_runs=0, shadow_evaluations=0,
                                                         promotions=1), i)
             for i, m in enumerate(models)}
    for m in models:
        model_id = model_ids[m.name]
        plan = plans[m.name]
        counts = rng.poisson(m.rate_per_hour * scale * cycle)
        traffic: list[dict[str, Any]] = []
        hourly: list[tuple[int, str, str, int, float]] = []  # hour, role, version, n, mean lat
        for h, n in enumerate(counts.tolist()):
            lat = m.latency_ms * (1.0 + 0.25 * cycle[h]) * float(rng.lognormal(0, 0.05))
            hourly.append((h, CHAMPION, plan.champion_at(h), n, lat))
            shadow = plan.challenger_at(h)
            if shadow is not None:
                hourly.append((h, CHALLENGER, shadow, n, lat * 1.3))
        for h, role, version, n, lat in hourly:
            traffic.append({
                "model_id": model_id, "bucket_start": hours[h], "role": role,
                "model_version": version, "n_predictions": n,
                "latency_sum_ms": n * lat, "latency_max_ms": (lat * 3.5) if n else 0.0,
                "n_calls": n, "call_latency_sum_ms": n * lat,  # one row per seeded call
            })
        if predictions is not None:  # the capture repository writes the traffic rows
            count("predictions", _write_predictions(engine, m, model_id, hours, hourly, rng,
                                                    drift_onset))
            with Session(engine) as session:
                count("traffic_hourly", int(session.scalar(
                    select(func.count()).select_from(TrafficHourly)
                    .where(TrafficHourly.model_id == model_id)) or 0))
            continue
        with Session(engine) as session, session.begin():
            for i in range(0, len(traffic), chunk_size):
                session.execute(insert(TrafficHourly), traffic[i : i + chunk_size])
        count("traffic_hourly", len(traffic))

    reporter = ReportSeeder(engine, rng, chunk_size=chunk_size)
    for m in models:
        written = reporter.seed_model(
            m, model_ids[m.name], hours, every=report_every_hours, drift_onset=drift_onset,
        )
        for table, n in written.items():
            count(table, n)

    count("job_runs", write_ops(engine, models, model_ids, hours, rng, report_every_hours))
    if loop is not None:
        loop_rng = np.random.default_rng([seed, 18])  # the monitoring half stays as it was
        for m in models:
            written = write_loop(engine, m, model_ids[m.name], hours, plans[m.name], loop_rng,
                                 registry=registry)
            for table, n in written.items():
                count(table, n)
    return SeedSummary(start=start, end=end, models=tuple(m.name for m in models), rows=rows)


def seed_reference(engine: Engine, model: SeedModel, since: datetime, until: datetime) -> int:
    """Store the data-drift reference profile of ``model`` from its logged served inputs in
    ``[since, until)`` (needs ``seed_database(..., predictions=N)``); returns the profile id.

    After this, the real drift job (``lifecycle drift check``, the scheduler, the dashboard's
    "run a check now") can check later windows of the seeded model. Goes through
    :func:`lifecycle.reference.set_reference`, like ``lifecycle reference set``.
    """
    from lifecycle.config import ModelSettings
    from lifecycle.reference import set_reference

    ms = ModelSettings(name=model.name, task=model.task, features=model.features,
                       categorical=tuple(model.categorical))
    try:
        done = set_reference(engine, ms, since=since, until=until, kinds=("data",),
                             source=f"seed window {since.isoformat()} to {until.isoformat()}")
    except DataError as exc:
        raise DataError(f"{exc} (seed with predictions=N first)") from None
    return done.ids["data"]


def _write_predictions(
    engine: Engine,
    m: SeedModel,
    model_id: int,
    hours: list[datetime],
    plan: list[tuple[int, str, str, int, float]],
    rng: np.random.Generator,
    drift_onset: float,
) -> int:
    """Write predictions matching ``plan`` exactly, one writer batch per model and day,
    through the capture repository (batch row, join keys, hourly traffic in one transaction).
    """
    import pandas as pd
    import pyarrow as pa

    from lifecycle.storage.capture_repo import StoredBatch, write_batches
    from lifecycle.storage.codec import encode_table, frame_to_table

    n_hours = len(hours)
    by_day: dict[int, list[tuple[int, str, str, int, float]]] = {}
    for item in plan:
        by_day.setdefault(item[0] // 24, []).append(item)
    total = 0
    seq = 0
    for day, items in sorted(by_day.items()):
        n = sum(item[3] for item in items)
        if n == 0:
            continue
        batch_id = f"seed{model_id:04d}{day:06d}".ljust(32, "0")[:32]
        ts: list[datetime] = []
        roles: list[str] = []
        versions: list[str] = []
        lats: list[float] = []
        hour_idx: list[int] = []
        for h, role, version, k, lat in items:
            offsets = np.sort(rng.uniform(0, 3600, size=k))
            ts.extend(hours[h] + timedelta(seconds=float(s)) for s in offsets)
            roles.extend([role] * k)
            versions.extend([version] * k)
            lats.extend((lat * rng.lognormal(0, 0.3, size=k)).tolist())
            hour_idx.extend([h] * k)
        shift = np.clip((np.array(hour_idx) / n_hours - drift_onset) / 0.1, 0, 1)
        inputs: dict[str, Any] = {}
        for f in m.numeric:
            inputs[f] = rng.normal(0, 1, size=n) + (shift * 0.8 if f in m.drifting else 0)
        for f, cats in m.categorical.items():
            inputs[f] = rng.choice(np.array(cats), size=n)
        if m.task == "classification":
            prediction = rng.choice(np.array(m.classes), size=n,
                                    p=[0.8, 0.2][: len(m.classes)] if len(m.classes) == 2
                                    else None)
        else:
            prediction = rng.normal(100, 20, size=n)
        ids = [f"seed{model_id:04d}{seq + i:024d}"[:32] for i in range(n)]
        seq += n
        outputs = frame_to_table(pd.DataFrame({
            "prediction": prediction,
            "_prediction_id": ids, "_join_key": ids,
            "_ts": pd.to_datetime(ts, utc=True), "_role": roles, "_model_version": versions,
            "_latency_ms": lats,
        }))
        ts_column = outputs.column("_ts").cast(pa.timestamp("us", tz="UTC"))
        outputs = outputs.set_column(outputs.column_names.index("_ts"), "_ts", ts_column)
        ts_us = ts_column.cast(pa.int64()).to_numpy()
        batch = StoredBatch(
            batch_id=batch_id, model=m.name, n_rows=n, ts_min_us=int(ts_us.min()),
            ts_max_us=int(ts_us.max()), inputs_blob=encode_table(frame_to_table(
                pd.DataFrame(inputs))), outputs_blob=encode_table(outputs),
            outputs_table=outputs,
        )
        with engine.begin() as conn:
            write_batches(conn, [(model_id, batch)])
        total += n
    return total

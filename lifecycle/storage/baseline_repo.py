"""Persistence of performance baselines: the reference period's performance, computed once.

A baseline row is keyed by model and a digest of the reference definition (see
:mod:`lifecycle.jobs.perf_baseline`); it is valid while the reference's fingerprint - its
labels (count, latest ``received_at``, revisions) and its prediction batches (count, rows) -
is unchanged. :func:`reference_fingerprint` measures that in two aggregate queries without
reading a blob: the labels by the reference's join keys (one bound array per chunk, as
:func:`lifecycle.storage.labelled.outcomes_for_keys`), the batches by their time range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifecycle.storage.labelled import KEY_CHUNK, join_key_in
from lifecycle.storage.performance_repo import json_safe
from lifecycle.storage.tables import Outcome, PerformanceBaseline, PredictionBatch
from lifecycle.storage.types import utcnow

__all__ = ["StoredBaseline", "iso_utc", "load_baseline", "reference_fingerprint",
           "save_baseline"]

@dataclass(frozen=True)
class StoredBaseline:
    """A stored baseline row."""

    id: int
    key: str
    created_at: datetime
    fingerprint: dict[str, Any]
    summary: dict[str, Any]
    arrays: bytes


def iso_utc(value: Any) -> str | None:
    """A time as ISO-8601 UTC text (None stays None): fingerprints compare as text."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).isoformat())


def batches_fingerprint(session: Session, model_id: int, since: datetime,
                        until: datetime) -> dict[str, int]:
    """Number of prediction batches overlapping ``[since, until)`` and their rows."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(PredictionBatch.n_rows), 0)).where(
            PredictionBatch.model_id == model_id, PredictionBatch.ts_min < until,
            PredictionBatch.ts_max >= since)
    ).one()
    return {"n_batches": int(row[0]), "n_batch_rows": int(row[1])}


def reference_fingerprint(session: Session, model_id: int, keys: Sequence[str],
                          since: datetime, until: datetime, as_of: datetime
                          ) -> dict[str, Any]:
    """Labels of ``keys`` received by ``as_of`` (count, latest ``received_at``, revisions)
    and the batches of ``[since, until)``: what a baseline was computed from."""
    postgres = session.get_bind().dialect.name == "postgresql"
    n, latest, revisions = 0, None, 0
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = [str(k) for k in keys[start:start + KEY_CHUNK]]
        in_chunk = join_key_in(chunk, postgres=postgres)
        count, newest, revised = session.connection().execute(
            select(func.count(), func.max(Outcome.received_at),
                   func.coalesce(func.sum(Outcome.revisions), 0))
            .where(Outcome.model_id == model_id, in_chunk, Outcome.received_at <= as_of)
        ).one()
        n += int(count)
        revisions += int(revised)
        if newest is not None and (latest is None or newest > latest):
            latest = newest
    return {"n_labels": n, "max_received_at": iso_utc(latest), "revisions": revisions,
            **batches_fingerprint(session, model_id, since, until)}


def load_baseline(session: Session, model_id: int, key: str) -> StoredBaseline | None:
    """The stored baseline of the model for ``key``, if any."""
    row = session.scalar(select(PerformanceBaseline).where(
        PerformanceBaseline.model_id == model_id, PerformanceBaseline.key == key))
    if row is None:
        return None
    return StoredBaseline(row.id, row.key, row.created_at, dict(row.fingerprint),
                          dict(row.summary), bytes(row.arrays))


def save_baseline(session: Session, model_id: int, key: str, *,
                  fingerprint: Mapping[str, Any], summary: Mapping[str, Any],
                  arrays: bytes) -> int:
    """Insert or replace the model's baseline for ``key`` (one statement: two processes
    computing it at once both succeed) and drop the model's baselines of other keys (a
    reference that was replaced)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"model_id": model_id, "key": key, "created_at": utcnow(),
              "fingerprint": json_safe(dict(fingerprint)), "summary": json_safe(dict(summary)),
              "arrays": arrays}
    stmt = insert(PerformanceBaseline).values(**values)
    upsert = stmt.on_conflict_do_update(
        index_elements=["model_id", "key"],
        set_={k: stmt.excluded[k] for k in ("created_at", "fingerprint", "summary", "arrays")},
    ).returning(PerformanceBaseline.id)
    baseline_id = int(session.execute(upsert).scalar_one())
    session.execute(delete(PerformanceBaseline).where(
        PerformanceBaseline.model_id == model_id, PerformanceBaseline.key != key))
    return baseline_id

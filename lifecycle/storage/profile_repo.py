"""Persist hourly window profiles (``window_profiles``, written by the rollup job).

* :func:`upsert_profiles` writes one row per (model, kind, hour) with ``INSERT ... ON CONFLICT
  DO UPDATE`` on the table's unique key: a rerun of an hour replaces its row in place (same
  id), never duplicates it, and two processes rolling up the same hour cannot both insert.
* :func:`load_profiles` reads a model's hours of one kind in a window, oldest first.
* :func:`prune_profiles` deletes a model's profiles of hours before a time (the retention
  job calls it with ``now - profile_days``).

Functions take a :class:`~sqlalchemy.orm.Session` inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifecycle.states import SERVED_ROLES
from lifecycle.storage.tables import TrafficHourly, WindowProfile
from lifecycle.storage.types import utcnow

__all__ = ["ProfileRow", "load_profiles", "prune_profiles", "served_traffic",
           "upsert_profiles"]


@dataclass(frozen=True)
class ProfileRow:
    """One stored hour of one kind (what :func:`upsert_profiles` writes and
    :func:`load_profiles` returns)."""

    hour_start: datetime
    kind: str
    n_rows: int
    reference_digest: str | None
    format: str
    summary: dict[str, Any]
    sketches: bytes | None


def upsert_profiles(session: Session, model_id: int, rows: Sequence[ProfileRow],
                    *, now: datetime | None = None) -> int:
    """Insert or replace each row's (model, kind, hour); returns the number written."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    created = now or utcnow()
    for row in rows:
        values = {"model_id": model_id, "hour_start": row.hour_start, "kind": row.kind,
                  "n_rows": row.n_rows, "reference_digest": row.reference_digest,
                  "format": row.format, "created_at": created, "summary": row.summary,
                  "sketches": row.sketches}
        stmt = insert(WindowProfile).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["model_id", "kind", "hour_start"],
            set_={k: stmt.excluded[k] for k in ("n_rows", "reference_digest", "format",
                                                "created_at", "summary", "sketches")},
        )
        session.execute(stmt)
    return len(rows)


def load_profiles(session: Session, model_id: int, kind: str, since: datetime,
                  until: datetime) -> list[ProfileRow]:
    """The stored hours of ``kind`` whose start is in ``[since, until)``, oldest first."""
    found = session.execute(
        select(WindowProfile.hour_start, WindowProfile.kind, WindowProfile.n_rows,
               WindowProfile.reference_digest, WindowProfile.format, WindowProfile.summary,
               WindowProfile.sketches)
        .where(WindowProfile.model_id == model_id, WindowProfile.kind == kind,
               WindowProfile.hour_start >= since, WindowProfile.hour_start < until)
        .order_by(WindowProfile.hour_start)
    ).all()
    return [ProfileRow(*r) for r in found]


def served_traffic(session: Session, model_id: int, since: datetime,
                   until: datetime) -> dict[datetime, int]:
    """``{hour_start: served predictions}`` from ``traffic_hourly`` (roles champion and
    unmanaged) for the hours in ``[since, until)`` that have any."""
    rows = session.execute(
        select(TrafficHourly.bucket_start, func.sum(TrafficHourly.n_predictions))
        .where(TrafficHourly.model_id == model_id, TrafficHourly.role.in_(SERVED_ROLES),
               TrafficHourly.bucket_start >= since, TrafficHourly.bucket_start < until)
        .group_by(TrafficHourly.bucket_start)
    ).all()
    return {h: int(n) for h, n in rows if n}


def prune_profiles(session: Session, model_id: int, before: datetime) -> int:
    """Delete the model's profiles (every kind) of hours starting before ``before``;
    returns the number of rows deleted."""
    result = session.execute(
        delete(WindowProfile).where(WindowProfile.model_id == model_id,
                                    WindowProfile.hour_start < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)

"""The request queue in ``job_requests``: enqueue, claim under a lease, renew, finish.

Storage only: what a request does when it runs is :mod:`lifecycle.jobs.requests`. Asking twice
queues once: ``open_key`` (kind, model, window) is unique while a request is pending or
running. Claiming is one ``UPDATE ... WHERE id = (oldest claimable) AND claimable RETURNING``
statement, atomic on SQLite and PostgreSQL; a running request whose owner stopped renewing
(``expires_at`` passed) is claimable again, up to :data:`MAX_ATTEMPTS` claims, then it fails
for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lifecycle.states import DONE, FAILED, PENDING, RUNNING
from lifecycle.storage.tables import JobRequest
from lifecycle.windows import Window

#: the request kind that calls ``[scheduler] retrain_function``
RETRAIN = "retrain"
#: claims of one request before it fails for good (its owner died this many times)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Enqueued:
    """The request that now stands for what was asked (``created`` False: it was queued
    already and still pending or running)."""

    request_id: int
    created: bool


@dataclass(frozen=True)
class ClaimedRequest:
    """A request this process owns until it finishes it or its lease expires."""

    id: int
    kind: str
    model: str
    window: Window | None
    details: dict[str, Any]
    attempt: int
    owner: str


def open_key(kind: str, model: str, window: Window | None) -> str:
    return f"{kind}|{model}|{window.key if window is not None else '-'}"


def enqueue(
    engine: Engine,
    kind: str,
    model: str,
    *,
    requested_by: str,
    now: datetime,
    window: Window | None = None,
    details: dict[str, Any] | None = None,
) -> Enqueued:
    """Queue ``kind`` for ``model`` (and ``window``, for a check); never runs it here.

    Returns the new request, or the one already pending or running for the same kind, model and
    window.
    """
    if not kind or not model:
        raise ValueError("a request needs a job kind and a model name")
    key = open_key(kind, model, window)
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(JobRequest).values(
        kind=kind, model_name=model, status=PENDING, open_key=key,
        window_start=window.start if window else None, window_end=window.end if window else None,
        requested_by=requested_by[:200], requested_at=now, attempts=0,
        details=dict(details or {}), result={},
    ).on_conflict_do_nothing(index_elements=["open_key"]).returning(JobRequest.id)
    with engine.begin() as conn:
        new_id = conn.execute(stmt).scalar()
        if new_id is not None:
            return Enqueued(int(new_id), True)
        existing = conn.execute(
            select(JobRequest.id).where(JobRequest.open_key == key)).scalar()
    if existing is None:  # it finished between the two statements: queue again
        return enqueue(engine, kind, model, requested_by=requested_by, now=now, window=window,
                       details=details)
    return Enqueued(int(existing), False)


def _claimable(now: datetime) -> Any:
    return or_(
        JobRequest.status == PENDING,
        and_(JobRequest.status == RUNNING, JobRequest.expires_at <= now),
    )


def claim_next(engine: Engine, *, owner: str, now: datetime, lease_seconds: float,
               models: frozenset[str] | None = None,
               only_id: int | None = None) -> ClaimedRequest | None:
    """Claim the oldest claimable request (of ``models``, if given; request ``only_id``, if
    given); None when there is none.

    A request whose owner stopped renewing is taken over; after :data:`MAX_ATTEMPTS` claims it
    is marked failed instead, and the next one is tried.
    """
    while True:
        claimable = _claimable(now)
        if models is not None:
            claimable = and_(claimable, JobRequest.model_name.in_(sorted(models)))
        if only_id is not None:
            claimable = and_(claimable, JobRequest.id == only_id)
        oldest = select(JobRequest.id).where(claimable)
        oldest_id = oldest.order_by(JobRequest.id).limit(1).scalar_subquery()
        stmt = (
            update(JobRequest)
            .where(JobRequest.id == oldest_id, claimable)
            .values(status=RUNNING, claimed_by=owner, claimed_at=now,
                    expires_at=now + timedelta(seconds=lease_seconds),
                    attempts=JobRequest.attempts + 1)
            .returning(JobRequest.id, JobRequest.kind, JobRequest.model_name,
                       JobRequest.window_start, JobRequest.window_end, JobRequest.details,
                       JobRequest.attempts)
        )
        with engine.begin() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                if conn.execute(select(JobRequest.id).where(claimable).limit(1)).first():
                    continue  # another process won that row; look again
                return None
        request_id, kind, model, start, end, details, attempts = row
        claimed = ClaimedRequest(int(request_id), kind, model,
                                 Window(start, end) if start is not None else None,
                                 dict(details or {}), int(attempts), owner)
        if claimed.attempt > MAX_ATTEMPTS:
            finish(engine, claimed, now=now, status=FAILED, result={},
                   error=f"gave up: claimed {MAX_ATTEMPTS} times and never finished "
                         "(its scheduler process died each time)")
            continue
        return claimed


def renew(engine: Engine, request: ClaimedRequest, *, now: datetime,
          lease_seconds: float) -> bool:
    """Push the request's expiry; False when another process has taken it over."""
    stmt = (update(JobRequest)
            .where(JobRequest.id == request.id, JobRequest.claimed_by == request.owner,
                   JobRequest.status == RUNNING)
            .values(expires_at=now + timedelta(seconds=lease_seconds)))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def finish(engine: Engine, request: ClaimedRequest, *, now: datetime, status: str,
           result: dict[str, Any], error: str | None = None) -> bool:
    """End a request we own (``done`` or ``failed``) and free its ``open_key``."""
    if status not in (DONE, FAILED):
        raise ValueError(f"status must be {DONE!r} or {FAILED!r}, got {status!r}")
    stmt = (update(JobRequest)
            .where(JobRequest.id == request.id, JobRequest.claimed_by == request.owner,
                   JobRequest.status == RUNNING)
            .values(status=status, open_key=None, finished_at=now, expires_at=now,
                    result=result, error=error[:4000] if error else None))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


__all__ = [
    "DONE", "FAILED", "MAX_ATTEMPTS", "PENDING", "RETRAIN", "RUNNING", "ClaimedRequest",
    "Enqueued", "claim_next", "enqueue", "finish", "open_key", "renew",
]

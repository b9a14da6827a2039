"""Leases: claim one (job, model, window) so that many scheduler processes run it once.

A lease is a row in ``job_leases`` with a unique ``(job_name, model_name, window_key)``. Claiming
is ONE statement, ``INSERT ... ON CONFLICT DO UPDATE ... WHERE <claimable> RETURNING``, which
SQLite (>= 3.35) and PostgreSQL both execute atomically:

* no row yet -> the insert wins, the caller owns the window;
* a row whose owner died (``status = 'running'`` and ``expires_at <= now``) or a failed window
  whose retry is due (``status = 'failed'`` and ``next_attempt_at <= now``) -> the update takes
  it over and counts the attempt;
* anything else (done, held by a live owner, failed for good, retry not yet due) -> no row
  comes back and the caller skips the window.

On PostgreSQL two concurrent claims serialise on the row lock and the loser re-evaluates the
``WHERE`` against the winner's row (READ COMMITTED), so it sees ``running`` and gets nothing.
On SQLite writers are serialised by the database lock. Times compare the claimer's clock to
the stored expiry: keep hosts in NTP sync and ``lease_seconds`` far above any clock skew.

A running job renews its lease (:func:`renew`) so a long job is not taken over; a dead process
stops renewing and its lease expires ``lease_seconds`` later.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lifecycle.states import DONE, FAILED, RUNNING
from lifecycle.storage.tables import JobLease

logger = logging.getLogger("lifecycle.jobs")

# Lease statuses (lifecycle.states.LEASE_STATUSES): ``failed`` with ``next_attempt_at`` NULL
# means "gave up" (terminal).


def make_owner() -> str:
    """``host:pid:random``: unique per process start, readable in ``lifecycle jobs``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Lease:
    """A claimed unit of work."""

    job_name: str
    model_name: str
    window_key: str
    owner: str
    attempt: int
    expires_at: datetime


@dataclass(frozen=True)
class LeaseState:
    """What the tick needs to know about an existing lease row."""

    window_key: str
    status: str
    owner: str
    attempts: int
    expires_at: datetime
    next_attempt_at: datetime | None

    def finished(self) -> bool:
        """Done, or failed with no retry left: never claimable again."""
        return self.status == DONE or (self.status == FAILED and self.next_attempt_at is None)

    def claimable(self, now: datetime) -> bool:
        if self.status == RUNNING:
            return self.expires_at <= now
        return (
            self.status == FAILED
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )


def _insert(bind: Engine | Connection) -> Any:
    return pg_insert if bind.dialect.name == "postgresql" else sqlite_insert


def _where(job_name: str, model_name: str, window_key: str) -> Any:
    return and_(
        JobLease.job_name == job_name,
        JobLease.model_name == model_name,
        JobLease.window_key == window_key,
    )


def claim(
    bind: Engine | Connection,
    job_name: str,
    model_name: str,
    window_key: str,
    *,
    owner: str,
    now: datetime,
    lease_seconds: float,
) -> Lease | None:
    """Claim the window, or take over an expired / retry-due lease. None when not claimable.

    ``bind`` may be a connection inside the caller's transaction (the runner claims and inserts
    its ``job_runs`` row in one commit).
    """
    expires = now + timedelta(seconds=lease_seconds)
    stmt = _insert(bind)(JobLease).values(
        job_name=job_name, model_name=model_name, window_key=window_key, owner=owner,
        status=RUNNING, attempts=1, acquired_at=now, expires_at=expires,
        next_attempt_at=None, last_error=None,
    )
    takeover = or_(
        and_(JobLease.status == RUNNING, JobLease.expires_at <= now),
        and_(
            JobLease.status == FAILED,
            JobLease.next_attempt_at.is_not(None),
            JobLease.next_attempt_at <= now,
        ),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["job_name", "model_name", "window_key"],
        set_={
            "owner": owner, "status": RUNNING, "attempts": JobLease.attempts + 1,
            "acquired_at": now, "expires_at": expires, "next_attempt_at": None,
        },
        where=takeover,
    ).returning(JobLease.attempts)
    if isinstance(bind, Connection):
        attempts = bind.execute(stmt).scalar()
    else:
        with bind.begin() as conn:
            attempts = conn.execute(stmt).scalar()
    if attempts is None:
        return None
    return Lease(job_name, model_name, window_key, owner, int(attempts), expires)


def renew(engine: Engine, lease: Lease, *, now: datetime, lease_seconds: float) -> bool:
    """Push the expiry of a lease we still own; False when it was lost (taken over)."""
    stmt = (
        update(JobLease)
        .where(_where(lease.job_name, lease.model_name, lease.window_key),
               JobLease.owner == lease.owner, JobLease.status == RUNNING)
        .values(expires_at=now + timedelta(seconds=lease_seconds))
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def release(
    bind: Engine | Connection,
    lease: Lease,
    *,
    now: datetime,
    status: str,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> bool:
    """Finish a lease: ``done``, or ``failed`` (retried at ``retry_at``; None = gave up).

    ``bind`` may be a connection inside the caller's transaction (the runner finishes its
    ``job_runs`` row and the lease atomically). Returns False when the lease had already been
    taken over by another owner (the work was done twice; the caller logs it).
    """
    if status not in (DONE, FAILED):
        raise ValueError(f"status must be {DONE!r} or {FAILED!r}, got {status!r}")
    stmt = (
        update(JobLease)
        .where(_where(lease.job_name, lease.model_name, lease.window_key),
               JobLease.owner == lease.owner, JobLease.status == RUNNING)
        .values(
            status=status,
            expires_at=now,
            next_attempt_at=retry_at if status == FAILED else None,
            last_error=error[:4000] if error else None,
        )
    )
    if isinstance(bind, Connection):
        return bind.execute(stmt).rowcount == 1
    with bind.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def lease_states(
    engine: Engine, job_name: str, model_name: str, *, from_key: str, size_s: int
) -> list[LeaseState]:
    """Lease rows of one job and model from ``from_key`` on, for windows of ``size_s``."""
    stmt = (
        select(JobLease.window_key, JobLease.status, JobLease.owner, JobLease.attempts,
               JobLease.expires_at, JobLease.next_attempt_at)
        .where(JobLease.job_name == job_name, JobLease.model_name == model_name,
               JobLease.window_key >= from_key, JobLease.window_key.like(f"%/{size_s}s"))
        .order_by(JobLease.window_key)
    )
    with engine.connect() as conn:
        return [LeaseState(*row) for row in conn.execute(stmt)]


def first_window_key(engine: Engine, job_name: str, model_name: str, *, size_s: int) -> str | None:
    """The earliest window ever claimed for this job, model and window size."""
    stmt = select(func.min(JobLease.window_key)).where(
        JobLease.job_name == job_name, JobLease.model_name == model_name,
        JobLease.window_key.like(f"%/{size_s}s"),
    )
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


def acquire_cooldown(
    engine: Engine,
    name: str,
    model_name: str,
    *,
    owner: str,
    now: datetime,
    cooldown: timedelta,
    note: str | None = None,
) -> bool:
    """A guard that passes at most once per ``cooldown`` per (name, model), across processes.

    Same single-statement upsert as :func:`claim` on the key ``(name, model, 'cooldown')``: it
    succeeds when there is no row or the previous one has expired.
    """
    stmt = _insert(engine)(JobLease).values(
        job_name=name, model_name=model_name, window_key="cooldown", owner=owner,
        status=DONE, attempts=1, acquired_at=now, expires_at=now + cooldown,
        next_attempt_at=None, last_error=note,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["job_name", "model_name", "window_key"],
        set_={"owner": owner, "attempts": JobLease.attempts + 1, "acquired_at": now,
              "expires_at": now + cooldown, "last_error": note},
        where=JobLease.expires_at <= now,
    ).returning(JobLease.id)
    with engine.begin() as conn:
        return conn.execute(stmt).scalar() is not None


class Heartbeat(threading.Thread):
    """Calls ``renew_once`` every ``lease_seconds / 3`` while a claimed unit of work runs
    (a window's lease, a queued request's claim); stops when it returns False (the claim was
    taken over: ``lost`` is then True). Errors are logged and retried: the claim may still be
    ours. Stop it with ``halt.set()``."""

    def __init__(self, renew_once: Callable[[], bool], lease_seconds: float, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.renew_once = renew_once
        self.interval = max(0.1, lease_seconds / 3)
        self.halt = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            try:
                if not self.renew_once():
                    self.lost = True
                    logger.error("%s was taken over by another process while running",
                                 self.name)
                    return
            except Exception:  # noqa: BLE001 - keep trying; the claim may still be ours
                logger.exception("could not renew %s", self.name)

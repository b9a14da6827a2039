"""Work asked for outside the schedule: queued as a ``job_requests`` row, run by a scheduler.

Whoever asks for long work - the retrain trigger after an alert, the dashboard's "run this
check now", the CLI - only calls :func:`enqueue`, which inserts one row and returns at once.
A scheduler process calls :func:`process_pending` on every poll
(``[scheduler] request_poll_seconds``, default 5 s, and once more in ``--once`` runs); it
claims requests one at a time under a lease and runs them in its own worker:

* ``pending`` -> ``running``: one ``UPDATE ... WHERE id = (oldest claimable) AND claimable
  RETURNING`` statement; a running request whose owner stopped renewing (``expires_at`` passed)
  is claimable again, up to :data:`MAX_ATTEMPTS` claims, then it fails for good;
* a check kind (``drift``, ``performance``, any kind in ``[scheduler.jobs]``) runs its window
  through :func:`lifecycle.jobs.runner.execute`, i.e. under the window's own lease with its
  ``job_runs`` row and alerts, exactly like a scheduled tick (a window already computed comes
  back ``skipped``);
* ``retrain`` calls ``[scheduler] retrain_function`` as ``fn(engine, settings, model,
  alert_id)`` and writes an ``audit_events`` row with the outcome;
* ``running`` -> ``done`` / ``failed`` with the result or the error.

Asking twice queues once: ``open_key`` (kind, model, window) is unique while a request is
pending or running, so at most one retrain per model is queued or running at any time.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifecycle.errors import ConfigError
from lifecycle.storage.tables import AuditEvent, JobRequest, Model
from lifecycle.windows import Window

logger = logging.getLogger("lifecycle.jobs")

#: request statuses
PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
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


@dataclass(frozen=True)
class RequestOutcome:
    """How one claimed request ended."""

    request_id: int
    kind: str
    model: str
    status: str
    result: dict[str, Any]
    error: str | None = None


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
               models: frozenset[str] | None = None) -> ClaimedRequest | None:
    """Claim the oldest claimable request (of ``models``, if given); None when there is none.

    A request whose owner stopped renewing is taken over; after :data:`MAX_ATTEMPTS` claims it
    is marked failed instead, and the next one is tried.
    """
    while True:
        claimable = _claimable(now)
        if models is not None:
            claimable = and_(claimable, JobRequest.model_name.in_(sorted(models)))
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


class _Renewer(threading.Thread):
    """Renews a claimed request every ``lease_seconds / 3`` while it runs."""

    def __init__(self, renew_once: Callable[[], bool], interval: float, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.renew_once, self.interval = renew_once, max(0.1, interval)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            try:
                if not self.renew_once():
                    logger.error("%s: request was taken over while running", self.name)
                    return
            except Exception:  # noqa: BLE001 - keep trying; the claim may still be ours
                logger.exception("%s: could not renew the request's lease", self.name)


def _run_retrain(ctx: Any, request: ClaimedRequest) -> dict[str, Any]:
    from lifecycle.jobs.registry import import_path

    function = ctx.settings.scheduler.retrain_function
    if function is None:
        raise ConfigError("a retrain was requested but [scheduler] retrain_function is not set "
                          "in lifecycle.toml: set it to 'package.module:function'")
    alert_id = request.details.get("alert_id")
    outcome: dict[str, Any] = {"function": function, "alert_id": alert_id,
                               "request_id": request.id}
    try:
        value = import_path(function)(ctx.engine, ctx.settings, request.model, alert_id)
        outcome.update(status="called", result=repr(value)[:500])
        logger.warning("retrain of %s ran (request %d, alert %s)", request.model, request.id,
                       alert_id)
    except Exception as exc:
        outcome.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        with Session(ctx.engine) as session, session.begin():
            model_id = session.scalar(select(Model.id).where(Model.name == request.model))
            session.add(AuditEvent(ts=ctx.clock(), actor="scheduler", action="retrain.run",
                                   model_id=model_id, target=f"request:{request.id}",
                                   details=outcome))
    return outcome


def _run_check(ctx: Any, request: ClaimedRequest) -> dict[str, Any]:
    from lifecycle.jobs.plan import manual_job
    from lifecycle.jobs.runner import execute

    if request.window is None:
        raise ValueError(f"a {request.kind!r} request needs a window")
    result = execute(ctx, manual_job(ctx.settings, request.kind, request.model), request.window)
    if result.error:
        raise RuntimeError(f"{request.kind} of {request.model} for {request.window} "
                           f"{result.status}: {result.error}")
    return {"status": result.status, "run_id": result.run_id, "window": request.window.key}


def run_request(ctx: Any, request: ClaimedRequest) -> RequestOutcome:
    """Run one claimed request and record how it ended. Never raises for the job's errors."""
    renewer = _Renewer(
        lambda: renew(ctx.engine, request, now=ctx.clock(), lease_seconds=ctx.lease_seconds),
        ctx.lease_seconds / 3, f"request-{request.id}")
    renewer.start()
    status, error, result = DONE, None, {}
    try:
        if request.kind == RETRAIN:
            result = _run_retrain(ctx, request)
        else:
            result = _run_check(ctx, request)
    except Exception as exc:  # noqa: BLE001 - a failed request must not stop the scheduler
        status, error = FAILED, f"{type(exc).__name__}: {exc}"
        result = {"traceback": traceback.format_exc()[-4000:]}
        logger.error("request %d (%s %s) failed: %s", request.id, request.kind, request.model,
                     error)
    finally:
        renewer.halt.set()
        renewer.join(timeout=5.0)
    if not finish(ctx.engine, request, now=ctx.clock(), status=status, result=result,
                  error=error):
        logger.error("request %d finished after it was taken over (ran twice)", request.id)
    return RequestOutcome(request.id, request.kind, request.model, status, result, error)


def process_pending(ctx: Any, *, models: frozenset[str] | None = None,
                    limit: int = 100) -> list[RequestOutcome]:
    """Claim and run pending requests (of ``models``; None: all) one by one until none is
    left, ``limit`` ran, or the process is stopping."""
    outcomes: list[RequestOutcome] = []
    while len(outcomes) < limit and not ctx.stopping.is_set():
        request = claim_next(ctx.engine, owner=ctx.owner, now=ctx.clock(),
                             lease_seconds=ctx.lease_seconds, models=models)
        if request is None:
            break
        outcomes.append(run_request(ctx, request))
    return outcomes


__all__ = [
    "DONE", "FAILED", "PENDING", "RETRAIN", "RUNNING", "ClaimedRequest", "Enqueued",
    "RequestOutcome", "claim_next", "enqueue", "finish", "process_pending", "renew",
    "run_request",
]

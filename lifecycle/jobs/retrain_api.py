"""``lifecycle.retrain(model, reason=...)``: ask for a retrain, and optionally wait for it.

The same path as ``lifecycle retrain MODEL`` and the dashboard: the request is queued
(:func:`lifecycle.jobs.retrain_trigger.request_retrain`, cooldown and de-duplication included).
With ``wait=True`` this process runs the request itself when no scheduler has claimed it yet
(so a laptop without a running scheduler still gets its retrain), otherwise it waits for the
scheduler that did, up to ``timeout`` seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.errors import LifecycleError
from lifecycle.jobs.requests import process_pending
from lifecycle.jobs.retrain_trigger import RetrainRequest, request_retrain
from lifecycle.jobs.runner import RunContext
from lifecycle.states import DONE, FAILED
from lifecycle.storage.audit import os_actor
from lifecycle.storage.retrain_repo import RetrainRow, list_runs
from lifecycle.storage.tables import JobRequest, RetrainRun
from lifecycle.storage.types import utcnow

__all__ = ["RetrainResult", "retrain", "wait_for_request"]

#: Seconds between looks at a request another process runs.
POLL_S = 1.0


class RetrainTimeout(LifecycleError, TimeoutError):
    """A retrain did not finish within the time waited for it."""


@dataclass(frozen=True)
class RetrainResult:
    """What :func:`retrain` did: the request, and with ``wait=True`` the retrain run it gave
    (``run`` None: not waited for, refused by the cooldown, or a ``retrain_function``
    override ran instead of the built-in retrain)."""

    request: RetrainRequest
    run: RetrainRow | None = None
    request_status: str | None = None
    request_error: str | None = None


def _request_state(engine: Engine, request_id: int) -> tuple[str, str | None]:
    with Session(engine) as session:
        row = session.execute(select(JobRequest.status, JobRequest.error)
                              .where(JobRequest.id == request_id)).one()
    return str(row[0]), row[1]


def _run_of(engine: Engine, request_id: int) -> RetrainRow | None:
    with Session(engine) as session:
        newest = session.scalar(select(RetrainRun.id).where(RetrainRun.request_id == request_id)
                                .order_by(RetrainRun.id.desc()).limit(1))
    found = list_runs(engine, run_ids=[newest]) if newest is not None else []
    return found[0] if found else None


def wait_for_request(ctx: RunContext, request_id: int, *, timeout: float | None,
                     sleep: Any = time.sleep) -> tuple[str, str | None]:
    """Run ``request_id`` here if nobody has claimed it, else wait until it ends."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        process_pending(ctx, only_id=request_id, limit=1)
        status, error = _request_state(ctx.engine, request_id)
        if status in (DONE, FAILED):
            return status, error
        if deadline is not None and time.monotonic() >= deadline:
            raise RetrainTimeout(
                f"request {request_id} is still {status} after {timeout:.0f} s (another "
                "scheduler process runs it); follow it with `lifecycle jobs --requests` or "
                "`lifecycle runs MODEL`")
        sleep(POLL_S)


def retrain(model: str, *, reason: str | None = None, wait: bool = True, force: bool = False,
            actor: str | None = None, settings: Settings | None = None,
            engine: Engine | None = None, registry: Any = None,
            timeout: float | None = None, now: datetime | None = None) -> RetrainResult:
    """Retrain ``model`` with its configured trainer (``[models.NAME.retrain]``).

    Parameters
    ----------
    model
        The model's name.
    reason
        Why (stored with the run, shown by ``lifecycle runs`` and the dashboard).
    wait
        Run it now in this process (or wait for the scheduler that took it) and return the
        finished run; ``False`` only queues it.
    force
        Ignore ``retrain_cooldown`` (a queued or running retrain still stands for this one).
    actor
        Who asks (default ``api:<OS user>``); audited.
    settings, engine, registry
        Defaults: :func:`lifecycle.load_settings`, the configured database (its schema is
        checked; a given engine is the caller's to check), the configured MLflow store.
    timeout
        Seconds to wait for a retrain another process runs (default: no limit).

    Raises
    ------
    ConfigError
        The model has no trainer.
    RetrainTimeout
        ``timeout`` passed while another process was still running it.
    """
    from lifecycle.config import load_settings
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import ensure_schema_current

    settings = settings or load_settings()
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    try:
        if own_engine:  # a caller's engine was checked when it was opened
            ensure_schema_current(engine)
        who = actor or os_actor("api")
        asked = request_retrain(engine, settings, model, actor=who, reason=reason,
                                now=now or utcnow(), force=force)
        if not wait or asked.request_id is None:
            return RetrainResult(asked)
        ctx = RunContext(engine=engine, settings=settings, registry=registry)
        status, error = wait_for_request(ctx, asked.request_id, timeout=timeout)
        return RetrainResult(asked, _run_of(engine, asked.request_id), status, error)
    finally:
        if own_engine:
            engine.dispose()


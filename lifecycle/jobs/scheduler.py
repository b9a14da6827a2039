"""APScheduler 3.x wiring, and nothing else.

* Job store: APScheduler's in-memory store. Jobs are rebuilt from the settings at every start,
  so nothing is ever unpickled from the database that serving processes write to (the old
  SQLAlchemy job store did that on every start; revision 0004 dropped its table). Catch-up after
  downtime comes from ``job_leases``, not from stored job state.
* One job per (kind, model) with the stable id ``"<kind>:<model>"`` calling
  ``lifecycle.jobs.tick:tick(kind, model)``, plus one ``requests`` job calling
  ``lifecycle.jobs.tick:poll_requests`` every ``request_poll_seconds``, which runs work queued
  in ``job_requests`` (retrains, "run this check now"). ``coalesce=True``,
  ``max_instances=1``, ``misfire_grace_time`` from settings.
* ``--model`` / ``scheduler.models`` limit which jobs a process runs; several processes may
  share the database with the same or different scopes.
* Exactly-once per window is NOT the job store's business: every tick claims its windows in
  ``job_leases``, and every queued request is claimed in ``job_requests``.
* :func:`run_scheduler` blocks until SIGINT/SIGTERM, then stops taking new windows, waits for
  running ones, drains webhook deliveries and returns. A second signal exits at once (leases of
  unfinished windows expire and another process takes them over).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterable
from datetime import UTC
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from lifecycle.config import JobSchedule, Settings
from lifecycle.errors import LifecycleError
from lifecycle.jobs.leases import make_owner
from lifecycle.jobs.plan import PlannedJob, build_plan
from lifecycle.jobs.retrain_trigger import validate_retraining
from lifecycle.jobs.runner import Clock, RunContext, RunResult
from lifecycle.storage.types import utcnow
from lifecycle.windows import ANCHOR

logger = logging.getLogger("lifecycle.jobs.scheduler")


class SchedulerDiedError(LifecycleError, RuntimeError):
    """APScheduler's thread stopped on its own; the process should be restarted."""


TICK_FUNCTION = "lifecycle.jobs.tick:tick"
POLL_FUNCTION = "lifecycle.jobs.tick:poll_requests"
#: APScheduler id of the job that runs queued requests
REQUESTS_JOB_ID = "requests"
#: How long shutdown waits for webhook deliveries still queued.
DRAIN_TIMEOUT_S = 30.0


def trigger_for(schedule: JobSchedule) -> BaseTrigger:
    """Cron, or an interval aligned to :data:`lifecycle.windows.ANCHOR` plus ``delay``."""
    if schedule.cron is not None:
        return CronTrigger.from_crontab(schedule.cron, timezone="UTC")
    assert schedule.every is not None
    return IntervalTrigger(seconds=schedule.every.total_seconds(),
                           start_date=ANCHOR + schedule.delay, timezone="UTC")


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    """A BackgroundScheduler with an in-memory job store, a thread pool and the job defaults."""
    cfg = settings.scheduler
    return BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=cfg.max_workers)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": cfg.misfire_grace_time_s},
        timezone=UTC,
    )


def register_jobs(scheduler: BackgroundScheduler, plan: Iterable[PlannedJob]) -> list[str]:
    """Add (or replace) one job per planned (kind, model); returns the ids."""
    ids = []
    for job in plan:
        scheduler.add_job(TICK_FUNCTION, trigger=trigger_for(job.schedule),
                          args=(job.kind.name, job.model), id=job.job_id, name=job.job_id,
                          replace_existing=True)
        ids.append(job.job_id)
    return ids


def register_request_poll(scheduler: BackgroundScheduler, settings: Settings) -> str:
    """Add the job that runs queued requests every ``request_poll_seconds``; returns its id."""
    scheduler.add_job(POLL_FUNCTION, trigger=IntervalTrigger(
                          seconds=settings.scheduler.request_poll_seconds, timezone="UTC"),
                      id=REQUESTS_JOB_ID, name=REQUESTS_JOB_ID, replace_existing=True)
    return REQUESTS_JOB_ID


def run_once(ctx: RunContext, plan: Iterable[PlannedJob],
             scope: frozenset[str] | None = None) -> list[RunResult]:
    """Run every due window of every planned job now, then the queued requests of ``scope``
    (None: every model), in this thread (``--once``)."""
    from lifecycle.jobs.requests import process_pending
    from lifecycle.jobs.tick import run_due

    results: list[RunResult] = []
    for job in plan:
        try:
            results += run_due(ctx, job)
        except Exception:  # noqa: BLE001 - one job's store problem must not stop the rest
            logger.exception("could not run due windows of %s", job.job_id)
    try:
        process_pending(ctx, models=scope)
    except Exception:  # noqa: BLE001 - e.g. the database is down: the next run retries
        logger.exception("could not run queued requests")
    return results


def run_scheduler(
    engine: Engine,
    settings: Settings,
    *,
    once: bool = False,
    models: Iterable[str] | None = None,
    clock: Clock = utcnow,
    stop: threading.Event | None = None,
) -> list[RunResult]:
    """Validate the plan, then run until stopped (or one pass with ``once=True``).

    Raises
    ------
    ConfigError
        Unknown model, unknown job kind, a function that cannot be imported (names the key).
    TrainerError
        A configured trainer or data loader that cannot be imported or has the wrong
        signature.
    """
    from lifecycle.alerts.delivery import AlertDispatcher
    from lifecycle.jobs import tick

    plan = build_plan(settings, only_models=models)
    chosen = list(models or ()) or list(settings.scheduler.models or ())
    scope = frozenset(chosen) if chosen else None
    validate_retraining(settings, scope)
    if not plan:
        logger.warning("no scheduled jobs: add e.g. [models.NAME.schedule.drift] every = '1h' "
                       "to lifecycle.toml")
    dispatcher = AlertDispatcher(engine, settings, background=True)
    ctx = RunContext(engine=engine, settings=settings, clock=clock, owner=make_owner(),
                     dispatcher=dispatcher)
    _reconcile_at_start(ctx)
    if once:
        try:
            return run_once(ctx, plan, scope)
        finally:
            dispatcher.close(DRAIN_TIMEOUT_S)
    stop = stop or threading.Event()
    restore = _install_signal_handlers(stop)
    tick.install(ctx, plan, scope)
    scheduler = build_scheduler(settings)
    died = False
    try:
        scheduler.start(paused=True)
        ids = [*register_jobs(scheduler, plan), register_request_poll(scheduler, settings)]
        scheduler.resume()
        logger.info("scheduler %s running %d job(s): %s", ctx.owner, len(ids), ", ".join(ids))
        while not stop.wait(0.5):
            thread = getattr(scheduler, "_thread", None)
            if thread is not None and not thread.is_alive():
                died = True
                break
    finally:
        ctx.stopping.set()
        logger.info("stopping: waiting for running windows to finish")
        if scheduler.running:
            scheduler.shutdown(wait=True)
        dispatcher.close(DRAIN_TIMEOUT_S)
        tick.uninstall()
        restore()
        logger.info("scheduler %s stopped", ctx.owner)
    if died:
        raise SchedulerDiedError(
            "the APScheduler thread died unexpectedly (see the log above); exiting non-zero "
            "so that a supervisor restarts the scheduler"
        )
    return []


def _reconcile_at_start(ctx: RunContext) -> None:
    """Finish or undo promotions a process left half done before this one started."""
    from lifecycle.jobs.reconcile import reconcile_pending

    try:
        reconcile_pending(ctx)
    except Exception:  # noqa: BLE001 - e.g. the database is down: the next poll retries
        logger.exception("could not reconcile pending promotions at start")


def _install_signal_handlers(stop: threading.Event) -> Any:
    """SIGINT/SIGTERM set ``stop``; a second one exits immediately. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            logger.warning("second signal: exiting now; unfinished leases will expire")
            os._exit(128 + signum)
        logger.info("received %s: shutting down cleanly", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore

"""APScheduler 3.x wiring, and nothing else.

* Job store: APScheduler's ``SQLAlchemyJobStore`` on the product's database and on the
  ``apscheduler_jobs`` table that OUR migration creates (:class:`LifecycleJobStore` never runs
  ``CREATE TABLE``, so schedulers starting together do not race on it, and tolerates another
  process updating or removing the same job).
* One job per (kind, model) with the stable id ``"<kind>:<model>"`` calling
  ``lifecycle.jobs.tick:tick(kind, model)``; ``replace_existing=True`` so a restart with a
  changed config replaces jobs, and jobs no longer configured are removed before processing
  starts. ``coalesce=True``, ``max_instances=1``, ``misfire_grace_time`` from settings.
* The store is shared, so any process may fire any stored job: ``--model`` /
  ``scheduler.models`` limit which jobs a process registers, while its tick executes every job
  configured in its settings (give all processes the same ``lifecycle.toml``).
* Exactly-once per window is NOT the job store's business (APScheduler 3 cannot share a store
  safely between processes): every tick claims its windows in ``job_leases``.
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
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from lifecycle.config import JobSchedule, Settings
from lifecycle.errors import LifecycleError
from lifecycle.jobs.plan import PlannedJob, build_plan
from lifecycle.jobs.runner import Clock, RunContext, RunResult
from lifecycle.leases import make_owner
from lifecycle.storage.tables import apscheduler_jobs
from lifecycle.storage.types import utcnow
from lifecycle.windows import ANCHOR

logger = logging.getLogger("lifecycle.scheduler")


class SchedulerDiedError(LifecycleError, RuntimeError):
    """APScheduler's thread stopped on its own; the process should be restarted."""


TICK_FUNCTION = "lifecycle.jobs.tick:tick"
#: How long shutdown waits for webhook deliveries still queued.
DRAIN_TIMEOUT_S = 30.0


class LifecycleJobStore(SQLAlchemyJobStore):
    """``SQLAlchemyJobStore`` on our migrated ``apscheduler_jobs`` table and shared engine."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine=engine, tablename="apscheduler_jobs")
        self.jobs_t = apscheduler_jobs  # the table our Alembic migration owns

    def start(self, scheduler: Any, alias: str) -> None:
        # Skip SQLAlchemyJobStore.start: it would run CREATE TABLE (checkfirst), which races
        # between processes and bypasses Alembic. The schema check at entry guarantees it.
        BaseJobStore.start(self, scheduler, alias)

    def update_job(self, job: Any) -> None:
        try:
            super().update_job(job)
        except JobLookupError:  # removed by another process's reconciliation
            logger.debug("job %s vanished from the store (another process removed it)", job.id)
        except SQLAlchemyError as exc:  # the tick is idempotent: a rerun is harmless
            logger.warning("could not update job %s in the store: %s", job.id, exc)

    def get_next_run_time(self) -> datetime | None:
        try:
            result: datetime | None = super().get_next_run_time()
            return result
        except SQLAlchemyError as exc:
            logger.warning("job store unavailable (%s); retrying in 10s", exc)
            return datetime.now(UTC) + timedelta(seconds=10)

    def shutdown(self) -> None:
        """The engine belongs to the caller: do not dispose it."""


def trigger_for(schedule: JobSchedule) -> BaseTrigger:
    """Cron, or an interval aligned to :data:`lifecycle.windows.ANCHOR` plus ``delay``."""
    if schedule.cron is not None:
        return CronTrigger.from_crontab(schedule.cron, timezone="UTC")
    assert schedule.every is not None
    return IntervalTrigger(seconds=schedule.every.total_seconds(),
                           start_date=ANCHOR + schedule.delay, timezone="UTC")


def build_scheduler(engine: Engine, settings: Settings) -> BackgroundScheduler:
    """A BackgroundScheduler with our job store, a thread pool and the job defaults."""
    cfg = settings.scheduler
    return BackgroundScheduler(
        jobstores={"default": LifecycleJobStore(engine)},
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


def remove_stale_jobs(scheduler: BackgroundScheduler, keep: Iterable[str]) -> list[str]:
    """Remove stored jobs that are no longer configured; returns their ids."""
    wanted = set(keep)
    removed = []
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            try:
                scheduler.remove_job(job.id)
                removed.append(job.id)
            except JobLookupError:
                pass
    return removed


def sync_jobs(scheduler: BackgroundScheduler, plan: list[PlannedJob],
              everything: list[PlannedJob]) -> tuple[list[str], list[str]]:
    """Register ``plan`` and remove stored jobs not configured at all (``everything``).

    Jobs configured but outside this process's scope (``--model``, ``scheduler.models``) are
    left alone: another process registers them. Returns (registered ids, removed ids).
    """
    ids = register_jobs(scheduler, plan)
    return ids, remove_stale_jobs(scheduler, [job.job_id for job in everything])


def run_once(ctx: RunContext, plan: Iterable[PlannedJob]) -> list[RunResult]:
    """Run every due window of every planned job now, in this thread (``--once``)."""
    from lifecycle.jobs.tick import run_due

    results: list[RunResult] = []
    for job in plan:
        try:
            results += run_due(ctx, job)
        except Exception:  # noqa: BLE001 - one job's store problem must not stop the rest
            logger.exception("could not run due windows of %s", job.job_id)
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
    """
    from lifecycle.alerts.delivery import AlertDispatcher
    from lifecycle.jobs import tick

    plan = build_plan(settings, only_models=models)
    # The job store is shared by every process on the database: this process may fire any
    # configured job (the lease decides who computes each window), so the tick knows them all.
    everything = build_plan(settings, check_imports=False, scoped=False)
    if not plan:
        logger.warning("no scheduled jobs: add e.g. [models.NAME.schedule.drift] every = '1h' "
                       "to lifecycle.toml")
    dispatcher = AlertDispatcher(engine, settings, background=True)
    ctx = RunContext(engine=engine, settings=settings, clock=clock, owner=make_owner(),
                     dispatcher=dispatcher)
    if once:
        try:
            return run_once(ctx, plan)
        finally:
            dispatcher.close(DRAIN_TIMEOUT_S)
    stop = stop or threading.Event()
    restore = _install_signal_handlers(stop)
    tick.install(ctx, everything)
    scheduler = build_scheduler(engine, settings)
    died = False
    try:
        scheduler.start(paused=True)
        ids, removed = sync_jobs(scheduler, plan, everything)
        if removed:
            logger.info("removed jobs no longer configured: %s", ", ".join(removed))
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

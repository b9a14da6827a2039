"""Run one job function for one model and one window, under a lease, recording the run.

:func:`execute` is the only place a job function is called, by the scheduler's tick and by
:func:`run_window` (manual runs, the demo's simulated clock):

1. in ONE transaction: claim ``(kind, model, window)`` in ``job_leases`` (skip when another
   process has it), mark runs of that window left ``running`` by a dead owner as ``lost``, and
   insert our ``job_runs`` row (``running``);
2. renew the lease from a heartbeat thread while the job runs;
3. call ``fn(engine, settings, model, window_start, window_end)`` (plus ``now=`` the run's
   clock and ``registry=`` the context's registry, for a function that declares them), then
   the kind's alert
   evaluator, deliver alert changes, and fire the retrain hook;
4. in ONE transaction: finish the ``job_runs`` row (status, duration, error, traceback) and
   release the lease (``done``, or ``failed`` with ``next_attempt_at = now + backoff`` where
   ``backoff = retry_backoff * 2**(attempt - 1)``; after ``max_attempts`` the window is given
   up).

A job that finds its window empty (no traffic) returns a result with ``empty = True``
(:class:`~lifecycle.jobs.outcome.EmptyWindow`): a normal outcome, recorded as ``job_runs``
status ``empty`` with the reason in ``result``; the lease is released ``done`` (never retried)
and nothing is shown red.

Any exception from the job is caught and recorded: it never reaches APScheduler, never stops
another model's job. ``now`` comes from an injectable clock.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, update

from lifecycle.alerts.policy import AlertChange
from lifecycle.config import JobSchedule, Settings
from lifecycle.jobs.kinds import ALERT_EVALUATORS, import_path
from lifecycle.jobs.leases import Heartbeat, Lease, claim, make_owner, release, renew
from lifecycle.jobs.outcome import is_empty
from lifecycle.jobs.plan import PlannedJob, manual_job
from lifecycle.registry.base import Registry
from lifecycle.registry.mlflow_store import registry_for
from lifecycle.states import DONE, EMPTY, FAILED, LOST, RUNNING, SKIPPED
from lifecycle.storage.tables import JobRun
from lifecycle.storage.types import utcnow
from lifecycle.windows import Window

logger = logging.getLogger("lifecycle.jobs")

Clock = Callable[[], datetime]

#: job_runs statuses (besides the lease's ``done`` and ``failed``, and ``empty``: a window
#: with nothing to check, see lifecycle.jobs.outcome)


@dataclass
class RunContext:
    """Dependencies of a run: passed in, never global (the scheduler installs one per process)."""

    engine: Engine
    settings: Settings
    clock: Clock = utcnow
    owner: str = field(default_factory=make_owner)
    dispatcher: Any = None
    stopping: threading.Event = field(default_factory=threading.Event)
    #: the model registry (built from settings at first use when None: :meth:`get_registry`)
    registry: Any = None

    def get_registry(self) -> Registry:
        """The registry of this context, made from the settings the first time it is needed
        (a test or the scheduler may have installed one)."""
        if self.registry is None:
            self.registry = registry_for(self.settings)
        registry: Registry = self.registry
        return registry

    @property
    def lease_seconds(self) -> float:
        return self.settings.scheduler.lease_seconds


@dataclass(frozen=True)
class RunResult:
    """The outcome of one window."""

    kind: str
    model: str
    window: Window
    status: str
    run_id: int | None = None
    attempt: int = 0
    duration_s: float | None = None
    error: str | None = None
    alerts: tuple[AlertChange, ...] = ()
    retrain: dict[str, Any] | None = None
    #: a re-run of the window (``+1d``), None for its first run
    rerun: str | None = None
    #: what the job function recorded (``job_runs.result``)
    result: dict[str, Any] = field(default_factory=dict)


def retry_at(schedule: JobSchedule, attempt: int, now: datetime) -> datetime | None:
    """When a failed attempt is retried; None once ``max_attempts`` are used up."""
    if attempt >= schedule.max_attempts:
        return None
    return now + schedule.retry_backoff * (2 ** (attempt - 1))


def _jsonable(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        try:
            text = json.dumps(value, default=str)
            if len(text) <= 20_000:
                loaded: dict[str, Any] = json.loads(text)
                return loaded
        except (TypeError, ValueError):
            pass
    if isinstance(value, bool | int | float | str):
        return {"value": value}
    return {"repr": repr(value)[:2000]}


def _job_kwargs(fn: Callable[..., Any], ctx: RunContext, rerun: str | None = None
                ) -> dict[str, Any]:
    """What the run offers a job function that asks for it by name: ``now`` (the run's
    clock: simulated in the demo and in tests), ``registry`` (the process's registry,
    when one is installed) and ``rerun`` (which re-run of the window this is, e.g. ``+1d``:
    :mod:`lifecycle.jobs.reruns`)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    kwargs: dict[str, Any] = {}
    if "now" in params:
        kwargs["now"] = ctx.clock()
    if "registry" in params and ctx.registry is not None:
        kwargs["registry"] = ctx.registry
    if "rerun" in params and rerun is not None:
        kwargs["rerun"] = rerun
    return kwargs


def lease_key(window: Window, rerun: str | None = None) -> str:
    """The lease key of a window's run: its window key, plus ``+<offset>`` for a re-run (a
    key the tick's window queries never match: they select keys ending in ``/<size>s``)."""
    return window.key if rerun is None else f"{window.key}+{rerun.removeprefix('+')}"


def _claim_and_start(ctx: RunContext, job: PlannedJob, window: Window,
                     rerun: str | None = None) -> tuple[Lease, int] | None:
    """Claim the window, mark a dead owner's run ``lost`` and insert ours: one commit."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        lease = claim(conn, job.kind.name, job.model, lease_key(window, rerun),
                      owner=ctx.owner, now=now, lease_seconds=ctx.lease_seconds)
        if lease is None:
            return None
        conn.execute(
            update(JobRun)
            .where(JobRun.job_name == job.kind.name, JobRun.model_name == job.model,
                   JobRun.window_start == window.start, JobRun.window_end == window.end,
                   JobRun.status == RUNNING, JobRun.owner != ctx.owner)
            .values(status=LOST, finished_at=now,
                    error=f"owner stopped renewing its lease; taken over by {ctx.owner}")
        )
        run_id = conn.execute(
            insert(JobRun).values(
                job_name=job.kind.name, model_name=job.model, window_start=window.start,
                window_end=window.end, status=RUNNING, owner=ctx.owner,
                attempt=lease.attempt, started_at=now,
                result={} if rerun is None else {"run": rerun},
            ).returning(JobRun.id)
        ).scalar_one()
    return lease, int(run_id)


def _after_success(ctx: RunContext, job: PlannedJob, window: Window
                   ) -> tuple[list[AlertChange], dict[str, Any] | None]:
    if job.kind.alerts is None:
        return [], None
    evaluator = import_path(ALERT_EVALUATORS[job.kind.alerts])
    changes: list[AlertChange] = evaluator(ctx.engine, ctx.settings, job.model, window.start,
                                           window.end, now=ctx.clock())
    for change in changes:
        if change.notify and ctx.dispatcher is not None:
            ctx.dispatcher.submit(change)
    from lifecycle.jobs.retrain_trigger import maybe_trigger_retrain

    retrain = maybe_trigger_retrain(ctx.engine, ctx.settings, job.model, changes,
                                    now=ctx.clock(), owner=ctx.owner)
    return changes, retrain


def execute(ctx: RunContext, job: PlannedJob, window: Window, *,
            rerun: str | None = None) -> RunResult:
    """Claim, run, record and release one window (``rerun``: a re-run of it, such as ``+1d``,
    under its own lease). Returns ``skipped`` when not claimable."""
    kind, model = job.kind.name, job.model
    claimed = _claim_and_start(ctx, job, window, rerun)
    if claimed is None:
        return RunResult(kind, model, window, SKIPPED, rerun=rerun)
    lease, run_id = claimed
    heartbeat = Heartbeat(
        lambda: renew(ctx.engine, lease, now=ctx.clock(), lease_seconds=ctx.lease_seconds),
        ctx.lease_seconds, f"lease {lease.job_name} {lease.model_name} {lease.window_key}")
    heartbeat.start()
    t0 = time.perf_counter()
    error: str | None = None
    tb: str | None = None
    result: Any = None
    changes: list[AlertChange] = []
    retrain: dict[str, Any] | None = None
    interrupted: BaseException | None = None
    try:
        fn = import_path(job.kind.function)
        result = fn(ctx.engine, ctx.settings, model, window.start, window.end,
                    **_job_kwargs(fn, ctx, rerun))
        changes, retrain = _after_success(ctx, job, window)
    except Exception as exc:  # noqa: BLE001 - isolate every failure
        error, tb = f"{type(exc).__name__}: {exc}", traceback.format_exc()
    except BaseException as exc:  # KeyboardInterrupt / SystemExit: record, then re-raise
        error, tb, interrupted = f"interrupted: {type(exc).__name__}", traceback.format_exc(), exc
    finally:
        heartbeat.halt.set()
        heartbeat.join(timeout=5.0)
    duration = time.perf_counter() - t0
    now = ctx.clock()
    status = DONE if error is None else FAILED
    run_status = EMPTY if error is None and is_empty(result) else status
    next_try = None if error is None or interrupted else retry_at(job.schedule, lease.attempt,
                                                                   now)
    if interrupted is not None:  # let another process retry soon
        next_try = now
    payload = _jsonable(result.to_dict() if hasattr(result, "to_dict") else result)
    if run_status == EMPTY:
        payload = {"outcome": EMPTY, "reason": payload.get("reason")
                   or "no data in the window"}
    if rerun is not None:
        payload["run"] = rerun
    if retrain is not None:
        payload["retrain"] = {k: v for k, v in retrain.items() if k != "traceback"}
    if changes:
        payload["alerts"] = [{"id": c.alert_id, "action": c.action} for c in changes]
    with ctx.engine.begin() as conn:
        kept = release(conn, lease, now=now, status=status, error=error, retry_at=next_try)
        if not kept:
            payload["lease_lost"] = True
        conn.execute(
            update(JobRun).where(JobRun.id == run_id).values(
                status=run_status, finished_at=now, duration_s=duration, error=error,
                traceback=tb[-20_000:] if tb else None, result=payload,
            )
        )
    if not kept:
        logger.error("%s %s %s finished after its lease was taken over (ran twice)",
                     kind, model, window)
    if error is None:
        logger.info("%s %s %s %s in %.3fs", kind, model, window, run_status, duration)
    else:
        when = f"retry at {next_try:%Y-%m-%d %H:%M:%S}Z" if next_try else "gave up"
        logger.error("%s %s %s failed (attempt %d, %s): %s", kind, model, window,
                     lease.attempt, when, error)
    if interrupted is not None:
        raise interrupted
    return RunResult(kind, model, window, run_status, run_id, lease.attempt, duration, error,
                     tuple(changes), retrain, rerun, payload)


def run_window(
    kind: str,
    engine: Engine,
    settings: Settings,
    model: str,
    window_start: datetime,
    window_end: datetime,
    *,
    clock: Clock | None = None,
    owner: str | None = None,
    dispatcher: Any = None,
) -> RunResult:
    """Run job ``kind`` for ``model`` on one window now, through leases, job_runs and alerts.

    The manual entry point (CLI, demo with a simulated clock). Alert deliveries go to the
    ``dispatcher`` if given, else they are delivered inline (log + webhook if configured).
    A window already done (or held by another process) comes back as ``skipped``.
    """
    job = manual_job(settings, kind, model)
    window = Window(window_start, window_end)
    if dispatcher is None:
        from lifecycle.alerts.delivery import AlertDispatcher

        dispatcher = AlertDispatcher(engine, settings, background=False)
    ctx = RunContext(engine=engine, settings=settings, clock=clock or utcnow,
                     owner=owner or make_owner(), dispatcher=dispatcher)
    return execute(ctx, job, window)


__all__ = ["RunContext", "RunResult", "execute", "lease_key", "retry_at", "run_window"]

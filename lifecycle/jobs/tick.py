"""The function APScheduler calls: ``lifecycle.jobs.tick:tick(kind, model)``.

APScheduler holds its jobs in memory, rebuilt from the settings at every start; the import
paths of :func:`tick` and :func:`poll_requests` stay stable all the same. A tick
does not compute "the window ending now": it asks the lease table which aligned windows are due
(:func:`lifecycle.windows.due_windows`) and runs each, oldest first, through
:func:`lifecycle.jobs.runner.execute`. So a late tick, a coalesced tick, a tick run by another
process, or the first tick after downtime all converge on the same windows, each computed once.

The engine, settings and clock of the process are installed by the scheduler with
:func:`install` (nothing is global at import time).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from lifecycle.jobs.leases import first_window_key, lease_states
from lifecycle.jobs.plan import PlannedJob
from lifecycle.jobs.runner import SKIPPED, RunContext, RunResult, execute
from lifecycle.windows import Window, due_windows, latest_closed, window_from_key

logger = logging.getLogger("lifecycle.jobs")


@dataclass
class _Installed:
    ctx: RunContext
    plan: dict[str, PlannedJob]
    scope: frozenset[str] | None = None


_lock = threading.Lock()
_installed: _Installed | None = None


def install(ctx: RunContext, plan: list[PlannedJob],
            scope: frozenset[str] | None = None) -> None:
    """Make ``ctx`` and ``plan`` the ones :func:`tick` uses in this process; ``scope`` limits
    the models whose queued requests :func:`poll_requests` runs (None: every model)."""
    global _installed
    with _lock:
        _installed = _Installed(ctx, {job.job_id: job for job in plan}, scope)


def uninstall() -> None:
    global _installed
    with _lock:
        _installed = None


def tick(kind: str, model: str) -> None:
    """APScheduler entry point. Never raises: failures are logged and recorded."""
    installed = _installed
    if installed is None:
        logger.error("tick(%s, %s) called with no scheduler context installed", kind, model)
        return
    job = installed.plan.get(f"{kind}:{model}")
    if job is None:
        logger.warning("job %s:%s is not in this process's plan (stale job store entry); "
                       "skipped", kind, model)
        return
    try:
        run_due(installed.ctx, job)
    except Exception:  # noqa: BLE001 - e.g. the database is down: retry on the next tick
        logger.exception("tick %s:%s failed before running a window; retrying next tick",
                         kind, model)


def poll_requests() -> None:
    """APScheduler entry point: run the queued requests (:mod:`lifecycle.jobs.requests`).

    Never raises: a failure is logged and the next poll tries again.
    """
    installed = _installed
    if installed is None:
        logger.error("poll_requests called with no scheduler context installed")
        return
    from lifecycle.jobs.requests import process_pending

    try:
        process_pending(installed.ctx, models=installed.scope)
    except Exception:  # noqa: BLE001 - e.g. the database is down: retry on the next poll
        logger.exception("could not run queued requests; retrying on the next poll")


def due(ctx: RunContext, job: PlannedJob) -> list[Window]:
    """Windows of ``job`` that are due and claimable now, oldest first."""
    schedule = job.schedule
    size_s = int(schedule.window.total_seconds())
    now = ctx.clock()
    last = latest_closed(now, schedule.window, schedule.delay)
    oldest = last.start - (schedule.catch_up - 1) * schedule.window
    earliest = Window(oldest, oldest + schedule.window)
    states = lease_states(ctx.engine, job.kind.name, job.model, from_key=earliest.key,
                          size_s=size_s)
    first: datetime | None
    if states and states[0].window_key == earliest.key:
        first = earliest.start  # steady state: one query, nothing older matters
    else:  # first run, a new model, or a gap reaching past the catch-up cap
        first_key = first_window_key(ctx.engine, job.kind.name, job.model, size_s=size_s)
        first = window_from_key(first_key).start if first_key else None
    finished = {s.window_key for s in states if s.finished()}
    blocked = {s.window_key for s in states if not s.finished() and not s.claimable(now)}
    windows = due_windows(now, schedule.window, delay=schedule.delay, first_known=first,
                          finished=finished, cap=schedule.catch_up)
    return [w for w in windows if w.key not in blocked]


def run_due(ctx: RunContext, job: PlannedJob) -> list[RunResult]:
    """Run every due window of ``job`` in order, then its due re-runs
    (:mod:`lifecycle.jobs.reruns`); stops early when the process is stopping."""
    from lifecycle.jobs.reruns import run_due_reruns

    results: list[RunResult] = []
    for window in due(ctx, job):
        if ctx.stopping.is_set():
            break
        result = execute(ctx, job, window)
        if result.status != SKIPPED:
            results.append(result)
    return [*results, *run_due_reruns(ctx, job)]

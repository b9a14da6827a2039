"""Re-runs of performance windows as labels keep arriving.

A performance window is computed when it closes, with the labels received by then (often a
small share). ``[models.NAME.performance] rerun_after`` (default ``["1d", "3d", "7d"]``) lists
when it is computed again, measured from the window's end. Each tick of the performance job,
after its due windows (:func:`lifecycle.jobs.tick.run_due`), runs the due re-runs:

* a window is re-run only once its first run is ``done`` (a lease in ``job_leases``), and not
  when that run found it empty (no prediction: ``job_runs`` status ``empty``);
* for each such window, the re-run due now is the **latest** offset with
  ``window_end + offset <= now``: after downtime the earlier offsets are not run one by one,
  only the latest, once;
* each re-run has its own lease, key ``<window key>+<offset>`` (``2026-03-01T00:00:00Z/86400s+3d``):
  two scheduler processes claim it atomically like any window (:mod:`lifecycle.jobs.leases`),
  so it runs once; a failed re-run is retried like a window;
* windows whose latest offset became due more than ``catch_up`` windows ago are left alone
  (the same cap as first runs after a long outage).

The job function receives ``rerun="+3d"`` (:func:`lifecycle.jobs.runner._job_kwargs`): the
performance check skips a window whose labels did not change since its report (recorded
``done``, ``outcome = unchanged``) and otherwise replaces the report, adding the run to its
coverage history. Alerts are evaluated on the replaced report through the usual path; a
window counts once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from lifecycle.config import Settings
from lifecycle.jobs.leases import LeaseState
from lifecycle.jobs.plan import PlannedJob
from lifecycle.jobs.runner import SKIPPED, RunContext, RunResult, execute, lease_key
from lifecycle.states import DONE, EMPTY
from lifecycle.storage.tables import JobLease, JobRun
from lifecycle.windows import Window, format_duration, window_from_key

__all__ = ["due_reruns", "rerun_label", "rerun_offsets", "run_due_reruns"]

#: job kind -> where its re-run offsets are configured
_RERUN_KINDS = ("performance",)


def rerun_offsets(settings: Settings, job: PlannedJob) -> tuple[timedelta, ...]:
    """The re-run offsets of ``job`` (only the performance job re-runs its windows)."""
    if job.kind.name not in _RERUN_KINDS or job.model not in settings.models:
        return ()
    offsets: tuple[timedelta, ...] = settings.model(job.model).performance.rerun_after
    return offsets


def rerun_label(offset: timedelta) -> str:
    """``+1d``, ``+3d``, ``+1w``: how a re-run is named in leases, job_runs and reports."""
    return f"+{format_duration(offset)}"


def _lease_states(ctx: RunContext, job: PlannedJob, from_key: str, size_s: int
                  ) -> tuple[list[LeaseState], dict[str, LeaseState]]:
    """The window leases (``<key>/<size>s``, in key order) and the re-run leases
    (``<key>/<size>s+<offset>``, by key) from ``from_key`` on: one range of the unique
    ``(job_name, model_name, window_key)`` index, read once."""
    window_suffix, rerun_infix = f"/{size_s}s", f"/{size_s}s+"
    stmt = (
        select(JobLease.window_key, JobLease.status, JobLease.owner, JobLease.attempts,
               JobLease.expires_at, JobLease.next_attempt_at)
        .where(JobLease.job_name == job.kind.name, JobLease.model_name == job.model,
               JobLease.window_key >= from_key, JobLease.window_key.like(f"%/{size_s}s%"))
        .order_by(JobLease.window_key)
    )
    windows: list[LeaseState] = []
    reruns: dict[str, LeaseState] = {}
    with ctx.engine.connect() as conn:
        for row in conn.execute(stmt):
            state = LeaseState(*row)
            if state.window_key.endswith(window_suffix):
                windows.append(state)
            elif rerun_infix in state.window_key:
                reruns[state.window_key] = state
    return windows, reruns


def _empty_windows(ctx: RunContext, job: PlannedJob, since: datetime) -> set[datetime]:
    """Starts of the windows whose first run found no prediction (nothing to re-run)."""
    stmt = select(JobRun.window_start).where(
        JobRun.job_name == job.kind.name, JobRun.model_name == job.model,
        JobRun.status == EMPTY, JobRun.window_start >= since)
    with ctx.engine.connect() as conn:
        return {row[0] for row in conn.execute(stmt) if row[0] is not None}


def due_reruns(ctx: RunContext, job: PlannedJob) -> list[tuple[Window, str]]:
    """``(window, "+3d")`` pairs to re-run now, oldest window first."""
    offsets = rerun_offsets(ctx.settings, job)
    if not offsets:
        return []
    schedule = job.schedule
    size = schedule.window
    size_s = int(size.total_seconds())
    now: datetime = ctx.clock()
    horizon = schedule.catch_up * size
    oldest_end = now - offsets[-1] - horizon
    from_key = Window(oldest_end - size, oldest_end).key
    windows, reruns = _lease_states(ctx, job, from_key, size_s)
    first_runs = [s for s in windows if s.status == DONE]
    if not first_runs:
        return []
    empty = _empty_windows(ctx, job, oldest_end - size)
    out: list[tuple[Window, str]] = []
    for state in first_runs:
        window = window_from_key(state.window_key)
        if window.start in empty:
            continue
        passed = [o for o in offsets if window.end + o <= now]
        if not passed or window.end + passed[-1] <= now - horizon:
            continue
        label = rerun_label(passed[-1])
        lease = reruns.get(lease_key(window, label))
        if lease is not None and (lease.finished() or not lease.claimable(now)):
            continue
        out.append((window, label))
    return out


def run_due_reruns(ctx: RunContext, job: PlannedJob) -> list[RunResult]:
    """Run every due re-run of ``job``; stops early when the process is stopping."""
    results: list[RunResult] = []
    for window, label in due_reruns(ctx, job):
        if ctx.stopping.is_set():
            break
        result = execute(ctx, job, window, rerun=label)
        if result.status != SKIPPED:
            results.append(result)
    return results

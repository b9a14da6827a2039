"""Pruning of the bookkeeping tables, run by the retention job (docs/retention.md).

* ``job_runs`` of the model that started more than ``job_runs_days`` ago;
* ``job_leases`` of the model whose status is final (``done``; ``failed`` with no retry left)
  and whose expiry is past the same horizon, and past the catch-up horizon of its job kind
  (``catch_up * window + delay``, plus the last ``rerun_after`` offset for ``performance``:
  the scheduler reads leases that recent to know which windows are done and which re-runs
  are due). A lease that is running (live or expired: a takeover is due) or waiting for a
  retry is never pruned, and neither is any older lease of the same job and model (the
  scheduler's "first window ever claimed" must not move past it);
* hourly profiles older than ``profile_days`` (when set), through
  ``lifecycle.storage.profile_repo.prune_profiles(session, model_id, before)`` when that
  module exists (:func:`prune_profiles`: the one hook to wire it).
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.states import DONE, FAILED
from lifecycle.storage.tables import JobLease, JobRun

__all__ = ["prune_job_runs", "prune_leases", "prune_profiles"]


def prune_job_runs(engine: Engine, model: str, before: datetime) -> int:
    """Delete the model's ``job_runs`` rows started before ``before``; returns the count."""
    with engine.begin() as conn:
        return int(conn.execute(delete(JobRun).where(JobRun.model_name == model,
                                                     JobRun.started_at < before)).rowcount)


def _horizon(settings: Settings, model: str, kind: str) -> timedelta:
    """How long the scheduler reads a finished lease: the catch-up horizon, plus (for the
    performance job) the last ``rerun_after`` offset: a window's done lease is what makes its
    late-label re-runs due (``jobs/reruns.py``)."""
    ms = settings.model(model)
    schedule = ms.schedule.jobs.get(kind)
    if schedule is None:
        return timedelta(0)
    reruns = ms.performance.rerun_after if kind == "performance" else ()
    return (schedule.window * schedule.catch_up + schedule.delay
            + (reruns[-1] if reruns else timedelta(0)))


def prune_leases(engine: Engine, settings: Settings, model: str, now: datetime,
                 keep: timedelta) -> int:
    """Delete the model's final leases expired more than ``keep`` (and their job's catch-up
    horizon) before ``now``; returns the count."""
    final = or_(JobLease.status == DONE,
                and_(JobLease.status == FAILED, JobLease.next_attempt_at.is_(None)))
    removed = 0
    with engine.begin() as conn:
        kinds = list(conn.execute(select(JobLease.job_name).where(
            JobLease.model_name == model).distinct()).scalars())
        for kind in kinds:
            before = now - max(keep, _horizon(settings, model, kind))
            mine = and_(JobLease.job_name == kind, JobLease.model_name == model)
            live = conn.execute(select(func.min(JobLease.window_key)).where(
                mine, ~final)).scalar()
            stmt = delete(JobLease).where(mine, final, JobLease.expires_at < before)
            if live is not None:  # keep everything from the oldest unfinished window on
                stmt = stmt.where(JobLease.window_key < live)
            removed += int(conn.execute(stmt).rowcount)
    return removed


def prune_profiles(engine: Engine, model_id: int, before: datetime) -> int | None:
    """Delete the model's hourly profiles older than ``before`` through
    ``lifecycle.storage.profile_repo.prune_profiles`` (the ``window_profiles`` table); None
    when that function does not exist in this installation."""
    try:
        repo = importlib.import_module("lifecycle.storage.profile_repo")
    except ModuleNotFoundError:
        return None
    fn = getattr(repo, "prune_profiles", None)
    if fn is None:
        return None
    with Session(engine) as session, session.begin():
        return int(fn(session, model_id, before) or 0)

"""The runner and the tick on real databases, with a simulated clock: job_runs rows, failure
isolation, retries with backoff, catch-up after a gap, takeover of a dead owner's window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from lifecycle.config import Settings
from lifecycle.jobs.leases import claim
from lifecycle.jobs.plan import build_plan
from lifecycle.jobs.runner import RunContext, run_window
from lifecycle.jobs.tick import run_due
from lifecycle.storage.tables import JobLease, JobRun
from lifecycle.windows import Window
from tests.integration.scheduler import jobfns

JOBS = """
[scheduler]
lease_seconds = 30
[scheduler.jobs]
rec = "tests.integration.scheduler.jobfns:record"
[models.good.schedule.rec]
every = "1h"
catch_up = 100
[models.broken.schedule.rec]
every = "1h"
max_attempts = 3
retry_backoff = "10m"
"""

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rows(engine: Engine, model: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(jobfns.runs.c.window_key)
                                 .where(jobfns.runs.c.model == model)
                                 .order_by(jobfns.runs.c.window_key)).scalars())


@pytest.fixture
def setup(db_url: str, engine: Engine, make_settings: Callable[..., Settings]
          ) -> tuple[Engine, Settings]:
    jobfns.create_table(engine)
    return engine, make_settings(db_url, JOBS)


def test_run_window_records_a_done_run_and_is_idempotent(setup: tuple[Engine, Settings]
                                                         ) -> None:
    engine, settings = setup
    clock = Clock(T0 + timedelta(hours=2))
    first = run_window("rec", engine, settings, "good", T0, T0 + timedelta(hours=1),
                       clock=clock)
    assert first.status == "done" and first.attempt == 1 and first.run_id is not None
    again = run_window("rec", engine, settings, "good", T0, T0 + timedelta(hours=1),
                       clock=clock)
    assert again.status == "skipped"
    assert rows(engine, "good") == [Window(T0, T0 + timedelta(hours=1)).key]
    with engine.connect() as conn:
        run = conn.execute(select(JobRun)).one()
    assert (run.status, run.job_name, run.model_name, run.result) == (
        "done", "rec", "good", {"rows": 1})
    assert run.duration_s is not None and run.duration_s >= 0


def test_failure_is_recorded_and_retried_with_backoff_then_given_up(
    setup: tuple[Engine, Settings],
) -> None:
    engine, settings = setup
    [broken, good] = build_plan(settings)
    clock = Clock(T0 + timedelta(hours=1, minutes=1))
    ctx = RunContext(engine=engine, settings=settings, clock=clock, owner="me")
    results = run_due(ctx, broken) + run_due(ctx, good)
    assert [(r.model, r.status) for r in results] == [("broken", "failed"), ("good", "done")]
    with engine.connect() as conn:
        run = conn.execute(select(JobRun).where(JobRun.model_name == "broken")).one()
    assert run.status == "failed" and "RuntimeError: boom for broken" in run.error
    assert "Traceback" in run.traceback and "jobfns.py" in run.traceback
    clock.now += timedelta(minutes=5)
    assert run_due(ctx, broken) == []  # backoff: not before 10 minutes
    clock.now += timedelta(minutes=5)
    assert [r.attempt for r in run_due(ctx, broken)] == [2]
    clock.now += timedelta(minutes=19)  # second backoff is 20 minutes
    assert run_due(ctx, broken) == []
    clock.now += timedelta(minutes=1)
    assert [r.attempt for r in run_due(ctx, broken)] == [3]
    clock.now += timedelta(days=1)  # gave up on the first window; later ones still run
    later = run_due(ctx, broken)
    assert later and all(r.window.start > T0 for r in later)
    with engine.connect() as conn:
        status = conn.execute(select(JobLease.status, JobLease.next_attempt_at)
                              .where(JobLease.model_name == "broken")
                              .order_by(JobLease.window_key)).first()
    assert tuple(status) == ("failed", None)
    assert len(run_due(ctx, good)) == 24  # the good model is unaffected: catches up
    assert len(rows(engine, "good")) == 25


def test_catch_up_after_a_gap_fills_every_window_once_in_order(
    setup: tuple[Engine, Settings],
) -> None:
    engine, settings = setup
    good = next(j for j in build_plan(settings) if j.model == "good")
    clock = Clock(T0 + timedelta(hours=3, minutes=2))
    ctx = RunContext(engine=engine, settings=settings, clock=clock, owner="me")
    assert [r.window.start for r in run_due(ctx, good)] == [T0 + timedelta(hours=2)]
    clock.now += timedelta(hours=10)  # scheduler down for 10 hours
    caught = run_due(ctx, good)
    assert [r.window.start for r in caught] == [T0 + timedelta(hours=h) for h in range(3, 13)]
    assert run_due(ctx, good) == []
    keys = rows(engine, "good")
    assert len(keys) == len(set(keys)) == 11
    with engine.connect() as conn:
        ids = conn.execute(select(JobRun.window_start).order_by(JobRun.id)).scalars().all()
    assert ids == sorted(ids)  # computed in order


def test_dead_owner_window_is_taken_over_and_its_run_marked_lost(
    setup: tuple[Engine, Settings],
) -> None:
    engine, settings = setup
    window = Window(T0, T0 + timedelta(hours=1))
    lease = claim(engine, "rec", "good", window.key, owner="dead:1:x", now=T0,
                  lease_seconds=30)
    assert lease is not None
    with engine.begin() as conn:
        conn.execute(JobRun.__table__.insert().values(  # type: ignore[attr-defined]
            job_name="rec", model_name="good", window_start=window.start,
            window_end=window.end, status="running", owner="dead:1:x", attempt=1,
            started_at=T0, result={}))
    early = run_window("rec", engine, settings, "good", window.start, window.end,
                       clock=Clock(T0 + timedelta(seconds=29)), owner="alive")
    assert early.status == "skipped"
    late = run_window("rec", engine, settings, "good", window.start, window.end,
                      clock=Clock(T0 + timedelta(seconds=31)), owner="alive")
    assert late.status == "done" and late.attempt == 2
    with engine.connect() as conn:
        runs = conn.execute(select(JobRun.owner, JobRun.status).order_by(JobRun.id)).all()
        n = conn.execute(select(func.count()).select_from(jobfns.runs)).scalar()
    assert [tuple(r) for r in runs] == [("dead:1:x", "lost"), ("alive", "done")]
    assert n == 1

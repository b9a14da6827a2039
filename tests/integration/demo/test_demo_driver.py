"""The demo's job driver: real runner, simulated clock, missing job kinds reported."""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.config import load_settings
from lifecycle.demo.driver import JobDriver
from lifecycle.demo.story import SimClock
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import JobRun

CONFIG = """
[scheduler.jobs]
custom = "lifecycle_no_such_module:run"

[models.m.schedule.drift]
every = "6h"
window = "6h"

[models.m.schedule.custom]
every = "1h"
"""


def test_driver_runs_due_windows_on_the_simulated_clock(sqlite_url: str,
                                                         tmp_path: Path) -> None:
    config = tmp_path / "lifecycle.toml"
    config.write_text(CONFIG)
    settings = load_settings(config, env={"LIFECYCLE_DATABASE_URL": sqlite_url}, cwd=tmp_path)
    engine = make_engine(sqlite_url)
    try:
        clock = SimClock(datetime(2026, 3, 2, 6, tzinfo=UTC))
        driver = JobDriver(engine, settings, "m", clock)
        assert driver.covered == ("drift",)
        assert "lifecycle_no_such_module" in driver.missing["custom"]
        first = driver.tick()
        # the first tick runs the latest closed window only; the model has no data, so the
        # real drift job fails and the runner records it (never raised into the demo)
        assert [(k, s) for k, _, _, s in first.ran] == [("drift", "failed")]
        assert first.failures and first.failures[0][0] == "drift"
        assert "m" in first.failures[0][2]
        clock.now += timedelta(hours=6)
        second = driver.tick()  # the failed window is retried (its backoff has passed)
        ends = [e for _, _, e, _ in second.ran]
        assert ends == [datetime(2026, 3, 2, 6, tzinfo=UTC), datetime(2026, 3, 2, 12, tzinfo=UTC)]
        with Session(engine) as session:
            runs = session.execute(
                select(JobRun.started_at, JobRun.attempt).order_by(JobRun.id)).all()
        stamped = [(t.replace(tzinfo=UTC) if t.tzinfo is None else t, a) for t, a in runs]
        six, noon = datetime(2026, 3, 2, 6, tzinfo=UTC), datetime(2026, 3, 2, 12, tzinfo=UTC)
        assert stamped == [(six, 1), (noon, 2), (noon, 1)]
    finally:
        engine.dispose()


STAMP_JOB = '''
def stamp(engine, settings, model, window_start, window_end, *, now, registry=None):
    return {"now": now.isoformat(), "registry": repr(registry)}
'''


def test_runner_hands_its_clock_and_registry_to_a_job_that_asks(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job function that declares ``now`` and ``registry`` gets the run's simulated clock
    and the driver's registry (the shadow job needs both on the demo's clock)."""
    (tmp_path / "demo_stamp_job.py").write_text(STAMP_JOB)
    monkeypatch.chdir(tmp_path)  # configured functions import from the working directory
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    importlib.invalidate_caches()
    config = tmp_path / "lifecycle.toml"
    config.write_text('[scheduler.jobs]\nstamp = "demo_stamp_job:stamp"\n\n'
                      '[models.m.schedule.stamp]\nevery = "6h"\n')
    settings = load_settings(config, env={"LIFECYCLE_DATABASE_URL": sqlite_url}, cwd=tmp_path)
    engine = make_engine(sqlite_url)
    try:
        clock = SimClock(datetime(2026, 3, 2, 6, tzinfo=UTC))
        driver = JobDriver(engine, settings, "m", clock, registry="the-demo-registry")
        assert driver.covered == ("stamp",), driver.missing
        ran = driver.tick()
        assert [(k, s) for k, _, _, s in ran.ran] == [("stamp", "done")]
        with Session(engine) as session:
            result = session.scalars(select(JobRun.result)).one()
        assert result == {"now": "2026-03-02T06:00:00+00:00",
                          "registry": "'the-demo-registry'"}
    finally:
        engine.dispose()
        sys.modules.pop("demo_stamp_job", None)

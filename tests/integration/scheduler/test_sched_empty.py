"""A window with no traffic is a normal outcome for every job: recorded as ``empty``, never
retried, never red (issue 15 §4). It used to be a failed drift job retried five times and
shown red, but ``done`` for the performance job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.drift_check import build_profile
from lifecycle.jobs.leases import DONE
from lifecycle.jobs.runner import run_window
from lifecycle.storage.drift_repo import save_profile
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import DriftReportRow, JobLease, JobRun, PerformanceReport

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = """
[models.quiet]
task = "classification"
[models.quiet.performance]
reference_since = "2026-02-01T00:00:00Z"
reference_until = "2026-02-02T00:00:00Z"
[models.quiet.schedule.drift]
every = "1h"
max_attempts = 5
[models.quiet.schedule.performance]
every = "1h"
max_attempts = 5
"""


@pytest.mark.parametrize("kind", ["drift", "performance"])
def test_an_empty_window_is_recorded_as_empty_not_failed(
    kind: str, db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, SETTINGS)
    rng = np.random.default_rng(0)
    with Session(engine) as session, session.begin():
        model_id = get_or_create_model(session, "quiet", "classification").id
        save_profile(session, model_id, build_profile(pd.DataFrame({"x": rng.normal(size=500)})),
                     source="test")
    result = run_window(kind, engine, settings, "quiet", T0, T0 + HOUR, clock=lambda: T0)
    assert result.status == "empty" and result.error is None

    with engine.connect() as conn:
        run = conn.execute(select(JobRun.status, JobRun.error, JobRun.result)).one()
        lease = conn.execute(select(JobLease.status, JobLease.next_attempt_at)).one()
        assert conn.execute(select(DriftReportRow.id)).first() is None
        assert conn.execute(select(PerformanceReport.id)).first() is None
    assert run.status == "empty" and run.error is None
    assert run.result["outcome"] == "empty" and run.result["reason"]
    assert lease.status == DONE and lease.next_attempt_at is None  # never retried

    again = run_window(kind, engine, settings, "quiet", T0, T0 + HOUR,
                       clock=lambda: T0 + 2 * HOUR)
    assert again.status == "skipped"  # the window is settled, like a done one


def test_the_dashboard_does_not_show_an_empty_window_red() -> None:
    from dashboard.charts import status_level

    assert status_level("empty") != "bad"
    assert status_level("failed") == "bad"

"""`lifecycle demo --no-serve` end to end, checked in the database it leaves behind.

One run (module fixture, ~30 s): 13 simulated days of 1,500 applications, covariate shift on
day 5 in income, credit_utilisation and employment_type, concept change on day 9. The real
capture, drift job, performance job, runner and alerts wrote the rows checked here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.demo.data import FEATURES, SHIFTED_FEATURES
from lifecycle.storage.tables import (
    Alert,
    DriftFeatureResult,
    DriftReportRow,
    JobRun,
    PerformanceMetric,
    PerformanceReport,
    PredictionBatch,
)

pytestmark = pytest.mark.slow

DAYS, SHIFT_DAY, CONCEPT_DAY = 13, 5, 9
UNCHANGED = [f for f in FEATURES if f not in SHIFTED_FEATURES]


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LIFECYCLE_") and k != "MLFLOW_TRACKING_URI"}
    env["LIFECYCLE_HOME"] = str(home)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("demo")
    folder = base / "lifecycle-demo"
    proc = subprocess.run(
        [sys.executable, "-m", "lifecycle.cli", "demo", "--no-serve", "--folder", str(folder),
         "--days", str(DAYS), "--rows-per-day", "1500", "--shift-day", str(SHIFT_DAY),
         "--concept-day", str(CONCEPT_DAY), "--seed", "7"],
        cwd=base, env=_clean_env(base / "home"), capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, f"demo failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return folder, proc.stdout


@pytest.fixture(scope="module")
def engine(demo_run: tuple[Path, str]) -> Iterator[Engine]:
    folder, _ = demo_run
    db = folder / "lifecycle.db"
    assert db.is_file()
    eng = create_engine(f"sqlite:///{db}")
    yield eng
    eng.dispose()


def _start(session: Session) -> datetime:
    """Day 0 00:00 of the simulation, read from the logged predictions themselves."""
    first = session.scalar(select(func.min(PredictionBatch.ts_min)))
    assert first is not None
    first = first.replace(tzinfo=UTC) if first.tzinfo is None else first
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def _flags(session: Session) -> list[tuple[datetime, datetime, str, set[str]]]:
    """(window_start, window_end, report verdict, drifting features) of every data report."""
    drifting: dict[int, set[str]] = defaultdict(set)
    for rid, feature in session.execute(
        select(DriftFeatureResult.report_id, DriftFeatureResult.feature)
        .where(DriftFeatureResult.verdict == "drift")
    ):
        drifting[rid].add(feature)
    return [
        (_aware(r.window_start), _aware(r.window_end), r.verdict, drifting[r.id])
        for r in session.scalars(select(DriftReportRow).where(DriftReportRow.kind == "data")
                                 .order_by(DriftReportRow.window_start))
    ]


def test_covariate_shift_flagged_after_the_change_and_not_before(engine: Engine) -> None:
    with Session(engine) as session:
        shift_at = _start(session) + timedelta(days=SHIFT_DAY)
        reports = _flags(session)
    before = [r for r in reports if r[1] <= shift_at]
    after = [r for r in reports if r[0] >= shift_at]
    assert len(before) >= 4 * (SHIFT_DAY - 1), "drift job did not run before the change"
    assert len(after) >= 4 * (DAYS - SHIFT_DAY - 1), "drift job did not run after the change"
    # not before: no feature at all is flagged in any window that ends by the change
    assert [(r[0], sorted(r[3])) for r in before if r[3]] == []
    assert all(r[2] != "drift" for r in before)
    # after: the first assessable window after the change flags exactly the shifted features
    first = next(r for r in after if r[2] != "insufficient_data")
    assert first[0] < shift_at + timedelta(hours=12)
    assert first[3] == set(SHIFTED_FEATURES) and first[2] == "drift"
    # ... and they stay flagged, while the unchanged features never are
    for feature in SHIFTED_FEATURES:
        share = sum(feature in r[3] for r in after) / len(after)
        assert share >= 0.9, (feature, share)
    flagged_unchanged = sorted({f for r in after for f in r[3]} & set(UNCHANGED))
    assert flagged_unchanged == []


def test_alerts_opened_for_the_shifted_features_only_after_the_change(engine: Engine) -> None:
    with Session(engine) as session:
        shift_at = _start(session) + timedelta(days=SHIFT_DAY)
        alerts = session.scalars(select(Alert).where(Alert.kind == "data_drift")).all()
    per_feature = {a.feature: _aware(a.first_seen) for a in alerts if a.feature}
    assert set(per_feature) == set(SHIFTED_FEATURES)
    assert all(shift_at < ts <= shift_at + timedelta(hours=12) for ts in per_feature.values())
    assert all(_aware(a.first_seen) > shift_at for a in alerts)


def test_jobs_ran_through_the_runner_on_the_simulated_clock(engine: Engine) -> None:
    with Session(engine) as session:
        start = _start(session)
        runs = session.execute(
            select(JobRun.job_name, JobRun.status, JobRun.started_at)
        ).all()
    by_kind = defaultdict(list)
    for name, status, started in runs:
        by_kind[name].append((status, _aware(started)))
    assert {"drift", "performance"} <= set(by_kind)
    assert all(s == "done" for s, _ in by_kind["drift"])
    # started_at is simulated time (inside the run), not the wall clock of the test
    end = start + timedelta(days=DAYS)
    assert all(start < t <= end for _, t in by_kind["drift"])


def test_concept_change_seen_by_roc_auc_only_after_it(engine: Engine) -> None:
    with Session(engine) as session:
        concept_at = _start(session) + timedelta(days=CONCEPT_DAY)
        rows = session.execute(
            select(PerformanceReport.window_start, PerformanceMetric.verdict)
            .join(PerformanceMetric, PerformanceMetric.report_id == PerformanceReport.id)
            .where(PerformanceMetric.metric == "roc_auc", PerformanceMetric.kind == "realised")
            .order_by(PerformanceReport.window_start)
        ).all()
    before = [v for ws, v in rows if _aware(ws) < concept_at]
    after = [v for ws, v in rows if _aware(ws) >= concept_at]
    worse = {"degraded", "worse"}  # the stored verdict of a significantly worse metric
    assert len(before) >= 3 and not worse & set(before)
    assert after and after[0] in worse


def test_story_and_summary_are_printed(demo_run: tuple[Path, str]) -> None:
    folder, out = demo_run
    assert f"day {SHIFT_DAY} 00:00: [world] covariate shift starts in" in out
    assert re.search(rf"day {SHIFT_DAY} (06|12):00: data drift detected on", out)
    for feature in SHIFTED_FEATURES:
        assert re.search(rf"covariate shift in {feature}: detected (6|12) h after it started",
                         out), feature
    assert "false alarms before the shift: 0 of" in out
    assert "concept change: detected by performance" in out
    assert "NOT covered" not in out
    assert (folder / ".lifecycle-demo").is_file() and (folder / "lifecycle.toml").is_file()


def test_refuses_to_wipe_a_folder_it_did_not_create(tmp_path: Path) -> None:
    precious = tmp_path / "project"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep")
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--folder", str(precious)])
    assert result.exit_code != 0
    assert "refusing to wipe" in result.output
    assert (precious / "notes.txt").read_text() == "keep"


@pytest.mark.parametrize("page", ["overview", "drift", "performance", "jobs"])
def test_dashboard_pages_render_the_demo_database(demo_run: tuple[Path, str], page: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    folder, _ = demo_run
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(folder / "lifecycle.toml"))
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", f"sqlite:///{folder / 'lifecycle.db'}")
    at = AppTest.from_string(f"from lifecycle.dashboard.views import {page}\n{page}.render()\n",
                             default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value

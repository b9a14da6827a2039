"""`lifecycle demo --no-serve` end to end, checked in what it leaves behind: the lifecycle
database and the MLflow store, read through MLflow's own client.

One run (module fixture, ~1-2 min): the default story, exactly what `make demo` shows before
serving: 42 simulated days of 3,000 applications, covariate shift on day 15 in income,
credit_utilisation and employment_type (the model owner's retrain is shadowed and rejected),
concept change on day 29 (the performance alert's retrain is shadowed and promoted). The real
capture, ManagedModel, drift/performance/shadow jobs, runner, request queue, retrain, registry
and promotion wrote every row checked here.
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
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.demo.data import FEATURES, SHIFTED_FEATURES
from lifecycle.demo.outcome import lineage_complete
from lifecycle.demo.story import OWNER
from lifecycle.storage.tables import (
    Alert,
    AuditEvent,
    DriftFeatureResult,
    DriftReportRow,
    JobRun,
    PerformanceMetric,
    PerformanceReport,
    PredictionBatch,
    PromotionEvent,
    RetrainRun,
    ShadowEvaluation,
)

#: the module's first test pays for the demo run (~2 min here; slower CI hosts need more than
#: the suite's 300 s per-test timeout, which counts fixture setup)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DAYS, SHIFT_DAY, CONCEPT_DAY = 42, 15, 29
MODEL = "credit_default"
UNCHANGED = [f for f in FEATURES if f not in SHIFTED_FEATURES]
REPO = Path(__file__).resolve().parents[3]


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
        [sys.executable, "-m", "lifecycle.cli", "demo", "--no-serve", "--folder", str(folder)],
        cwd=base, env=_clean_env(base / "home"), capture_output=True, text=True, timeout=900,
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


@pytest.fixture(scope="module")
def client(demo_run: tuple[Path, str]) -> Any:
    """MLflow's own client on the demo's store (not lifecycle's adapter)."""
    import mlflow

    folder, _ = demo_run
    return mlflow.MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def _start(session: Session) -> datetime:
    """Day 0 00:00 of the simulation, read from the logged predictions themselves."""
    first = session.scalar(select(func.min(PredictionBatch.ts_min)))
    assert first is not None
    return _aware(first).replace(hour=0, minute=0, second=0, microsecond=0)


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


def _versions(client: Any) -> dict[str, Any]:
    return {str(v.version): v for v in client.search_model_versions(f"name = '{MODEL}'")}


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
    for feature in SHIFTED_FEATURES:
        share = sum(feature in r[3] for r in after) / len(after)
        assert share >= 0.9, (feature, share)
    # features that never changed: at most an occasional false alarm (each one printed in the
    # summary), never a pattern
    for feature in UNCHANGED:
        assert sum(feature in r[3] for r in after) <= 0.02 * len(after), feature


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


def test_a_version_registered_from_the_logged_window_was_shadowed_and_promoted(
        engine: Engine, client: Any) -> None:
    champion = client.get_model_version_by_alias(MODEL, "champion")
    version = str(champion.version)  # MLflow's client answers an int here, text elsewhere
    assert version != "1", "the first champion was never replaced"
    tags = champion.tags
    assert tags["lifecycle.status"] == "champion" and tags["lifecycle.trigger"] == "alert"
    run = client.get_run(champion.run_id)
    assert run.info.status == "FINISHED"
    with Session(engine) as session:
        start = _start(session)
        retrain = session.scalars(select(RetrainRun).where(
            RetrainRun.registered_version == version)).one()
        evaluations = session.scalars(select(ShadowEvaluation).where(
            ShadowEvaluation.challenger_version == version)
            .order_by(ShadowEvaluation.id)).all()
        moves = session.scalars(select(PromotionEvent).where(
            PromotionEvent.to_version == version)).all()
    # registered from the logged window: the retrain's run, its window and its content hash
    assert retrain.status == "done" and retrain.mlflow_run_id == champion.run_id
    assert tags["lifecycle.retrain_id"] == str(retrain.id)
    assert tags["lifecycle.dataset_hash"].startswith(retrain.dataset_hash)
    assert int(run.data.params["n_logged"]) > 0 and int(run.data.params["n_labelled"]) >= 1000
    since = datetime.fromisoformat(run.data.params["window_since"])
    assert _aware(since) >= start + timedelta(days=CONCEPT_DAY)  # since the drift began
    assert run.data.metrics["holdout_roc_auc"] > run.data.metrics["champion_holdout_roc_auc"]
    # shadowed: the challenger answered live requests, paired with the champion's
    assert len(evaluations) >= 2 and evaluations[0].decision == "continue"
    decided = evaluations[-1]
    assert decided.decision == "promote" and decided.test.startswith("paired bootstrap")
    assert decided.p_value is not None and decided.metric_delta is not None
    assert decided.p_value < decided.details["decision"]["nominal_alpha"]
    assert decided.metric_delta >= 0.01 and decided.ci_low is not None and decided.ci_low > 0
    assert decided.n_paired >= 500
    # promoted on that test: the alias moved, the numbers are on the version
    assert [(m.action, m.status, m.evaluation_id) for m in moves] == [
        ("promote", "done", decided.id)]
    assert tags["lifecycle.evaluation_id"] == str(decided.id)
    assert float(tags["lifecycle.shadow.delta"]) == pytest.approx(decided.metric_delta)
    assert str(client.get_model_version_by_alias(MODEL, "previous").version) == "1"


def test_shadow_rows_were_logged_by_managed_model_under_the_champions_request_ids(
        demo_run: tuple[Path, str], engine: Engine, client: Any) -> None:
    from lifecycle.storage.window import load_window

    champion = str(client.get_model_version_by_alias(MODEL, "champion").version)
    meta = load_window(engine, MODEL, None, None, with_inputs=False).meta
    roles = meta.groupby(["role", "model_version"]).size().to_dict()
    assert roles[("challenger", champion)] > 0 and roles[("champion", champion)] > 0
    shadow = meta[meta["role"] == "challenger"]
    served = set(meta.loc[meta["role"] == "champion", "prediction_id"].astype(str))
    assert set(shadow["request_id"].astype(str)) <= served


def test_a_challenger_that_is_not_better_was_rejected(engine: Engine, client: Any) -> None:
    rejected = [v for v in _versions(client).values()
                if v.tags.get("lifecycle.status") == "rejected"]
    assert len(rejected) == 1
    version = rejected[0]
    assert not version.aliases and version.tags["lifecycle.actor"] == OWNER
    with Session(engine) as session:
        retrain = session.scalars(select(RetrainRun).where(
            RetrainRun.registered_version == str(version.version))).one()
        evaluations = session.scalars(select(ShadowEvaluation).where(
            ShadowEvaluation.challenger_version == str(version.version))
            .order_by(ShadowEvaluation.id)).all()
        audit = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "model.reject")).all()
        start = _start(session)
    assert retrain.trigger == "manual" and retrain.status == "done"
    final = evaluations[-1]
    assert final.decision == "reject" and [e.decision for e in evaluations[:-1]] == [
        "continue"] * (len(evaluations) - 1)
    # not better: the gain is below the gate's minimum effect, and the shadow ran before the
    # concept change (both versions learned the same rule)
    assert final.metric_delta is not None and final.metric_delta < 0.01
    assert _aware(final.created_at) < start + timedelta(days=CONCEPT_DAY)
    assert [a.target for a in audit] == [f"version:{version.version}"]


def test_lineage_of_the_final_champion_is_complete(demo_run: tuple[Path, str],
                                                   engine: Engine) -> None:
    from lifecycle.jobs.lineage import version_lineage
    from lifecycle.registry.mlflow_store import MlflowRegistry

    folder, _ = demo_run
    lineage = version_lineage(engine, MlflowRegistry(f"sqlite:///{folder / 'mlflow.db'}"),
                              MODEL)
    assert lineage_complete(lineage)
    assert lineage.alert is not None and lineage.retrain is not None
    assert lineage.run is not None and lineage.run.status == "FINISHED"
    assert [r.kind for r in lineage.reports] == ["performance"]
    assert lineage.reports[0].verdict == "degraded"
    assert lineage.alert.kind == "performance" and lineage.retrain.alert_id == lineage.alert.id
    assert lineage.retrain.registered_version == lineage.version.version
    assert lineage.run.run_id == lineage.retrain.mlflow_run_id
    assert lineage.evaluations[-1].decision == "promote"
    assert lineage.moves[-1].evaluation_id == lineage.evaluations[-1].id


def test_alerts_opened_for_the_shifted_features_only_after_the_change(engine: Engine) -> None:
    with Session(engine) as session:
        shift_at = _start(session) + timedelta(days=SHIFT_DAY)
        alerts = session.scalars(select(Alert).where(Alert.kind == "data_drift")).all()
    first = {a.feature: _aware(a.first_seen) for a in alerts if a.feature in SHIFTED_FEATURES}
    assert set(first) == set(SHIFTED_FEATURES)
    assert all(shift_at < ts <= shift_at + timedelta(hours=12) for ts in first.values())
    assert all(_aware(a.first_seen) > shift_at for a in alerts)


def test_jobs_ran_through_the_runner_on_the_simulated_clock(engine: Engine) -> None:
    with Session(engine) as session:
        start = _start(session)
        runs = session.execute(select(JobRun.job_name, JobRun.status, JobRun.started_at)).all()
        promoted = session.scalars(select(PromotionEvent)).one()
    by_kind = defaultdict(list)
    for name, status, started in runs:
        by_kind[name].append((status, _aware(started)))
    assert {"drift", "performance", "shadow"} <= set(by_kind)
    assert all(s == "done" for s, _ in by_kind["drift"])
    assert {s for s, _ in by_kind["shadow"]} == {"done", "empty"}
    # started_at is simulated time (inside the run), not the wall clock of the test
    end = start + timedelta(days=DAYS)
    assert all(start < t <= end for runs_ in by_kind.values() for _, t in runs_)
    assert start < _aware(promoted.created_at) <= end


def test_story_and_summary_are_printed(demo_run: tuple[Path, str]) -> None:
    folder, out = demo_run
    assert f"day {SHIFT_DAY} 00:00: [world] covariate shift starts in" in out
    assert re.search(rf"day {SHIFT_DAY} (06|12):00: data drift detected on", out)
    for feature in SHIFTED_FEATURES:
        assert re.search(rf"covariate shift in {feature}: detected (6|12) h after it started",
                         out), feature
    assert "false alarms before the shift: 0 of" in out
    assert "concept change: detected by performance" in out
    assert "registered credit_default version 1" in out and "alias:  champion" in out
    assert re.search(r"asks for a retrain .*queued as request", out)
    assert re.search(r"REJECTED version 2", out) and re.search(r"PROMOTED version 3", out)
    assert re.search(r"lineage of the champion v3 \(complete", out)
    assert re.search(r"after the promotion: 0\.\d+ / 0\.\d+ \([1-9]\d* days\)", out)
    assert "NOT covered" not in out
    assert (folder / ".lifecycle-demo").is_file() and (folder / "lifecycle.toml").is_file()
    # the trainer named in lifecycle.toml sits next to it, the same as examples/
    assert 'trainer = "credit_trainer:train"' in (folder / "lifecycle.toml").read_text()
    assert ((folder / "credit_trainer.py").read_bytes()
            == (REPO / "examples" / "credit_trainer.py").read_bytes())


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
    monkeypatch.setenv("LIFECYCLE_MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    at = AppTest.from_string(f"from lifecycle.dashboard.views import {page}\n{page}.render()\n",
                             default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value

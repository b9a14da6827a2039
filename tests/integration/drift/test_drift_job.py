"""Reference profiles and the drift job on real SQLite and PostgreSQL databases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _drift_data import DAY, T0, frame, write_window
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lifecycle.config import load_settings
from lifecycle.drift_check import build_profile
from lifecycle.errors import DataError
from lifecycle.jobs.drift import run_drift_check, run_drift_check_all
from lifecycle.jobs.outcome import EmptyWindow
from lifecycle.storage.drift_repo import load_active_profiles, save_profile
from lifecycle.storage.models_repo import get_model, get_or_create_model
from lifecycle.storage.tables import DriftFeatureResult, DriftReportRow, ReferenceProfileRow
from lifecycle.storage.window import load_window


def _settings(url: str, tmp_path: Path, extra: str = ""):  # noqa: ANN202
    cfg = tmp_path / "lifecycle.toml"
    cfg.write_text(
        "[models.churn]\ntask = \"classification\"\ncategorical = [\"plan\"]\n" + extra
    )
    return load_settings(cfg, env={"LIFECYCLE_DATABASE_URL": url,
                                   "LIFECYCLE_HOME": str(tmp_path)})


def _set_reference_from_window(engine: Engine, settings) -> None:  # noqa: ANN001
    window = load_window(engine, "churn", T0, T0 + DAY)
    with Session(engine) as s, s.begin():
        mid = get_model(s, "churn").id
        save_profile(s, mid, build_profile(window.inputs, categorical=["plan"]), kind="data",
                     source="test", window_start=T0, window_end=T0 + DAY)
        save_profile(s, mid, build_profile(window.outputs, categorical=["prediction"]),
                     kind="prediction", source="test", window_start=T0, window_end=T0 + DAY)


def _count(engine: Engine, table) -> int:  # noqa: ANN001
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_drift_job_flags_and_is_idempotent(engine: Engine, db_url: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    settings = _settings(db_url, tmp_path)
    write_window(engine, "churn", T0, frame(rng, 3000))
    write_window(engine, "churn", T0 + DAY, frame(rng, 3000, shift=1.0, missing_y=0.3,
                                                  new_level=0.1))
    write_window(engine, "churn", T0 + DAY, frame(rng, 500, shift=5.0), role="challenger")
    _set_reference_from_window(engine, settings)

    result = run_drift_check_all(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    data = result.reports["data"]
    assert data.verdict == "drift"
    assert data.n_current == 3000  # shadow traffic excluded
    assert set(data.drifted_features) == {"x", "y", "plan"}
    assert data.feature("y").stat("missing_share").level == "drift"
    assert data.feature("plan").unseen_categories[0][0] == "enterprise"
    assert result.reports["prediction"].kind == "prediction"
    # label drift is the performance job's (labels arrive after the window): not here at all
    assert "label" not in result.reports and "label" not in result.skipped

    reports_before = _count(engine, DriftReportRow)
    rows_before = _count(engine, DriftFeatureResult)
    assert reports_before == 2 and rows_before > 0
    again = run_drift_check_all(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert again.report_ids == result.report_ids
    assert _count(engine, DriftReportRow) == reports_before
    assert _count(engine, DriftFeatureResult) == rows_before

    with Session(engine) as s:
        row = s.scalar(select(DriftReportRow).where(DriftReportRow.id == result.report_ids["data"]))
        assert row is not None and row.verdict == "drift" and row.n_drifted == 3
        assert "enterprise" in str(row.summary["unseen_categories"])
        feat = s.scalar(select(DriftFeatureResult).where(
            DriftFeatureResult.report_id == row.id, DriftFeatureResult.feature == "x",
            DriftFeatureResult.statistic_name == "psi"))
        assert feat is not None and feat.threshold == 0.25 and feat.verdict == "drift"
        assert feat.details["bin_edges"] and feat.details["smoothing"]


def test_unshifted_window_is_no_drift(engine: Engine, db_url: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    settings = _settings(db_url, tmp_path)
    write_window(engine, "churn", T0, frame(rng, 4000))
    write_window(engine, "churn", T0 + DAY, frame(rng, 4000))
    _set_reference_from_window(engine, settings)
    report = run_drift_check(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert report.verdict == "no_drift", [f.reasons for f in report.features]


def test_bad_input_writes_nothing(engine: Engine, db_url: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    settings = _settings(db_url, tmp_path)
    write_window(engine, "churn", T0, frame(rng, 1000))
    with pytest.raises(DataError, match="no reference profile"):
        run_drift_check(engine, settings, "churn", T0, T0 + DAY)
    _set_reference_from_window(engine, settings)
    empty = run_drift_check(engine, settings, "churn", T0 + 5 * DAY, T0 + 6 * DAY)
    assert isinstance(empty, EmptyWindow) and "no served predictions" in empty.reason
    write_window(engine, "churn", T0 + 2 * DAY, frame(rng, 1000).drop(columns=["plan"]))
    with pytest.raises(DataError, match="plan"):
        run_drift_check(engine, settings, "churn", T0 + 2 * DAY, T0 + 3 * DAY)
    assert _count(engine, DriftReportRow) == 0
    assert _count(engine, DriftFeatureResult) == 0


def test_infinite_logged_values_are_a_signal_not_a_failure(engine: Engine, db_url: str,
                                                           tmp_path: Path) -> None:
    # issue 15: one +/-inf in logged inputs used to fail every check of the window with
    # advice ("replace them with NaN") that cannot be followed for logged data
    rng = np.random.default_rng(2)
    settings = _settings(db_url, tmp_path)
    write_window(engine, "churn", T0, frame(rng, 1000))
    _set_reference_from_window(engine, settings)
    bad = frame(rng, 1000)
    bad.loc[3, "x"] = np.inf
    write_window(engine, "churn", T0 + DAY, bad)
    report = run_drift_check(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    x = report.feature("x")
    inf = x.stat("infinite_share")
    assert inf.current_counts == (1, 999) and inf.reference_counts == (0, 1000)
    assert inf.level == "no_drift" and x.verdict == "no_drift"  # 0.1 points: immaterial
    with Session(engine) as s:
        stored = s.scalars(select(DriftFeatureResult).where(
            DriftFeatureResult.feature == "x",
            DriftFeatureResult.statistic_name == "infinite_share")).one()
        assert stored.statistic == pytest.approx(0.001)
    worse = frame(rng, 1000)
    worse.loc[:49, "x"] = -np.inf  # 5 points: drift
    write_window(engine, "churn", T0 + 2 * DAY, worse)
    report = run_drift_check(engine, settings, "churn", T0 + 2 * DAY, T0 + 3 * DAY)
    assert report.feature("x").verdict == "drift"
    assert report.feature("x").top_statistic == "infinite_share"


def test_insufficient_data_is_stored_as_such(engine: Engine, db_url: str,
                                             tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    settings = _settings(db_url, tmp_path, "[models.churn.drift]\nmin_samples = 200\n")
    write_window(engine, "churn", T0, frame(rng, 1000))
    write_window(engine, "churn", T0 + DAY, frame(rng, 50))
    _set_reference_from_window(engine, settings)
    report = run_drift_check(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert report.verdict == "insufficient_data"
    with Session(engine) as s:
        assert s.scalar(select(DriftReportRow.verdict).where(DriftReportRow.kind == "data")) == (
            "insufficient_data")


def test_profiles_roundtrip_and_replace_active(engine: Engine) -> None:
    rng = np.random.default_rng(4)
    prof = build_profile(frame(rng, 20_000), categorical=["plan"])
    with Session(engine) as s, s.begin():
        mid = get_or_create_model(s, "m").id
        first = save_profile(s, mid, prof, source="a")
        second = save_profile(s, mid, prof, source="b")
    with Session(engine) as s:
        active = load_active_profiles(s, mid)
        assert active["data"][0] == second != first
        assert active["data"][1].digest() == prof.digest()
        assert s.scalar(select(func.count()).select_from(ReferenceProfileRow).where(
            ReferenceProfileRow.is_active.is_(True))) == 1


def test_label_drift_is_computed_once_by_the_performance_job(engine: Engine, db_url: str,
                                                             tmp_path: Path) -> None:
    """One computation, one place: the drift job stores data and prediction drift, the
    performance job (which has the labels) stores label drift, both as drift reports."""
    from click.testing import CliRunner

    from lifecycle.cli import main
    from lifecycle.jobs.performance import run_performance_check

    rng = np.random.default_rng(5)
    settings = _settings(db_url, tmp_path)
    first, second = frame(rng, 1500), frame(rng, 1500)
    write_window(engine, "churn", T0, first,
                 labels=np.where(rng.random(1500) < 0.2, 1, 0))
    write_window(engine, "churn", T0 + DAY, second,
                 labels=np.where(rng.random(1500) < 0.6, 1, 0))
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "lifecycle.toml"), "reference", "set", "churn",
               "--since", "2026-03-01T00:00:00Z", "--until", "2026-03-02T00:00:00Z"],
        env={"LIFECYCLE_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.stderr
    assert "label profile" in result.stdout
    out = run_drift_check_all(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert set(out.reports) == {"data", "prediction"}
    assert out.reports["data"].verdict == "no_drift"
    perf = run_performance_check(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    label = perf.drift["label"]
    assert label["verdict"] == "drift" and label["drifted"] == ["label"]
    assert "prediction" not in perf.drift
    with Session(engine) as s:
        rows = {r.kind: r for r in s.scalars(select(DriftReportRow))}
        assert set(rows) == {"data", "prediction", "label"}
        assert rows["label"].id == label["report_id"] and rows["label"].verdict == "drift"
        assert rows["label"].reference_id is not None  # the stored label profile
        kinds = set(s.scalars(select(DriftFeatureResult.feature_type).where(
            DriftFeatureResult.report_id == rows["label"].id)))
        assert kinds == {"categorical"}
    again = run_performance_check(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert again.drift["label"]["report_id"] == label["report_id"]  # replaced, not duplicated


def test_label_drift_opens_its_alert_after_the_performance_job(engine: Engine, db_url: str,
                                                               tmp_path: Path) -> None:
    from lifecycle.jobs.runner import run_window
    from lifecycle.reference import set_reference
    from lifecycle.storage.tables import Alert

    rng = np.random.default_rng(6)
    settings = _settings(db_url, tmp_path)
    write_window(engine, "churn", T0, frame(rng, 1500),
                 labels=np.where(rng.random(1500) < 0.2, 1, 0))
    write_window(engine, "churn", T0 + DAY, frame(rng, 1500),
                 labels=np.where(rng.random(1500) < 0.6, 1, 0))
    set_reference(engine, settings.model("churn"), since=T0, until=T0 + DAY)
    result = run_window("performance", engine, settings, "churn", T0 + DAY, T0 + 2 * DAY,
                        clock=lambda: T0 + 3 * DAY)
    assert result.status == "done", result.error
    assert [(c.kind, c.action) for c in result.alerts if c.kind == "label_drift"] == [
        ("label_drift", "opened")]
    with Session(engine) as s:
        assert s.scalar(select(Alert.kind).where(Alert.status == "open",
                                                 Alert.kind == "label_drift")) == "label_drift"

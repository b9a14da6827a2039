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
from lifecycle.storage.drift_repo import load_active_profiles, save_profile
from lifecycle.storage.models_repo import get_model, get_or_create_model
from lifecycle.storage.tables import DriftFeatureResult, DriftReport, ReferenceProfile
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
    assert "label" in result.skipped

    reports_before = _count(engine, DriftReport)
    rows_before = _count(engine, DriftFeatureResult)
    assert reports_before == 2 and rows_before > 0
    again = run_drift_check_all(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert again.report_ids == result.report_ids
    assert _count(engine, DriftReport) == reports_before
    assert _count(engine, DriftFeatureResult) == rows_before

    with Session(engine) as s:
        row = s.scalar(select(DriftReport).where(DriftReport.id == result.report_ids["data"]))
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
    with pytest.raises(DataError, match="no served predictions"):
        run_drift_check(engine, settings, "churn", T0 + 5 * DAY, T0 + 6 * DAY)
    write_window(engine, "churn", T0 + 2 * DAY, frame(rng, 1000).drop(columns=["plan"]))
    with pytest.raises(DataError, match="plan"):
        run_drift_check(engine, settings, "churn", T0 + 2 * DAY, T0 + 3 * DAY)
    assert _count(engine, DriftReport) == 0
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
        assert s.scalar(select(DriftReport.verdict).where(DriftReport.kind == "data")) == (
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
        assert s.scalar(select(func.count()).select_from(ReferenceProfile).where(
            ReferenceProfile.is_active.is_(True))) == 1


def test_label_drift_from_outcomes(engine: Engine, db_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lifecycle.cli import main

    rng = np.random.default_rng(5)
    settings = _settings(db_url, tmp_path)
    write_window(engine, "churn", T0, frame(rng, 1500),
                 labels=rng.choice(["stay", "churn"], 1500, p=[0.8, 0.2]))
    write_window(engine, "churn", T0 + DAY, frame(rng, 1500),
                 labels=rng.choice(["stay", "churn"], 1500, p=[0.4, 0.6]))
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "lifecycle.toml"), "reference", "set", "churn",
               "--since", "2026-03-01T00:00:00Z", "--until", "2026-03-02T00:00:00Z"],
        env={"LIFECYCLE_DATABASE_URL": db_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "label profile" in result.stdout
    out = run_drift_check_all(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert out.reports["data"].verdict == "no_drift"
    label = out.reports["label"]
    assert label.verdict == "drift" and label.drifted_features == ("label",)
    assert label.feature("label").kind == "categorical"
    with Session(engine) as s:
        kinds = set(s.scalars(select(DriftReport.kind)))
    assert kinds == {"data", "prediction", "label"}

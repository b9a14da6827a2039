"""Importances of a wrapped estimator travel to the drift report (issue 15 §1): the writer
stores them in ``models.details`` with the first batch, the drift job and ``lifecycle drift
check`` show them beside the drifting features, and ``[models.NAME] feature_importances`` in
lifecycle.toml wins. Real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

import lifecycle
from lifecycle.cli import main
from lifecycle.config import load_settings
from lifecycle.jobs.drift import run_drift_check
from lifecycle.jobs.outcome import EmptyWindow
from lifecycle.reference import set_reference
from lifecycle.storage.tables import DriftFeatureResult, ModelRow

ensemble = pytest.importorskip("sklearn.ensemble")

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
FEATURES = ["age", "income", "tenure"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"age": rng.normal(40, 10, n) + shift * 10,
                         "income": rng.normal(0, 1, n), "tenure": rng.normal(5, 2, n)})


def _details(engine: Engine, model: str) -> dict[str, Any]:
    with Session(engine) as s:
        return dict(s.scalar(select(ModelRow.details).where(ModelRow.name == model)) or {})


def _importance_rows(engine: Engine) -> dict[str, Any]:
    with Session(engine) as s:
        rows = s.execute(select(DriftFeatureResult.feature, DriftFeatureResult.verdict,
                                DriftFeatureResult.details)).all()
    out: dict[str, Any] = {}
    for feature, verdict, details in rows:
        out[feature] = (verdict, details.get("importance"))
    return out


def _served(db_url: str, capture_to: Callable[..., Path]) -> tuple[Any, Clock, Any]:
    """A fitted forest wrapped and served: a reference day and a day where age shifted."""
    rng = np.random.default_rng(7)
    train = _frame(rng, 400)
    y = (train["age"] > 40).astype(int).to_numpy()
    forest = ensemble.RandomForestClassifier(n_estimators=10, random_state=0).fit(train, y)
    capture_to(db_url)
    clock = Clock(T0 + timedelta(hours=1))
    clf = lifecycle.monitor("churn", clock=clock)(forest)
    clf.predict_proba(_frame(rng, 1500))
    clock.now = T0 + DAY + timedelta(hours=1)
    clf.predict_proba(_frame(rng, 1500, shift=1.0))
    assert lifecycle.flush(20)
    return forest, clock, clf


def test_wrapped_forest_importances_reach_the_drift_report(
        db_url: str, engine: Engine, capture_to: Callable[..., Path], tmp_home: Path) -> None:
    forest, _, _ = _served(db_url, capture_to)
    details = _details(engine, "churn")
    expected = dict(zip(FEATURES, forest.feature_importances_ / forest.feature_importances_.sum(),
                        strict=True))
    assert details["feature_importances"] == pytest.approx(expected, rel=1e-12)
    assert details["feature_importances_source"] == "feature_importances_"
    assert "feature_importances_at" in details

    settings = load_settings()
    set_reference(engine, settings.model("churn"), since=T0, until=T0 + DAY)
    report = run_drift_check(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert not isinstance(report, EmptyWindow)
    assert report.ranked_features[0].feature == "age"
    assert report.feature("age").importance == pytest.approx(expected["age"], rel=1e-12)
    stored = _importance_rows(engine)
    assert stored["age"][0] == "drift"
    assert stored["age"][1] == pytest.approx(expected["age"], rel=1e-12)
    assert stored["income"][1] == pytest.approx(expected["income"], rel=1e-12)

    result = CliRunner().invoke(main, ["drift", "check", "churn", "--since",
                                       "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z"],
                                env={"LIFECYCLE_DATABASE_URL": db_url}, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    header = next(line for line in result.stdout.splitlines() if line.startswith("feature"))
    age_line = next(line for line in result.stdout.splitlines() if line.startswith("age "))
    column = header.index("importance")  # the table's cells are left-aligned
    assert age_line[column:].split()[0] == f"{expected['age']:.4g}", (header, age_line)


def test_toml_importances_win_over_the_estimators(
        db_url: str, engine: Engine, capture_to: Callable[..., Path], tmp_home: Path) -> None:
    _served(db_url, capture_to)
    (tmp_home.parent / "lifecycle.toml").write_text(
        "[models.churn]\nfeature_importances = {age = 0.05, income = 0.9, tenure = 0.05}\n")
    settings = load_settings()
    assert settings.model("churn").feature_importances == (
        ("age", 0.05), ("income", 0.9), ("tenure", 0.05))
    set_reference(engine, settings.model("churn"), since=T0, until=T0 + DAY)
    report = run_drift_check(engine, settings, "churn", T0 + DAY, T0 + 2 * DAY)
    assert not isinstance(report, EmptyWindow)
    assert report.feature("age").importance == 0.05
    assert report.feature("income").importance == 0.9
    assert _importance_rows(engine)["age"] == ("drift", 0.05)


def test_a_refit_model_wrapped_again_replaces_the_stored_importances(
        db_url: str, engine: Engine, capture_to: Callable[..., Path], tmp_home: Path) -> None:
    _, clock, clf = _served(db_url, capture_to)
    rng = np.random.default_rng(3)
    # written once per writer and model: later batches of the same estimator write nothing
    with engine.begin() as conn:
        conn.execute(update(ModelRow).where(ModelRow.name == "churn").values(details={}))
    clf.predict(_frame(rng, 10))
    assert lifecycle.flush(20)
    assert _details(engine, "churn") == {}

    train = _frame(rng, 400)
    refit = ensemble.RandomForestClassifier(n_estimators=10, random_state=1).fit(
        train, (train["tenure"] > 5).astype(int).to_numpy())
    again = lifecycle.monitor("churn", clock=clock)(refit)
    again.predict(_frame(rng, 10))
    assert lifecycle.flush(20)
    stored = _details(engine, "churn")["feature_importances"]
    assert max(stored, key=stored.__getitem__) == "tenure"
    assert stored["tenure"] == pytest.approx(
        refit.feature_importances_[2] / refit.feature_importances_.sum(), rel=1e-12)

"""The README's decorator form on a real classifier: a function returning ``predict_proba``
is logged as class probabilities when it names its classes, and the performance check
evaluates it as a classifier (issue 15 §2). Without the classes the check says how to fix it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

import lifecycle
from lifecycle.capture import runtime
from lifecycle.cli import main
from lifecycle.config import load_settings
from lifecycle.errors import DataError
from lifecycle.jobs.performance import run_performance_check
from lifecycle.storage.window import load_window

datasets = pytest.importorskip("sklearn.datasets")
linear = pytest.importorskip("sklearn.linear_model")
pipeline = pytest.importorskip("sklearn.pipeline")
preprocessing = pytest.importorskip("sklearn.preprocessing")

DAY1 = datetime(2025, 5, 1, tzinfo=UTC)  # reference period
DAY2 = DAY1 + timedelta(days=1)  # the window checked
DAY3 = DAY2 + timedelta(days=1)


def _config(url: str, task: str | None) -> str:
    return (f'database_url = "{url}"\n'
            "[capture]\nflush_interval_s = 0.02\nhandle_sigterm = false\n"
            "[models.cancer]\n"
            + (f'task = "{task}"\n' if task else "")
            + "[models.cancer.performance]\n"
            f"reference_since = {DAY1:%Y-%m-%dT%H:%M:%SZ}\n"
            f"reference_until = {DAY2:%Y-%m-%dT%H:%M:%SZ}\n"
            "n_boot = 60\n")


@pytest.fixture
def cancer() -> tuple[Any, pd.DataFrame, np.ndarray]:
    """A real fitted classifier on scikit-learn's bundled breast-cancer data."""
    data = datasets.load_breast_cancer(as_frame=True)
    frame, y = data.data, data.target.to_numpy()
    model = pipeline.make_pipeline(preprocessing.StandardScaler(),
                                   linear.LogisticRegression(max_iter=1000))
    model.fit(frame.iloc[::2], y[::2])
    return model, frame, y


@pytest.fixture
def served(tmp_home: Path, sqlite_url: str) -> Iterator[Callable[[str | None], None]]:
    """``served(task)`` writes lifecycle.toml with that task and resets capture to read it."""

    def setup(task: str | None) -> None:
        runtime.reset()
        Path("lifecycle.toml").write_text(_config(sqlite_url, task))

    yield setup
    runtime.reset()


def _serve(model: Any, frame: pd.DataFrame, clock: list[datetime], **monitor: Any) -> Any:
    """The README's form: the decorator on a function that returns ``predict_proba``."""

    @lifecycle.monitor("cancer", id_column="patient_id", clock=lambda: clock[0], **monitor)
    def predict(features: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(features.drop(columns="patient_id"))

    for start in range(0, len(frame), 50):
        predict(frame.iloc[start:start + 50])
    return predict


def _traffic(model: Any, frame: pd.DataFrame, y: np.ndarray, *, flip: bool,
             **monitor: Any) -> None:
    """Every patient scored on day 1 (reference) and again on day 2 under new ids; labels
    for both days, the day-2 labels all flipped when ``flip``."""
    clock = [DAY1 + timedelta(hours=1)]
    ref = frame.assign(patient_id=np.arange(len(frame)))
    _serve(model, ref, clock, **monitor)
    clock[0] = DAY2 + timedelta(hours=1)
    cur = frame.assign(patient_id=np.arange(len(frame)) + 100_000)
    _serve(model, cur, clock, **monitor)
    assert lifecycle.flush(30)
    lifecycle.log_outcomes("cancer", ref["patient_id"], y, received_at=DAY1 + timedelta(hours=2))
    lifecycle.log_outcomes("cancer", cur["patient_id"], 1 - y if flip else y,
                           received_at=DAY2 + timedelta(hours=2))


@pytest.mark.parametrize("task", [None, "classification"])
def test_readme_decorator_with_classes_is_evaluated_as_a_classifier(
    served: Callable[[str | None], None], cancer: tuple[Any, pd.DataFrame, np.ndarray],
    sqlite_url: str, engine_for: Callable[[str], Engine], task: str | None,
) -> None:
    model, frame, y = cancer
    served(task)
    _traffic(model, frame, y, flip=False, classes=[0, 1])
    engine = engine_for(sqlite_url)
    outputs = load_window(engine, "cancer", DAY2, DAY3, with_headline=True)
    assert {"proba_0", "proba_1", "prediction"} <= set(outputs.outputs.columns)
    expected = model.predict_proba(frame)
    np.testing.assert_allclose(outputs.outputs["proba_1"].to_numpy(), expected[:, 1])
    assert outputs.meta["output_label"].tolist() == [str(c) for c in expected.argmax(axis=1)]

    settings = load_settings()
    fine = run_performance_check(engine, settings, "cancer", DAY2, DAY3, persist=False)
    assert fine.task == "classification"  # inferred from the predicted class when unset
    assert fine.verdict == "fine" and fine.exit_code == 0
    assert fine.comparison is not None
    assert fine.comparison.metric("accuracy").value == pytest.approx(
        float(np.mean(expected.argmax(axis=1) == y)))


def test_flipped_labels_report_degraded_through_the_cli(
    served: Callable[[str | None], None], cancer: tuple[Any, pd.DataFrame, np.ndarray],
) -> None:
    model, frame, y = cancer
    served(None)  # no task configured: the logged classes make it a classifier
    _traffic(model, frame, y, flip=True, classes=[0, 1])
    # labels for keys that were never logged are accepted for a known model, counted apart
    lifecycle.log_outcomes("cancer", ["ghost-1", "ghost-2", "ghost-3"], [0, 1, 0],
                           received_at=DAY2 + timedelta(hours=3))
    result = CliRunner().invoke(main, ["performance", "cancer", "--no-save",
                                       "--since", f"{DAY2:%Y-%m-%dT%H:%M:%SZ}",
                                       "--until", f"{DAY3:%Y-%m-%dT%H:%M:%SZ}"])
    assert result.exit_code == 1, result.output
    assert "task classification" in result.output
    assert "labels for unknown keys 3" in result.output
    assert "verdict: DEGRADED" in result.output


@pytest.mark.parametrize("task", [None, "classification"])
def test_probabilities_without_classes_get_one_clear_message(
    served: Callable[[str | None], None], cancer: tuple[Any, pd.DataFrame, np.ndarray],
    sqlite_url: str, engine_for: Callable[[str], Engine], task: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model, frame, y = cancer
    served(task)
    with caplog.at_level(logging.WARNING, logger="lifecycle.capture"):
        _traffic(model, frame, y, flip=True)  # no classes=: two unnamed columns per row
    warnings = [r.getMessage() for r in caplog.records if "output_0..output_1" in r.getMessage()]
    # once per monitor at its first batch (one monitor per day)
    assert len(warnings) == 2
    assert "classes=[...]" in warnings[0] and "'cancer'" in warnings[0]

    engine = engine_for(sqlite_url)
    stored = load_window(engine, "cancer", DAY2, DAY3, with_headline=True)
    assert {"output_0", "output_1"} <= set(stored.outputs.columns)
    # no headline: P(class 0) is not passed off as a regression prediction
    assert stored.meta["output_value"].isna().all() and stored.meta["output_label"].isna().all()
    with pytest.raises(DataError) as err:
        run_performance_check(engine, load_settings(), "cancer", DAY2, DAY3, persist=False)
    message = str(err.value)
    assert "@lifecycle.monitor('cancer', classes=[...])" in message
    assert 'output="proba"' in message and "not a class" not in message

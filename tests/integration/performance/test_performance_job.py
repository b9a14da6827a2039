"""run_performance_check on real databases with generated data where the truth is known."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from _perf_data import (
    T0,
    classifier_data,
    make_settings,
    timestamps,
    write_classifier,
    write_outcomes,
    write_predictions,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lifecycle.errors import DataError
from lifecycle.jobs.drift import run_drift_check_all
from lifecycle.jobs.performance import run_performance_check
from lifecycle.reference import set_reference
from lifecycle.storage.tables import ChangePoint, PerformanceMetric, PerformanceReport
from lifecycle.storage.window import load_window

DAY = timedelta(days=1)


def _count(engine: Engine, table) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_concept_change_is_caught_while_data_drift_stays_quiet(engine: Engine) -> None:
    from lifecycle.drift_check import check_drift

    rng = np.random.default_rng(1)
    write_classifier(engine, "clf", T0, classifier_data(rng, 3000))
    before = classifier_data(rng, 1500)
    after = classifier_data(rng, 1500, flip=True)  # same inputs, relation flipped
    current = {k: np.concatenate([before[k], after[k]]) for k in before}
    write_classifier(engine, "clf", T0 + DAY, current)
    settings = make_settings(str(engine.url), "clf", "classification")

    result = run_performance_check(engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)

    assert result.verdict == "degraded" and result.exit_code == 1
    assert result.comparison is not None
    assert result.comparison.metric("accuracy").worse
    assert result.comparison.metric("roc_auc").worse
    detectors = {c.detector for c in result.change_points}
    assert detectors == {"page_hinkley", "ddm", "adwin"}
    first = {d: min(c.stream_index for c in result.change_points if c.detector == d)
             for d in detectors}
    assert all(1500 <= i < 1800 for i in first.values()), first
    # data drift and prediction drift stay quiet: only the relation moved
    ref_inputs = load_window(engine, "clf", T0, T0 + DAY).inputs
    cur_inputs = load_window(engine, "clf", T0 + DAY, T0 + 2 * DAY).inputs
    assert check_drift(ref_inputs, cur_inputs).verdict != "drift"
    # prediction drift is the drift job's (one computation, one place): quiet too
    set_reference(engine, settings.model("clf"), since=T0, until=T0 + DAY, kinds=("data",
                                                                                "prediction"))
    checked = run_drift_check_all(engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)
    assert checked.reports["prediction"].verdict != "drift"
    assert "prediction" not in result.drift
    # persisted for the dashboard
    assert _count(engine, PerformanceReport) == 1
    with Session(engine) as s:
        report = s.scalars(select(PerformanceReport)).one()
        assert report.verdict == "degraded"
        assert report.label_coverage == pytest.approx(1.0)
        kinds = set(s.scalars(select(PerformanceMetric.kind)))
        assert kinds == {"realised", "estimated"}
        acc = s.scalars(select(PerformanceMetric).where(PerformanceMetric.metric == "accuracy",
                                                        PerformanceMetric.kind == "realised")).one()
        assert acc.verdict == "degraded" and acc.p_value is not None and acc.p_value < 1e-6
        assert acc.ci_low is not None and acc.ci_high is not None
        assert acc.ci_low < acc.value < acc.ci_high
        assert acc.reference_value is not None and acc.reference_value > 0.75
        assert "two-proportion" in acc.details["test"]
        assert "prediction_drift" not in report.summary
        assert report.summary["estimate"]["assumption"].startswith("Estimated without labels")
        assert _count(engine, ChangePoint) >= 3


def test_stationary_model_raises_nothing_over_many_windows(sqlite_engine: Engine) -> None:
    rng = np.random.default_rng(2)
    write_classifier(sqlite_engine, "clf", T0, classifier_data(rng, 3000))
    settings = make_settings(str(sqlite_engine.url), "clf", "classification", n_boot=60)
    for w in range(1, 7):
        write_classifier(sqlite_engine, "clf", T0 + w * DAY, classifier_data(rng, 1500))
    verdicts = []
    for w in range(1, 7):
        result = run_performance_check(sqlite_engine, settings, "clf", T0 + w * DAY,
                                       T0 + (w + 1) * DAY)
        verdicts.append(result.verdict)
        assert result.change_points == ()
        assert result.estimate_verdict == "no sign of degradation"
    assert verdicts == ["fine"] * 6


@pytest.mark.parametrize(("shift", "scale"), [(0.0, 0.25), (1.5, 1.0)])
def test_covariate_shift_moves_the_estimate_with_the_true_accuracy(
    sqlite_engine: Engine, shift: float, scale: float
) -> None:
    rng = np.random.default_rng(3)
    write_classifier(sqlite_engine, "clf", T0, classifier_data(rng, 4000))
    cur = classifier_data(rng, 3000, shift=shift, scale=scale)
    write_classifier(sqlite_engine, "clf", T0 + DAY, cur)
    settings = make_settings(str(sqlite_engine.url), "clf", "classification")
    result = run_performance_check(sqlite_engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)
    assert result.estimate is not None and result.comparison is not None
    true_move = result.comparison.metric("accuracy").difference
    est_move = result.estimate.accuracy - result.estimate.reference_accuracy
    assert abs(true_move) > 0.05
    assert np.sign(est_move) == np.sign(true_move)
    assert result.estimate.accuracy == pytest.approx(result.comparison.metric("accuracy").value,
                                                     abs=0.03)


def test_regression_concept_change(sqlite_engine: Engine) -> None:
    rng = np.random.default_rng(4)

    def world(n: int, slope: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = rng.normal(0, 1, n)
        return x, 2 * x, slope * x + rng.normal(0, 0.5, n) + 10

    for day, slopes in ((0, (2.0, 2.0)), (1, (2.0, 3.0))):
        x1, p1, y1 = world(1000, slopes[0])
        x2, p2, y2 = world(1000, slopes[1])
        x, pred, y = np.concatenate([x1, x2]), np.concatenate([p1, p2]) + 10, np.concatenate(
            [y1, y2])
        ts = timestamps(T0 + day * DAY, 2000, DAY)
        keys = write_predictions(sqlite_engine, "reg", "regression", ts, {"x": x},
                                 values=pred.tolist())
        write_outcomes(sqlite_engine, "reg", keys, y.tolist(), T0 + 3 * DAY)
    settings = make_settings(str(sqlite_engine.url), "reg", "regression")
    result = run_performance_check(sqlite_engine, settings, "reg", T0 + DAY, T0 + 2 * DAY)
    assert result.verdict == "degraded"
    assert result.comparison is not None and result.comparison.metric("mae").worse
    found = {c.detector: c.stream_index for c in result.change_points}
    assert "ddm" not in found  # 0/1 streams only
    assert set(found) == {"page_hinkley", "adwin"}
    assert all(i >= 1000 for i in found.values())


def test_rerun_replaces_the_report(sqlite_engine: Engine) -> None:
    rng = np.random.default_rng(5)
    write_classifier(sqlite_engine, "clf", T0, classifier_data(rng, 2000))
    write_classifier(sqlite_engine, "clf", T0 + DAY, classifier_data(rng, 2000, flip=True))
    settings = make_settings(str(sqlite_engine.url), "clf", "classification", n_boot=50)
    first = run_performance_check(sqlite_engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)
    counts = [_count(sqlite_engine, t) for t in (PerformanceReport, PerformanceMetric,
                                                  ChangePoint)]
    second = run_performance_check(sqlite_engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)
    assert second.report_id == first.report_id
    assert [_count(sqlite_engine, t) for t in (PerformanceReport, PerformanceMetric,
                                               ChangePoint)] == counts


def test_window_without_labels_says_so_and_writes_nothing(sqlite_engine: Engine) -> None:
    rng = np.random.default_rng(6)
    write_classifier(sqlite_engine, "clf", T0, classifier_data(rng, 1000))
    write_classifier(sqlite_engine, "clf", T0 + DAY, classifier_data(rng, 500), label_at=False)
    settings = make_settings(str(sqlite_engine.url), "clf", "classification")
    result = run_performance_check(sqlite_engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)
    assert result.verdict == "no labels" and result.exit_code == 2
    assert result.coverage["coverage"] == 0.0
    assert result.estimate is not None and result.estimate.n == 500  # label-free estimate
    assert result.estimate_verdict in ("no sign of degradation", "likely degraded")
    assert result.to_dict()["estimate"]["accuracy"] == result.estimate.accuracy
    assert _count(sqlite_engine, PerformanceReport) == 0
    empty = run_performance_check(sqlite_engine, settings, "clf", T0 + 5 * DAY, T0 + 6 * DAY)
    assert empty.verdict == "no data" and empty.exit_code == 2 and empty.empty


def test_labels_of_the_wrong_type_raise_and_write_nothing(sqlite_engine: Engine) -> None:
    ts = timestamps(T0, 100, DAY)
    keys = write_predictions(sqlite_engine, "reg", "regression", ts, {"x": list(range(100))},
                             values=[1.0] * 100)
    write_outcomes(sqlite_engine, "reg", keys, ["high"] * 100, T0 + 2 * DAY)
    settings = make_settings(str(sqlite_engine.url), "reg", "regression")
    with pytest.raises(DataError, match="not a number"):
        run_performance_check(sqlite_engine, settings, "reg", T0, T0 + DAY)

    clf_keys = write_predictions(sqlite_engine, "clf", "classification", ts,
                                 {"x": list(range(100))}, labels=[1] * 100)
    write_outcomes(sqlite_engine, "clf", clf_keys, [0.37] * 100, T0 + 2 * DAY)
    clf_settings = make_settings(str(sqlite_engine.url), "clf", "classification")
    with pytest.raises(DataError, match="not a class"):
        run_performance_check(sqlite_engine, clf_settings, "clf", T0, T0 + DAY)
    assert _count(sqlite_engine, PerformanceReport) == 0


def test_probabilities_that_do_not_sum_to_one_raise(sqlite_engine: Engine) -> None:
    ts = timestamps(T0, 100, DAY)
    keys = write_predictions(sqlite_engine, "clf", "classification", ts,
                             {"x": list(range(100))}, labels=[1] * 100,
                             proba={"0": [0.5] * 100, "1": [0.7] * 100})
    write_outcomes(sqlite_engine, "clf", keys, [1] * 100, T0 + 2 * DAY)
    settings = make_settings(str(sqlite_engine.url), "clf", "classification")
    with pytest.raises(DataError, match="do not sum to one"):
        run_performance_check(sqlite_engine, settings, "clf", T0, T0 + DAY)
    assert _count(sqlite_engine, PerformanceReport) == 0


def test_missing_reference_period_is_a_clear_error(sqlite_engine: Engine) -> None:
    from lifecycle.config import Settings

    ts = timestamps(T0, 10, DAY)
    write_predictions(sqlite_engine, "clf", "classification", ts, {"x": list(range(10))},
                      labels=[1] * 10)
    settings = Settings(home=sqlite_engine.url and __import__("pathlib").Path("."),
                        database_url=str(sqlite_engine.url), mlflow_tracking_uri="x")
    with pytest.raises(DataError, match="reference_since"):
        run_performance_check(sqlite_engine, settings, "clf", T0, T0 + DAY)

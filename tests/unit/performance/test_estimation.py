"""Calibration and label-free performance estimation under covariate and concept shift."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.errors import DataError
from lifecycle.performance import (
    BinnedCalibration,
    PerformanceEstimator,
    classification_sample,
    compute_metrics,
    pav,
)
from lifecycle.performance.estimation import ASSUMPTION


def _world(rng, n, *, shift=0.0, scale=1.0, overconfident=1.0, flip=False):
    x = rng.normal(shift, scale, n)
    truth = 1 / (1 + np.exp(-2 * x))
    y = (rng.random(n) < truth).astype(int)
    if flip:
        y = 1 - y
    model_p = 1 / (1 + np.exp(-2 * overconfident * x))  # a miscalibrated model when != 1
    return classification_sample(y, (model_p > 0.5).astype(int), model_p, classes=[0, 1])


def test_pav_is_isotonic_and_weighted() -> None:
    fit = pav(np.array([3.0, 1.0, 2.0, 5.0]), np.array([1.0, 3.0, 1.0, 1.0]))
    assert np.all(np.diff(fit) >= 0)
    assert fit.tolist() == pytest.approx([1.5, 1.5, 2.0, 5.0])  # (3*1 + 1*3) / 4 = 1.5
    rng = np.random.default_rng(0)
    values = rng.random(200)
    out = pav(values, np.ones(200))
    assert np.all(np.diff(out) >= -1e-12) and out.mean() == pytest.approx(values.mean())


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_repairs_an_overconfident_model(method: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 20_000)
    truth = 1 / (1 + np.exp(-x))
    y = (rng.random(x.size) < truth).astype(float)
    overconfident = 1 / (1 + np.exp(-3 * x))
    cal = BinnedCalibration.fit(overconfident, y, method)
    err_before = np.mean(np.abs(overconfident - truth))
    err_after = np.mean(np.abs(cal.transform(overconfident) - truth))
    assert err_after < err_before / 3


def test_unknown_calibration_method_lists_the_valid_ones() -> None:
    with pytest.raises(DataError, match="isotonic"):
        BinnedCalibration.fit(np.ones(3), np.ones(3), "beta")


@pytest.mark.parametrize(("shift", "scale"), [(0.0, 0.3), (0.0, 2.5), (1.5, 1.0)])
def test_covariate_shift_moves_the_estimate_where_the_truth_goes(shift, scale) -> None:
    rng = np.random.default_rng(2)
    estimator = PerformanceEstimator().fit(_world(rng, 5000, overconfident=2.0))
    current = _world(rng, 4000, shift=shift, scale=scale, overconfident=2.0)
    est = estimator.estimate(current.proba)
    true_acc = compute_metrics(current)["accuracy"]
    assert np.sign(est.accuracy - est.reference_accuracy) == np.sign(
        true_acc - est.reference_accuracy)
    assert est.accuracy == pytest.approx(true_acc, abs=0.03)
    assert est.accuracy_ci_low <= true_acc <= est.accuracy_ci_high
    assert est.f1 is not None and est.f1_ci_low is not None and est.f1_ci_high is not None
    assert est.f1 == pytest.approx(compute_metrics(current)["f1"], abs=0.04)
    assert est.assumption == ASSUMPTION and "no concept shift" in est.assumption


def test_concept_shift_is_invisible_to_the_estimate_as_documented() -> None:
    rng = np.random.default_rng(3)
    estimator = PerformanceEstimator().fit(_world(rng, 5000))
    flipped = _world(rng, 3000, flip=True)
    est = estimator.estimate(flipped.proba)
    assert compute_metrics(flipped)["accuracy"] < 0.3
    assert est.accuracy > 0.6  # the estimate cannot see it: that is the stated assumption


def test_multiclass_accuracy_estimate() -> None:
    rng = np.random.default_rng(4)
    n = 6000
    logits = rng.normal(0, 1.5, (n, 3))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in proba])
    pred = proba.argmax(1)
    ref = classification_sample(y[:3000], pred[:3000], proba[:3000], [0, 1, 2])
    est = PerformanceEstimator().fit(ref).estimate(proba[3000:])
    assert est.f1 is None
    assert est.accuracy == pytest.approx(np.mean(y[3000:] == pred[3000:]), abs=0.03)


def test_estimator_needs_probabilities_and_enough_reference() -> None:
    rng = np.random.default_rng(5)
    with pytest.raises(DataError, match="logs probabilities"):
        PerformanceEstimator().fit(classification_sample([0, 1] * 100, [0, 1] * 100))
    with pytest.raises(DataError, match="fewer than 100"):
        PerformanceEstimator().fit(_world(rng, 50))
    with pytest.raises(DataError, match="not fitted"):
        PerformanceEstimator().estimate(np.ones((3, 2)) / 2)
    fitted = PerformanceEstimator().fit(_world(rng, 500))
    with pytest.raises(DataError, match="do not sum to one"):
        fitted.estimate(np.ones((3, 2)))

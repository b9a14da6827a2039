"""Metrics, intervals and "worse than reference" tests on generated data with known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from lifecycle.errors import DataError, InsufficientDataError
from lifecycle.performance import (
    classification_sample,
    compare_performance,
    compute_metrics,
    regression_sample,
    two_proportion_test,
    wilson_interval,
)
from lifecycle.performance.compare import holm


def _clf(rng: np.random.Generator, n: int, *, flip_share: float = 0.0, shift: float = 0.0):
    x = rng.normal(shift, 1, n)
    p = 1 / (1 + np.exp(-3 * x))
    y = (rng.random(n) < p).astype(int)
    flip = rng.random(n) < flip_share
    y = np.where(flip, 1 - y, y)
    return classification_sample(y, (p > 0.5).astype(int), p, classes=[0, 1])


def test_known_metric_values() -> None:
    s = classification_sample(["a", "a", "b", "b"], ["a", "b", "b", "b"],
                              np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]]))
    m = compute_metrics(s)
    assert m["accuracy"] == 0.75
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == 1.0
    assert m["f1"] == pytest.approx(0.8)
    assert m["roc_auc"] == 1.0
    expected_ll = -np.mean(np.log([0.9, 0.4, 0.8, 0.7]))
    assert m["log_loss"] == pytest.approx(expected_ll)
    r = compute_metrics(regression_sample([1.0, 2.0, 4.0], [1.5, 2.0, 3.0]))
    assert r["mae"] == pytest.approx(0.5)
    assert r["rmse"] == pytest.approx(math.sqrt((0.25 + 0 + 1) / 3))
    assert r["mape"] == pytest.approx((0.5 + 0 + 0.25) / 3)
    assert math.isnan(compute_metrics(regression_sample([0.0, 1.0], [1.0, 1.0]))["mape"])


def test_metrics_match_scikit_learn() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 500)
    proba = rng.dirichlet([1, 1, 1], 500)
    pred = np.array(["a", "b", "c"])[proba.argmax(1)]
    m = compute_metrics(classification_sample(y, pred, proba, ["a", "b", "c"]))
    assert m["f1_macro"] == pytest.approx(sk.f1_score(y, pred, average="macro"))
    assert m["precision_macro"] == pytest.approx(sk.precision_score(y, pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(sk.roc_auc_score(y, proba, multi_class="ovr"))
    assert m["log_loss"] == pytest.approx(sk.log_loss(y, proba, labels=["a", "b", "c"]))


def test_wilson_and_two_proportion_against_formulas() -> None:
    lo, hi = wilson_interval(80, 100)
    assert (lo, hi) == pytest.approx((0.7112, 0.8666), abs=1e-4)  # Newcombe (1998) table
    p = two_proportion_test(900, 1000, 850, 1000)
    pooled = 1750 / 2000
    z = 0.05 / math.sqrt(pooled * (1 - pooled) * 2 / 1000)
    assert p == pytest.approx(norm.sf(z))
    assert two_proportion_test(850, 1000, 900, 1000) > 0.5


def test_holm() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_concept_change_is_worse_on_every_metric() -> None:
    rng = np.random.default_rng(1)
    comp = compare_performance(_clf(rng, 3000), _clf(rng, 2000, flip_share=0.3))
    assert comp.degraded
    assert comp.metric("accuracy").worse and comp.metric("accuracy").p_adjusted < 1e-6
    assert comp.metric("roc_auc").worse and comp.metric("log_loss").worse
    acc = comp.metric("accuracy")
    assert acc.ci_low < acc.value < acc.ci_high
    assert "two-proportion" in acc.test and "bootstrap" in comp.metric("f1").test


def test_better_is_never_worse() -> None:
    rng = np.random.default_rng(2)
    comp = compare_performance(_clf(rng, 3000, flip_share=0.2), _clf(rng, 3000))
    assert not comp.degraded
    assert all(m.p_value is None or m.p_value > 0.5 for m in comp.metrics)
    assert sum(m.p_value is not None for m in comp.metrics) >= 3  # the tests did run


def test_stationary_model_raises_nothing_over_many_windows() -> None:
    rng = np.random.default_rng(3)
    reference = _clf(rng, 3000)
    degraded = [compare_performance(reference, _clf(rng, 1000), n_boot=40, seed=i).degraded
                for i in range(30)]
    assert not any(degraded)


def test_tiny_but_significant_drop_is_not_called() -> None:
    rng = np.random.default_rng(4)
    big_ref = _clf(rng, 100_000)
    comp = compare_performance(big_ref, _clf(rng, 100_000, flip_share=0.02), n_boot=30)
    acc = comp.metric("accuracy")
    assert acc.p_adjusted is not None and acc.p_adjusted < 0.01  # significant...
    assert -acc.difference < 0.02 and not acc.worse  # ...but below the minimum effect


def test_regression_drop() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=4000)
    ref = regression_sample(2 * x[:2000] + rng.normal(0, 1, 2000), 2 * x[:2000])
    cur = regression_sample(2.6 * x[2000:] + rng.normal(0, 1, 2000), 2 * x[2000:])
    comp = compare_performance(ref, cur)
    assert comp.metric("mae").worse and comp.metric("rmse").worse


def test_bad_input_is_rejected_with_the_fix() -> None:
    with pytest.raises(DataError, match="task = \"regression\""):
        classification_sample([0.5, 1.0], [0, 1])
    with pytest.raises(DataError, match="task = \"classification\""):
        regression_sample(["a", "b"], [1.0, 2.0])
    with pytest.raises(DataError, match="do not sum to one"):
        classification_sample([0, 1], [0, 1], np.array([[0.5, 0.6], [0.5, 0.5]]))
    with pytest.raises(DataError, match="within \\[0, 1\\]"):
        classification_sample([0, 1], [0, 1], np.array([[1.5, -0.5], [0.5, 0.5]]))
    with pytest.raises(DataError, match="shape"):
        classification_sample([0, 1], [0, 1], np.ones((2, 3)) / 3)
    with pytest.raises(DataError, match="align"):
        regression_sample([1.0], [1.0, 2.0])
    with pytest.raises(InsufficientDataError, match="wait for more labels"):
        compare_performance(regression_sample([1.0] * 40, [1.0] * 40),
                            regression_sample([1.0] * 5, [1.0] * 5))
    with pytest.raises(DataError, match="reference is regression"):
        compare_performance(regression_sample([1.0] * 40, [1.0] * 40),
                            classification_sample([1] * 40, [1] * 40))


def test_labels_are_canonical_across_types() -> None:
    s = classification_sample([1, 1.0, "1", True], ["1", "1.0", 1, "True"])
    assert s.y_true.tolist() == ["1", "1", "1", "True"]
    assert compute_metrics(s)["accuracy"] == 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=1,
                max_size=60))
def test_rates_stay_in_unit_interval(pairs: list[tuple[str, str]]) -> None:
    y, yhat = zip(*pairs, strict=True)
    m = compute_metrics(classification_sample(list(y), list(yhat)))
    assert all(0.0 <= v <= 1.0 for v in m.values())

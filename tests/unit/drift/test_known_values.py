"""Known values, checked by hand or against scipy, with pytest.approx."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from lifecycle.drift import (
    CategoricalSample,
    NumericSample,
    StatOptions,
    benjamini_hochberg,
    build_categorical_profile,
    build_numeric_profile,
    chi_square,
    jensen_shannon,
    proportions,
    psi,
    wasserstein,
)
from lifecycle.drift.jensen_shannon import js_from_counts
from lifecycle.drift.proportions import two_proportion_z
from lifecycle.drift.psi import psi_from_counts

OPTS = StatOptions()


def test_psi_from_counts_by_hand() -> None:
    ref = np.array([50, 30, 20])
    cur = np.array([30, 30, 40])
    expected = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0 + (0.4 - 0.2) * math.log(0.4 / 0.2)
    assert psi_from_counts(ref, cur) == pytest.approx(expected, rel=1e-12)


def test_psi_empty_bin_uses_epsilon_without_renormalising() -> None:
    ref = np.array([100, 0])
    cur = np.array([90, 10])
    # reference proportion of bin 2 is 0 -> 1e-4
    expected = (0.9 - 1.0) * math.log(0.9 / 1.0) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert psi_from_counts(ref, cur, 1e-4) == pytest.approx(expected, rel=1e-12)
    # buckets empty on both sides contribute nothing
    assert psi_from_counts(np.array([5, 0, 5]), np.array([5, 0, 5])) == 0.0


def test_js_matches_scipy_base2() -> None:
    ref = np.array([10, 20, 30, 0])
    cur = np.array([0, 25, 25, 10])
    assert js_from_counts(ref, cur) == pytest.approx(
        jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2), rel=1e-12
    )
    assert js_from_counts(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)


def test_numeric_psi_bins_are_reference_deciles_with_missing_bucket() -> None:
    ref = np.arange(1000, dtype=float)
    prof = build_numeric_profile(ref, "x")
    assert prof.bin_edges == pytest.approx(np.quantile(ref, np.arange(1, 10) / 10))
    assert prof.bin_counts.tolist() == [100] * 10
    cur = np.concatenate([np.arange(1000, dtype=float), [np.nan] * 250, [5000.0] * 10])
    res = psi.compute(prof, NumericSample.from_values(cur), OPTS)
    assert res.reference_counts == (*([100] * 10), 0)
    assert res.current_counts == (*([100] * 9), 110, 250)
    n = len(cur)
    r = np.array([0.1] * 10 + [1e-4])
    c = np.array([100 / n] * 9 + [110 / n, 250 / n])
    assert res.statistic == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)
    assert res.log_base == pytest.approx(math.e)
    assert "1e-4" in (res.smoothing or "") or "0.0001" in (res.smoothing or "")


def test_chi_square_matches_scipy_and_cramers_v() -> None:
    ref = build_categorical_profile(CategoricalSample(("a", "b", "c"), np.array([50, 30, 20]), 0))
    cur = CategoricalSample(("a", "b", "z"), np.array([40, 40, 20]), 5)
    res = chi_square.compute(ref, cur, OPTS)
    table = np.array([[50, 30, 20, 0, 0], [40, 40, 0, 20, 5]])
    expected = stats.chi2_contingency(table, correction=False)
    assert res.statistic == pytest.approx(expected.statistic)
    assert res.p_value == pytest.approx(expected.pvalue)
    assert res.extra["dof"] == 4
    assert res.effect == pytest.approx(math.sqrt(expected.statistic / table.sum()))
    assert res.categories == ("a", "b", "c", "__unseen__", "__missing__")


def test_two_proportion_z_known_value() -> None:
    z, p = two_proportion_z(10, 100, 30, 100)
    pooled = 0.2
    se = math.sqrt(pooled * 0.8 * (2 / 100))
    assert z == pytest.approx(0.2 / se)
    assert p == pytest.approx(2 * stats.norm.sf(0.2 / se))
    assert two_proportion_z(0, 100, 0, 50) == (0.0, 1.0)


def test_missing_share_and_out_of_range() -> None:
    prof = build_numeric_profile(np.linspace(0, 1, 1000), "x")
    cur = np.concatenate([np.linspace(0, 1, 600), [np.nan] * 300, [-1.0] * 40, [2.0] * 60])
    sample = NumericSample.from_values(cur)
    miss = proportions.compute_missing(prof, sample, OPTS)
    assert miss.extra["current_share"] == pytest.approx(0.3)
    assert miss.statistic == pytest.approx(0.3)
    oor = proportions.compute_out_of_range(prof, sample, OPTS)
    assert oor.extra["below_min"] == 40 and oor.extra["above_max"] == 60
    assert oor.statistic == pytest.approx(100 / 700)


def test_wasserstein_is_normalised_by_reference_std() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, 4000)
    y = rng.normal(1, 2, 3000)
    prof = build_numeric_profile(x, max_points=None)
    res = wasserstein.compute(prof, NumericSample.from_values(y), OPTS)
    assert res.extra["w1"] == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-10)
    assert res.statistic == pytest.approx(stats.wasserstein_distance(x, y) / np.std(x), rel=1e-10)
    assert res.error_bound == 0.0


def test_wasserstein_sketch_within_stated_bound() -> None:
    rng = np.random.default_rng(4)
    x = rng.lognormal(size=50_000)
    y = rng.lognormal(0.1, 1.0, size=20_000)
    prof = build_numeric_profile(x, max_points=500)
    assert not prof.exact
    res = wasserstein.compute(prof, NumericSample.from_values(y), OPTS)
    exact = stats.wasserstein_distance(x, y) / np.std(x)
    assert abs(res.statistic - exact) <= res.error_bound + 1e-12
    assert res.error_bound > 0


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.5, 0.001, 0.04])
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p))
    assert benjamini_hochberg([]).size == 0


def test_jensen_shannon_categorical_unseen_bucket() -> None:
    ref = build_categorical_profile(CategoricalSample(("a", "b"), np.array([50, 50]), 0))
    cur = CategoricalSample(("a", "b", "new"), np.array([40, 40, 20]), 0)
    res = jensen_shannon.compute(ref, cur, OPTS)
    assert res.categories == ("a", "b", "__unseen__", "__missing__")
    assert res.current_counts == (40, 40, 20, 0)
    assert res.statistic == pytest.approx(
        jensenshannon([0.5, 0.5, 0, 0], [0.4, 0.4, 0.2, 0], base=2), rel=1e-12
    )

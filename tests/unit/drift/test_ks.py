"""KS against scipy.stats.ks_2samp: statistic and p-value, both methods."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from lifecycle.drift import NumericSample, StatOptions, build_numeric_profile, ks
from lifecycle.drift.ks import _smirnov_sum, kstwo_sf


def _ks(x: np.ndarray, y: np.ndarray, method: str = "auto", max_points: int | None = None):
    prof = build_numeric_profile(x, max_points=max_points)
    return ks.compute(prof, NumericSample.from_values(y), StatOptions(ks_method=method))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("method", ["auto", "exact", "asymp"])
def test_small_samples_equal_scipy(seed: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rng.integers(20, 400))
    y = rng.normal(0.3 * seed / 4, 1, size=rng.integers(20, 400))
    ours = _ks(x, y, method)
    ref = stats.ks_2samp(x, y, method=method)
    assert ours.statistic == ref.statistic
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-12, abs=1e-300)


def test_ties_and_discrete_values_equal_scipy() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 6, 30_000).astype(float)
    y = rng.integers(0, 7, 25_000).astype(float)
    ours = _ks(x, y)
    ref = stats.ks_2samp(x, y)
    assert ours.statistic == ref.statistic
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert "asymp" in ours.variant


@pytest.mark.parametrize("shift", [0.0, 0.01, 0.03, 0.2])
def test_large_samples_asymp_equal_scipy(shift: float) -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=60_000)
    y = rng.normal(shift, 1, size=40_000)
    ours = _ks(x, y)
    ref = stats.ks_2samp(x, y, method="asymp")
    assert ours.statistic == ref.statistic
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    assert ours.n_reference == 60_000 and ours.n_current == 40_000


@pytest.mark.parametrize(("n", "d"), [(500_000, 0.0025), (333_333, 0.004), (1000, 0.06),
                                      (100_000, 0.01)])
def test_vectorised_smirnov_matches_scipy(n: int, d: float) -> None:
    assert _smirnov_sum(n, d) == pytest.approx(special.smirnov(n, d), rel=1e-8)
    assert kstwo_sf(d, n) == pytest.approx(stats.kstwo.sf(d, n), rel=1e-8)


def test_sketched_reference_within_bound() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=100_000)
    y = rng.normal(0.05, 1.1, size=30_000)
    ours = _ks(x, y, max_points=1000)
    ref = stats.ks_2samp(x, y)
    assert ours.error_bound == pytest.approx(1 / 999, rel=0.05)
    assert abs(ours.statistic - ref.statistic) <= ours.error_bound
    lo, hi = ours.extra["p_value_range"]
    assert lo <= ref.pvalue <= hi


def test_all_missing_current_is_not_computed() -> None:
    prof = build_numeric_profile(np.arange(10.0))
    res = ks.compute(prof, NumericSample.from_values([np.nan, np.nan]), StatOptions())
    assert not res.computed and res.p_value is None and res.n_current == 0

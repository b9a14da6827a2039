"""The owner-unit statistics (spread, total variation, infinite share) and the ranking."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from lifecycle import check_drift
from lifecycle.drift import (
    CategoricalSample,
    NumericSample,
    ReferenceProfile,
    StatOptions,
    build_categorical_profile,
    build_numeric_profile,
    spread,
    total_variation,
)
from lifecycle.drift.proportions import compute_infinite
from lifecycle.errors import DataError

OPTS = StatOptions()


def _gmd_brute(x: np.ndarray) -> float:
    return float(np.mean(np.abs(x[:, None] - x[None, :])))


def test_gini_mean_difference_matches_the_pairwise_definition() -> None:
    x = np.sort(np.random.default_rng(0).lognormal(0, 1, 400))
    g, var = spread.gini_mean_difference(x)
    assert g == pytest.approx(_gmd_brute(x), rel=1e-12)
    h = np.mean(np.abs(x[:, None] - x[None, :]), axis=1)
    assert var == pytest.approx(np.var(h), rel=1e-9)
    # weights are multiplicities
    v = np.array([1.0, 2.0, 5.0])
    w = np.array([3.0, 1.0, 2.0])
    assert spread.gini_mean_difference(v, w)[0] == pytest.approx(
        _gmd_brute(np.repeat(v, w.astype(int))))


def test_spread_reads_a_scale_change_exactly_and_ignores_location() -> None:
    x = np.random.default_rng(1).normal(size=5000)
    prof = build_numeric_profile(x)
    scaled = spread.compute(prof, NumericSample.from_values(3.0 + 1.25 * x), OPTS)
    assert scaled.statistic == pytest.approx(0.25, rel=1e-12)
    shrunk = spread.compute(prof, NumericSample.from_values(0.75 * x - 7.0), OPTS)
    assert shrunk.statistic == pytest.approx(-0.25, rel=1e-12)
    assert shrunk.effect == pytest.approx(0.25, rel=1e-12)
    assert spread.compute(prof, NumericSample.from_values(x + 5.0), OPTS).effect < 1e-9


def test_spread_on_a_sketch_is_within_its_error_bound() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=200_000)
    cur = NumericSample.from_values(rng.normal(0, 1.1, 50_000))
    exact = spread.compute(build_numeric_profile(x, max_points=None), cur, OPTS)
    sketch = spread.compute(build_numeric_profile(x, max_points=500), cur, OPTS)
    assert sketch.error_bound > 0
    assert abs(sketch.statistic - exact.statistic) <= sketch.error_bound


def test_spread_z_test_holds_its_level_on_unchanged_data() -> None:
    rng = np.random.default_rng(3)
    p = []
    for _ in range(300):
        prof = build_numeric_profile(rng.exponential(1.0, 800))
        p.append(spread.compute(prof, NumericSample.from_values(rng.exponential(1.0, 600)),
                                OPTS).p_value)
    rejected = np.mean(np.asarray(p) < 0.05)
    assert 0.01 <= rejected <= 0.10  # nominal 0.05; 300 draws


def test_total_variation_known_values() -> None:
    ref = np.array([50, 30, 20])
    cur = np.array([30, 30, 40])
    assert total_variation.tvd_from_counts(ref, cur) == pytest.approx(0.2)
    v = np.array([0.4, 0.3, 0.3]) * np.array([0.6, 0.7, 0.7]) * (1 / 100 + 1 / 100)
    d = np.array([-0.2, 0.0, 0.2])
    expected = 0.5 * np.sum(np.sqrt(np.maximum(0.0, d * d - v)))
    assert total_variation.tvd_debiased(ref, cur) == pytest.approx(expected)
    prof = build_categorical_profile(CategoricalSample(("a", "b", "c"), ref, 0))
    res = total_variation.compute(prof, CategoricalSample(("a", "b", "c"), cur, 0), OPTS)
    assert res.statistic == pytest.approx(0.2) and res.effect == pytest.approx(expected)
    assert res.extra["largest_move"]["category"] in ("a", "c")


def test_total_variation_noise_floor_does_not_grow_with_many_categories() -> None:
    rng = np.random.default_rng(4)
    cats = tuple(f"k{i}" for i in range(50))
    ref = CategoricalSample(cats, rng.multinomial(10_000, [0.02] * 50), 0)
    cur = CategoricalSample(cats, rng.multinomial(10_000, [0.02] * 50), 0)
    res = total_variation.compute(build_categorical_profile(ref), cur, OPTS)
    assert res.statistic > 0.03  # the raw TVD of pure noise
    assert res.effect < 0.02  # below the warning threshold 0.025


def test_infinite_values_are_counted_per_side() -> None:
    ref = NumericSample.from_values([1.0, 2.0, np.inf, 3.0, np.nan, 4.0])
    assert (ref.n, ref.n_missing, ref.n_infinite, ref.n_total) == (4, 1, 1, 6)
    assert ref.sorted_values.tolist() == [1.0, 2.0, 3.0, 4.0]
    prof = build_numeric_profile(ref)
    assert prof.n_infinite == 1 and prof.n_total == 6
    cur = NumericSample.from_values([-np.inf, -np.inf, np.inf, 1.0, 2.0, 2.5])
    res = compute_infinite(prof, cur, OPTS)
    assert res.statistic == pytest.approx(3 / 6 - 1 / 6)
    assert res.reference_counts == (1, 5) and res.current_counts == (3, 3)
    with pytest.raises(DataError):
        compute_infinite(prof, CategoricalSample(("a",), np.array([3]), 0), OPTS)


def test_profile_round_trip_keeps_infinite_count_and_old_digests() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=1000)
    plain = ReferenceProfile({"x": build_numeric_profile(x)}, n_rows=1000)
    assert "n_infinite" not in plain.to_payload()[0]["features"]["x"]  # digest unchanged
    with_inf = np.append(x, [np.inf, -np.inf])
    prof = ReferenceProfile({"x": build_numeric_profile(with_inf)}, n_rows=1002)
    back = ReferenceProfile.from_dict(prof.to_dict())
    assert back.features["x"].n_infinite == 2 and back.digest() == prof.digest()
    assert plain.digest() != prof.digest()


def _frames(n: int = 20_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({k: rng.normal(size=n) for k in ("big", "small", "none", "tie_a")})
    ref["tie_b"] = ref["tie_a"]  # the same change on the same data: equal severity
    cur = pd.DataFrame({
        "big": rng.normal(0.6, 1, n), "small": rng.normal(0.25, 1, n),
        "none": rng.normal(size=n),
        "tie_a": ref["tie_a"].to_numpy() + 0.125, "tie_b": ref["tie_b"].to_numpy() + 0.125,
    })
    return ref, cur


def test_report_ranks_features_by_effect_and_shows_importances() -> None:
    ref, cur = _frames()
    report = check_drift(ref, cur, importances={"small": 0.9, "big": 0.1, "tie_b": 0.5,
                                                "not_monitored": 1.0})
    ranked = [f.feature for f in report.ranked_features]
    # severity (effect / drift threshold) first; importance only breaks ties
    assert ranked == ["big", "small", "tie_b", "tie_a"]
    assert report.drifted_features == ("big", "small")
    big = report.feature("big")
    assert big.top_statistic == "wasserstein"
    assert big.severity == pytest.approx(big.stat("wasserstein").effect / 0.1875)
    assert big.importance == 0.1 and report.feature("none").importance is None
    assert big.headline().startswith("big: drift - wasserstein 0.5")
    assert big.headline().endswith("importance 0.1")
    assert report.feature("tie_a").verdict == "warning" and report.feature("none").severity == 0
    assert report.summary_frame().set_index("feature").loc["small", "importance"] == 0.9


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "high", None])
def test_bad_importance_names_the_feature(bad: object) -> None:
    ref, cur = _frames(2000)
    with pytest.raises(DataError, match="importance of feature 'big'"):
        check_drift(ref, cur, importances={"big": bad})  # type: ignore[dict-item]


def test_importances_reach_reports_built_from_a_stored_profile() -> None:
    from lifecycle.drift_check import build_profile

    ref, cur = _frames(5000)
    report = check_drift(build_profile(ref), cur, importances={"big": 0.25})
    assert report.feature("big").importance == 0.25
    assert list(itertools.islice((f.feature for f in report.ranked_features), 1)) == ["big"]

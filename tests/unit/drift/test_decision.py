"""The decision rule: significance AND effect size, BH, insufficient data, overrides."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.drift import (
    CategoricalSample,
    DriftPolicy,
    FeatureOverride,
    NumericSample,
    ReferenceProfile,
    Thresholds,
    build_categorical_profile,
    build_numeric_profile,
    check_profile,
)
from lifecycle.errors import ConfigError


def _profile(**cols: np.ndarray) -> ReferenceProfile:
    return ReferenceProfile({k: build_numeric_profile(v, k) for k, v in cols.items()},
                            n_rows=len(next(iter(cols.values()))))


def test_unshifted_feature_in_a_million_rows_does_not_alarm() -> None:
    rng = np.random.default_rng(0)
    prof = _profile(x=rng.normal(size=1_000_000))
    report = check_profile(prof, {"x": NumericSample.from_values(rng.normal(size=1_000_000))})
    f = report.feature("x")
    assert f.verdict == "no_drift", f.reasons
    assert report.verdict == "no_drift" and report.drift_share == 0.0


def test_tiny_but_significant_shift_in_huge_window_is_not_drift() -> None:
    rng = np.random.default_rng(1)
    prof = _profile(x=rng.normal(size=500_000))
    report = check_profile(
        prof, {"x": NumericSample.from_values(rng.normal(0.03, 1, size=500_000))}
    )
    f = report.feature("x")
    assert f.stat("ks").p_adjusted < 1e-6  # significant...
    assert f.verdict == "no_drift"  # ...but far too small to matter


def test_shifted_feature_is_flagged_with_reasons() -> None:
    rng = np.random.default_rng(2)
    prof = _profile(x=rng.normal(size=20_000), y=rng.normal(size=20_000))
    report = check_profile(prof, {
        "x": NumericSample.from_values(rng.normal(1.0, 1, 20_000)),
        "y": NumericSample.from_values(rng.normal(size=20_000)),
    })
    assert report.verdict == "drift"
    assert report.drifted_features == ("x",)
    assert report.drift_share == pytest.approx(0.5)
    x = report.feature("x")
    assert any(r.startswith("wasserstein") for r in x.reasons)
    w1 = x.stat("wasserstein")
    assert w1.level == "drift" and w1.gate == "ks" and w1.drift_threshold == 0.1875
    assert x.top_statistic == "wasserstein" and x.severity == pytest.approx(
        w1.effect / 0.1875)
    # PSI is computed and shown, with its own convention, but does not vote by default
    psi = x.stat("psi")
    assert psi.level == "drift" and psi.drift_threshold == 0.25 and "psi" not in x.deciding


def test_feature_going_thirty_percent_missing_is_flagged() -> None:
    rng = np.random.default_rng(3)
    prof = _profile(x=rng.normal(size=10_000))
    cur = rng.normal(size=10_000)
    cur[rng.random(10_000) < 0.3] = np.nan
    report = check_profile(prof, {"x": NumericSample.from_values(cur)})
    f = report.feature("x")
    assert f.verdict == "drift"
    assert f.stat("missing_share").level == "drift"
    assert f.missing_share_current == pytest.approx(0.3, abs=0.02)
    assert f.stat("ks").level == "no_drift"  # the observed values did not change


def test_all_missing_current_column_drifts_on_missing_share() -> None:
    rng = np.random.default_rng(4)
    prof = _profile(x=rng.normal(size=1000))
    report = check_profile(prof, {"x": NumericSample.from_values(np.full(1000, np.nan))})
    f = report.feature("x")
    assert f.verdict == "drift"
    assert f.stat("ks").level == "insufficient_data"


def test_new_category_is_reported() -> None:
    ref = build_categorical_profile(CategoricalSample(("a", "b"), np.array([5000, 5000]), 0))
    prof = ReferenceProfile({"c": ref}, n_rows=10_000)
    cur = CategoricalSample(("a", "b", "brand_new"), np.array([4000, 4000, 2000]), 0)
    f = check_profile(prof, {"c": cur}).feature("c")
    assert f.unseen_categories == (("brand_new", 2000),)
    assert f.unseen_share == pytest.approx(0.2)
    assert f.verdict == "drift"
    assert f.stat("out_of_range_share").level == "drift"


def test_below_min_samples_is_insufficient_never_no_drift() -> None:
    rng = np.random.default_rng(5)
    prof = _profile(x=rng.normal(size=5000))
    report = check_profile(prof, {"x": NumericSample.from_values(rng.normal(size=50))})
    assert report.feature("x").verdict == "insufficient_data"
    assert report.verdict == "insufficient_data"
    lowered = DriftPolicy(min_samples=20)
    assert check_profile(
        prof, {"x": NumericSample.from_values(rng.normal(size=50))}, lowered
    ).verdict != "insufficient_data"


def test_thresholds_per_model_and_per_feature() -> None:
    rng = np.random.default_rng(6)
    prof = _profile(x=rng.normal(size=20_000), y=rng.normal(size=20_000))
    cur = {
        "x": NumericSample.from_values(rng.normal(0.125, 1, 20_000)),
        "y": NumericSample.from_values(rng.normal(0.125, 1, 20_000)),
    }
    base = check_profile(prof, cur)
    assert base.feature("x").verdict == "warning"
    strict = DriftPolicy(
        thresholds={"wasserstein": Thresholds(0.05, 0.1)},
        features={"y": FeatureOverride(tests=("ks",), thresholds={"ks": Thresholds(0.5, 0.9)})},
    )
    report = check_profile(prof, cur, strict)
    assert report.feature("x").verdict == "drift"
    assert report.feature("y").verdict == "no_drift"
    assert report.feature("y").deciding[0] == "ks"


def test_benjamini_hochberg_is_applied_across_features() -> None:
    rng = np.random.default_rng(7)
    cols = {f"f{i}": rng.normal(size=2000) for i in range(5)}
    prof = _profile(**cols)
    report = check_profile(prof, {k: NumericSample.from_values(rng.normal(size=2000))
                                  for k in cols})
    ks = [report.feature(k).stat("ks") for k in cols]
    for s in ks:
        assert s.p_adjusted is not None and s.p_adjusted >= s.p_value


def test_policy_validation_names_the_problem() -> None:
    with pytest.raises(ConfigError, match="alpha"):
        DriftPolicy(alpha=1.5)
    with pytest.raises(ConfigError, match="valid names"):
        DriftPolicy(numeric_tests=("nope",))
    with pytest.raises(ConfigError, match="does not apply"):
        DriftPolicy(numeric_tests=("chi_square",))
    with pytest.raises(ConfigError, match="warning <= drift"):
        Thresholds(0.3, 0.1)

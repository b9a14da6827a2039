"""One conformance suite over every registered statistic."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lifecycle.drift import (
    STATISTICS,
    CategoricalSample,
    NumericSample,
    StatOptions,
    StatResult,
    build_categorical_profile,
    build_numeric_profile,
    get_statistic,
)
from lifecycle.errors import ConfigError, DataError

RNG = np.random.default_rng(42)
X = RNG.normal(size=3000)
Y = np.concatenate([RNG.normal(0.7, 1.3, size=2500), [np.nan] * 400, [np.inf, -np.inf] * 20])
NUM_PROFILE = build_numeric_profile(X)
NUM_SAME = NumericSample.from_values(X)
NUM_SHIFTED = NumericSample.from_values(Y)
CAT_REF = CategoricalSample(("a", "b", "c"), np.array([1000, 800, 1200]), 10)
CAT_PROFILE = build_categorical_profile(CAT_REF)
CAT_SHIFTED = CategoricalSample(("a", "b", "new"), np.array([2000, 300, 500]), 300)
OPTS = StatOptions()

CASES = [
    (name, kind)
    for name, stat in sorted(STATISTICS.items())
    for kind in sorted(stat.kinds)
]


def _inputs(kind: str):
    if kind == "numeric":
        return NUM_PROFILE, NUM_SAME, NUM_SHIFTED
    return CAT_PROFILE, CAT_REF, CAT_SHIFTED


def test_registry_is_a_plain_dict_with_defaults() -> None:
    assert type(STATISTICS) is dict
    assert set(STATISTICS) == {
        "psi", "ks", "wasserstein", "spread", "jensen_shannon", "chi_square",
        "total_variation", "missing_share", "out_of_range_share", "infinite_share",
    }
    assert STATISTICS["psi"].warning == 0.1 and STATISTICS["psi"].drift == 0.25
    # owner units (docs/drift.md, "Sensitivity"): drift halfway between the drift promise
    # and the warning promise, warning at half the warning promise
    for name in ("wasserstein", "spread"):  # 0.25 SD / 0.125 SD
        assert (STATISTICS[name].warning, STATISTICS[name].drift) == (0.0625, 0.1875)
    assert (STATISTICS["total_variation"].warning,
            STATISTICS["total_variation"].drift) == (0.025, 0.075)  # 10 / 5 points of mass
    for name in ("missing_share", "out_of_range_share", "infinite_share"):  # 3 / 1.5 points
        assert (STATISTICS[name].warning, STATISTICS[name].drift) == (0.0075, 0.0225)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ConfigError) as err:
        get_statistic("psy")
    for name in STATISTICS:
        assert name in str(err.value)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_result_contract(name: str, kind: str) -> None:
    stat = STATISTICS[name]
    profile, same, shifted = _inputs(kind)
    res = stat.compute(profile, shifted, OPTS)
    assert isinstance(res, StatResult)
    assert res.name == name and res.kind == kind
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.statistic = 0.0  # type: ignore[misc]
    assert np.isfinite(res.statistic) and np.isfinite(res.effect) and res.effect >= 0
    assert (res.p_value is not None) == stat.has_p_value
    if res.p_value is not None:
        assert 0.0 <= res.p_value <= 1.0
    assert res.n_reference > 0 and res.n_current > 0
    assert res.variant
    json.dumps(res.to_dict())  # reproducing data is JSON-safe
    # deterministic
    assert stat.compute(profile, shifted, OPTS).statistic == res.statistic


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_identical_data_has_no_effect_and_shift_has_more(name: str, kind: str) -> None:
    stat = STATISTICS[name]
    profile, same, shifted = _inputs(kind)
    same_res = stat.compute(profile, same, OPTS)
    assert same_res.effect == pytest.approx(0.0, abs=1e-12)
    if same_res.p_value is not None:
        assert same_res.p_value == pytest.approx(1.0)
    assert stat.compute(profile, shifted, OPTS).effect > same_res.effect
    assert stat.drift >= stat.warning > 0
    assert stat.direction == "higher_is_drift"


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_effect_grows_with_the_change(name: str, kind: str) -> None:
    stat = STATISTICS[name]
    if kind == "numeric":
        small = np.concatenate([RNG.normal(0.2, 1.1, 3000), [np.nan] * 100, [50.0] * 30,
                                [np.inf] * 10])
        big = np.concatenate([RNG.normal(1.5, 2.0, 3000), [np.nan] * 900, [50.0] * 600,
                              [-np.inf] * 300])
        a, b = NumericSample.from_values(small), NumericSample.from_values(big)
        profile = NUM_PROFILE
    else:
        a = CategoricalSample(("a", "b", "c", "z"), np.array([1100, 800, 1000, 50]), 50)
        b = CategoricalSample(("a", "b", "c", "z"), np.array([2500, 100, 100, 800]), 900)
        profile = CAT_PROFILE
    assert stat.compute(profile, b, OPTS).effect > stat.compute(profile, a, OPTS).effect


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_wrong_kind_is_rejected(name: str, kind: str) -> None:
    stat = STATISTICS[name]
    other = "categorical" if kind == "numeric" else "numeric"
    profile, _, _ = _inputs(kind)
    _, wrong_sample, _ = _inputs(other)
    with pytest.raises(DataError):
        stat.compute(profile, wrong_sample, OPTS)

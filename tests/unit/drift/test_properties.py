"""Hypothesis properties of the statistics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

from lifecycle.drift import (
    CategoricalSample,
    NumericSample,
    StatOptions,
    build_categorical_profile,
    build_numeric_profile,
    jensen_shannon,
    ks,
    psi,
    wasserstein,
)
from lifecycle.drift.jensen_shannon import js_from_counts
from lifecycle.drift.psi import psi_from_counts

OPTS = StatOptions()
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False,
                   allow_subnormal=False)
values = st.lists(finite, min_size=2, max_size=200).filter(
    lambda v: len(set(v)) > 1 and float(np.std(v)) > 0
)
counts = st.lists(st.integers(0, 1000), min_size=2, max_size=12)


@given(counts, counts)
def test_psi_non_negative_and_js_in_unit_interval(a: list[int], b: list[int]) -> None:
    k = min(len(a), len(b))
    ra, cb = np.array(a[:k]), np.array(b[:k])
    if ra.sum() == 0 or cb.sum() == 0:
        return
    value = psi_from_counts(ra, cb)
    assert value >= 0.0
    # the same number from the documented formula, written out independently (the function
    # clamps at 0, so the range check alone could not fail)
    both_empty = (ra == 0) & (cb == 0)
    r = np.maximum(ra / ra.sum(), 1e-4)[~both_empty]
    c = np.maximum(cb / cb.sum(), 1e-4)[~both_empty]
    assert value == pytest.approx(float(np.sum((c - r) * np.log(c / r))), abs=1e-12)
    js = js_from_counts(ra, cb)
    assert 0.0 <= js <= 1.0
    assert js == pytest.approx(float(jensenshannon(ra, cb, base=2)), abs=1e-9)


@given(counts)
def test_psi_and_js_of_identical_distributions_are_zero(a: list[int]) -> None:
    ra = np.array(a)
    if ra.sum() == 0:
        return
    assert psi_from_counts(ra, ra) == 0.0
    assert js_from_counts(ra, ra) == 0.0


@settings(max_examples=60, deadline=None)
@given(values, values)
def test_numeric_statistics_ranges(x: list[float], y: list[float]) -> None:
    prof = build_numeric_profile(np.array(x), max_points=50)
    sample = NumericSample.from_values(np.array(y))
    assert psi.compute(prof, sample, OPTS).statistic >= 0.0
    d = ks.compute(prof, sample, OPTS)
    assert 0.0 <= d.statistic <= 1.0
    assert d.p_value is not None and 0.0 <= d.p_value <= 1.0
    assert 0.0 <= jensen_shannon.compute(prof, sample, OPTS).statistic <= 1.0
    assert wasserstein.compute(prof, sample, OPTS).statistic >= 0.0
    # on an exact profile the values are scipy's (the range checks above hold by clamping)
    exact = build_numeric_profile(np.array(x), max_points=None)
    assert ks.compute(exact, sample, OPTS).statistic == pytest.approx(
        ks_2samp(x, y, method="asymp").statistic, abs=1e-12)
    assert wasserstein.compute(exact, sample, OPTS).statistic == pytest.approx(
        wasserstein_distance(x, y) / float(np.std(x)), rel=1e-6, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(values)
def test_statistics_of_x_against_itself(x: list[float]) -> None:
    arr = np.array(x)
    prof = build_numeric_profile(arr, max_points=None)
    sample = NumericSample.from_values(arr)
    assert psi.compute(prof, sample, OPTS).statistic == 0.0
    assert ks.compute(prof, sample, OPTS).statistic == 0.0
    assert wasserstein.compute(prof, sample, OPTS).statistic == 0.0
    assert jensen_shannon.compute(prof, sample, OPTS).statistic == 0.0


@settings(max_examples=60, deadline=None)
@given(values, values, st.randoms(use_true_random=False))
def test_shuffle_invariance(x: list[float], y: list[float], rnd) -> None:  # noqa: ANN001
    xs, ys = list(x), list(y)
    rnd.shuffle(xs)
    rnd.shuffle(ys)
    for mp in (None, 20):
        p1, p2 = build_numeric_profile(np.array(x), max_points=mp), build_numeric_profile(
            np.array(xs), max_points=mp)
        s1, s2 = NumericSample.from_values(np.array(y)), NumericSample.from_values(np.array(ys))
        for mod in (psi, ks, wasserstein, jensen_shannon):
            a, b = mod.compute(p1, s1, OPTS), mod.compute(p2, s2, OPTS)
            assert a.statistic == b.statistic
            assert a.p_value == b.p_value


@given(st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=100),
       st.lists(st.sampled_from(["a", "b", "c", "e", None]), min_size=1, max_size=100),
       st.randoms(use_true_random=False))
def test_categorical_shuffle_invariance_and_ranges(x, y, rnd) -> None:  # noqa: ANN001
    if all(v is None for v in x):
        return
    ref = build_categorical_profile(CategoricalSample.from_values(x))
    ys = list(y)
    rnd.shuffle(ys)
    a = psi.compute(ref, CategoricalSample.from_values(y), OPTS)
    b = psi.compute(ref, CategoricalSample.from_values(ys), OPTS)
    assert a.statistic == b.statistic >= 0.0
    js = jensen_shannon.compute(ref, CategoricalSample.from_values(y), OPTS).statistic
    assert 0.0 <= js <= 1.0

"""Pinned calibration cases (docs/drift.md, "Sensitivity"): seeded data at the promise points,
with margins to the thresholds that are many sampling SDs wide (see benchmarks/calibration.py
for the full study across seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.drift import (
    CategoricalSample,
    NumericSample,
    ReferenceProfile,
    build_categorical_profile,
    build_numeric_profile,
    check_profile,
)

N = 10_000
CATS = ("a", "b", "c", "d", "e")
P = np.array([0.30, 0.25, 0.20, 0.15, 0.10])


def _numeric_report(ref: np.ndarray, cur: np.ndarray):
    prof = ReferenceProfile({"x": build_numeric_profile(ref)}, n_rows=ref.size)
    return check_profile(prof, {"x": NumericSample.from_values(cur)}).feature("x")


def _categorical_report(p_ref: np.ndarray, p_cur: np.ndarray, n: int, seed: int):
    rng = np.random.default_rng(seed)
    ref = CategoricalSample(CATS, rng.multinomial(n, p_ref).astype(np.int64), 0)
    cur = CategoricalSample(CATS, rng.multinomial(n, p_cur).astype(np.int64), 0)
    prof = ReferenceProfile({"c": build_categorical_profile(ref)}, n_rows=n)
    return check_profile(prof, {"c": cur}).feature("c")


# (name, current generator, verdict, deciding statistic, expected effect)
NUMERIC_CASES = [
    ("mean +0.25 sd", lambda r: r.normal(0.25, 1, N), "drift", "wasserstein", 0.25),
    ("mean -0.125 sd", lambda r: r.normal(-0.125, 1, N), "warning", "wasserstein", 0.125),
    ("spread x1.25", lambda r: r.normal(0, 1.25, N), "drift", "spread", 0.25),
    ("spread x0.75", lambda r: r.normal(0, 0.75, N), "drift", "spread", 0.25),
    ("spread x1.125", lambda r: r.normal(0, 1.125, N), "warning", "spread", 0.125),
]


@pytest.mark.parametrize(("name", "gen", "verdict", "stat", "effect"), NUMERIC_CASES)
def test_numeric_promise_points_at_ten_thousand_rows(name, gen, verdict, stat, effect) -> None:
    rng = np.random.default_rng(11)
    f = _numeric_report(rng.normal(0, 1, N), gen(rng))
    assert f.verdict == verdict, (name, f.reasons)
    s = f.stat(stat)
    # the effect reads the change in owner units, within sampling noise (~0.01 at 10k)...
    assert s.effect == pytest.approx(effect, abs=0.03)
    # ...and sits at least 0.03 (3+ sampling SDs) away from both thresholds
    assert min(abs(s.effect - s.warning_threshold), abs(s.effect - s.drift_threshold)) > 0.03


def test_shape_change_at_the_same_mean_and_sd_is_drift() -> None:
    rng = np.random.default_rng(12)
    k = 1.63  # standardised gamma: W1 from N(0, 1) is 0.25 SD (benchmarks/calibration_data)
    cur = (rng.gamma(k, 1.0, N) - k) / np.sqrt(k)
    f = _numeric_report(rng.normal(0, 1, N), cur)
    assert f.verdict == "drift" and f.top_statistic == "wasserstein"
    assert f.stat("wasserstein").effect == pytest.approx(0.25, abs=0.03)


@pytest.mark.parametrize(("points", "verdict"), [(0.10, "drift"), (0.05, "warning")])
def test_category_mass_moves(points: float, verdict: str) -> None:
    p_cur = P.copy()
    p_cur[0] -= points
    p_cur[4] += points
    f = _categorical_report(P, p_cur, N, 13)
    assert f.verdict == verdict, f.reasons
    s = f.stat("total_variation")
    assert s.effect == pytest.approx(points, abs=0.015)
    assert min(abs(s.effect - s.warning_threshold), abs(s.effect - s.drift_threshold)) > 0.015


@pytest.mark.parametrize(("share", "verdict"), [(0.04, "drift"), (0.025, "warning")])
def test_missing_share_up_three_and_one_and_a_half_points(share: float, verdict: str) -> None:
    rng = np.random.default_rng(14)
    ref, cur = rng.normal(size=N), rng.normal(size=N)
    ref[: int(0.01 * N)] = np.nan
    cur[: int(share * N)] = np.nan
    f = _numeric_report(ref, cur)
    assert f.verdict == verdict and f.top_statistic == "missing_share", f.reasons


def test_immaterial_changes_at_a_million_rows_raise_nothing() -> None:
    rng = np.random.default_rng(15)
    n = 1_000_000
    ref = rng.normal(size=n)
    for cur in (rng.normal(0.02, 1, n), rng.normal(0, 1.02, n)):
        f = _numeric_report(ref, cur)
        assert f.stat("ks").p_adjusted < 1e-6 or f.stat("spread").p_adjusted < 1e-6
        assert f.verdict == "no_drift", f.reasons  # certain, but immaterial
        assert max(f.stat("wasserstein").effect, f.stat("spread").effect) < 0.035
    p_cur = P.copy()
    p_cur[0] -= 0.005
    p_cur[4] += 0.005
    f = _categorical_report(P, p_cur, n, 16)
    assert f.stat("chi_square").p_adjusted < 1e-6
    assert f.verdict == "no_drift" and f.stat("total_variation").effect < 0.01


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_unchanged_windows_raise_nothing(n: int) -> None:
    rng = np.random.default_rng(17)
    prof = ReferenceProfile({
        f"x{i}": build_numeric_profile(g(rng)) for i, g in enumerate((
            lambda r: r.normal(size=n), lambda r: r.lognormal(0, 0.5, n),
            lambda r: r.exponential(1.0, n), lambda r: r.poisson(4.0, n).astype(float),
        ))
    }, n_rows=n)
    cur = {
        "x0": NumericSample.from_values(rng.normal(size=n)),
        "x1": NumericSample.from_values(rng.lognormal(0, 0.5, n)),
        "x2": NumericSample.from_values(rng.exponential(1.0, n)),
        "x3": NumericSample.from_values(rng.poisson(4.0, n).astype(float)),
    }
    report = check_profile(prof, cur)
    assert report.verdict == "no_drift", [f.reasons for f in report.features]
    for f in report.features:
        assert f.stat("wasserstein").effect < 0.04 and f.stat("spread").effect < 0.04

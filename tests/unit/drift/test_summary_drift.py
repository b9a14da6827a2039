"""Drift from summarised windows (rollup path): same verdicts as the exact path, every
sketched statistic within its stated bound, bounds respected by the decision."""

from __future__ import annotations

import dataclasses
import json

import datasketches
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.drift import (
    STATISTICS,
    CategoricalSample,
    CategoricalSummary,
    DriftPolicy,
    FeatureStatistics,
    NumericSample,
    NumericSummary,
    ReferenceProfile,
    StatOptions,
    StatResult,
    build_categorical_profile,
    build_numeric_profile,
    check_profile,
    check_summaries,
    decide,
)
from lifecycle.drift.ks import compute as ks_compute
from lifecycle.drift.psi import compute as psi_compute
from lifecycle.drift.wasserstein import compute as w_compute
from lifecycle.errors import DataError

SEVERITY = {"no_drift": 0, "warning": 1, "drift": 2, "insufficient_data": 3}


def kll_summary(x: np.ndarray, k: int = 800, grid: int = 2049) -> NumericSummary:
    """A current-window summary from a real KLL sketch (tests only: not the pure core)."""
    finite = x[np.isfinite(x)]
    sk = datasketches.kll_doubles_sketch(k)
    sk.update(finite)
    points = np.unique(np.asarray(sk.get_quantiles(np.linspace(0.0, 1.0, grid))))
    cdf = np.asarray(sk.get_cdf(points))[:-1]  # get_cdf appends P(X > last) = 1
    step = float(np.max(np.diff(cdf))) if cdf.size > 1 else 0.0  # the grid's own step
    return NumericSummary(points, cdf, int(finite.size), int(np.isnan(x).sum()),
                          int(np.isinf(x).sum()), float(finite.min()), float(finite.max()),
                          min(1.0, sk.normalized_rank_error(False) + step),
                          total=float(finite.sum()), total_sq=float(finite @ finite))


def _data(n: int, seed: int):
    """Reference and current columns with the promised shifts (and two unshifted ones)."""
    rng = np.random.default_rng(seed)
    ref = {c: rng.normal(size=n) for c in ("mean", "spread", "missing", "same")}
    cur = {"mean": rng.normal(0.25, 1.0, n), "spread": rng.normal(0.0, 1.25, n),
           "missing": rng.normal(size=n), "same": rng.normal(size=n)}
    cur["missing"][rng.random(n) < 0.03] = np.nan
    cats = np.array(["p", "q", "r", "s"])
    ref_cat = rng.choice(cats, n, p=[0.4, 0.3, 0.2, 0.1])
    cur_cat = rng.choice(cats, n, p=[0.3, 0.3, 0.2, 0.2])  # 10 points moved p -> s
    same_cat = rng.choice(cats, n, p=[0.4, 0.3, 0.2, 0.1])
    feats = {c: build_numeric_profile(v) for c, v in ref.items()}
    for name, values in (("cat", ref_cat), ("cat_same", ref_cat)):
        u, cnt = np.unique(values, return_counts=True)
        feats[name] = build_categorical_profile(CategoricalSample(tuple(u), cnt, 0))
    profile = ReferenceProfile(feats, n)
    samples = {c: NumericSample.from_values(v) for c, v in cur.items()}
    cat_counts = {}
    for name, values in (("cat", cur_cat), ("cat_same", same_cat)):
        u, cnt = np.unique(values, return_counts=True)
        samples[name] = CategoricalSample(tuple(u), cnt, 0)
        cat_counts[name] = (tuple(u), cnt)
    return profile, cur, samples, cat_counts


def _summaries(cur, cat_counts, make):
    out = {c: make(v) for c, v in cur.items()}
    for name, (u, cnt) in cat_counts.items():
        out[name] = CategoricalSummary(u, cnt, int(cnt.sum()), 0)
    return out


def _within_bounds(exact, sketched) -> None:
    for f in sketched.features:
        for s in f.statistics:
            e = exact.feature(f.feature).stat(s.name)
            assert s.error_bound >= 0
            assert abs(s.statistic - e.statistic) <= s.error_bound + 1e-9, (f.feature, s.name)


@pytest.mark.parametrize("n", [100_000, 1_000_000])
def test_rollup_verdicts_equal_exact(n: int) -> None:
    profile, cur, samples, cat_counts = _data(n, seed=n % 97)
    exact = check_profile(profile, samples)
    assert set(exact.drifted_features) == {"mean", "spread", "missing", "cat"}
    assert exact.feature("same").verdict == "no_drift"
    assert exact.feature("cat_same").verdict == "no_drift"

    fv = check_summaries(profile, _summaries(cur, cat_counts, NumericSummary.from_values))
    assert fv.path == "rollup" and 0 < fv.rank_error < 0.001
    assert {f.feature: f.verdict for f in fv.features} == {
        f.feature: f.verdict for f in exact.features}
    _within_bounds(exact, fv)

    kll = check_summaries(profile, _summaries(cur, cat_counts, kll_summary))
    flagged = {f.feature for f in exact.features if f.verdict in ("drift", "warning")}
    assert {f.feature for f in kll.features if f.verdict in ("drift", "warning")} == flagged
    for f in kll.features:  # a bound may soften a verdict, never sharpen it
        assert SEVERITY[f.verdict] <= SEVERITY[exact.feature(f.feature).verdict]
    for name in ("mean", "missing", "cat"):
        assert kll.feature(name).verdict == "drift"
    _within_bounds(exact, kll)


def test_report_states_path_and_bounds() -> None:
    profile, cur, samples, cat_counts = _data(20_000, seed=3)
    report = check_summaries(profile, _summaries(cur, cat_counts, kll_summary))
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["path"] == "rollup" and doc["rank_error"] > 0.003
    ks = report.feature("mean").stat("ks")
    ref_bound = profile.features["mean"].ks_error_bound  # type: ignore[union-attr]
    assert ks.error_bound == pytest.approx(ks.extra["rank_error"] + ref_bound)
    lo_p, hi_p = ks.extra["p_value_range"]
    assert lo_p <= ks.p_value <= hi_p
    assert check_profile(profile, samples).to_dict()["path"] == "exact"


def test_exact_bins_used_only_for_the_same_reference() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=5000), rng.normal(0.3, 1.0, size=5000)
    prof = build_numeric_profile(ref)
    profile = ReferenceProfile({"x": prof}, 5000)
    base = NumericSummary.from_values(cur, grid=33)
    sorted_cur = np.sort(cur)
    cuts = np.searchsorted(sorted_cur, prof.bin_edges, side="left")
    bins = np.diff(np.concatenate(([0], cuts, [cur.size]))).astype(np.int64)
    exact_counts = dataclasses.replace(
        base, reference_digest=profile.digest(), bin_counts=bins,
        n_below=int(np.sum(cur < prof.minimum)), n_above=int(np.sum(cur > prof.maximum)))
    opts = StatOptions(reference_digest=profile.digest())
    exact_psi = psi_compute(prof, NumericSample.from_values(cur), StatOptions())
    hit = psi_compute(prof, exact_counts, opts)
    assert hit.statistic == exact_psi.statistic and hit.error_bound == 0.0
    other = psi_compute(prof, exact_counts, StatOptions(reference_digest="other"))
    assert other.error_bound > 0
    assert abs(other.statistic - exact_psi.statistic) <= other.error_bound
    wrong = dataclasses.replace(exact_counts, bin_counts=bins[:-1])
    with pytest.raises(DataError, match="bin counts"):
        psi_compute(prof, wrong, opts)


def test_estimated_category_counts_are_bounded() -> None:
    ref = CategoricalSample(("a", "b", "c", "d"), np.array([4000, 3000, 2000, 1000]), 50)
    prof = build_categorical_profile(ref)
    truth = CategoricalSample(("a", "b", "c", "d", "e"),
                              np.array([3000, 3000, 2000, 1500, 500]), 80)
    # a frequent-items style summary: estimates within 40, "e" not kept (unlisted)
    est = CategoricalSummary(("a", "b", "c", "d"), np.array([3030, 2970, 2040, 1460]),
                             n=10_000, n_missing=80, count_error=40)
    for name in ("psi", "jensen_shannon", "total_variation", "chi_square",
                 "out_of_range_share", "missing_share"):
        stat = STATISTICS[name]
        e = stat.compute(prof, truth, StatOptions())
        s = stat.compute(prof, est, StatOptions())
        assert abs(s.statistic - e.statistic) <= s.error_bound + 1e-12, name
    tv = STATISTICS["total_variation"].compute(prof, est, StatOptions())
    assert tv.extra["effect_error_bound"] > 0


CONFORMANCE = [(name, kind) for name, stat in sorted(STATISTICS.items())
               for kind in sorted(stat.kinds)]


@pytest.mark.parametrize(("name", "kind"), CONFORMANCE)
def test_every_statistic_accepts_summaries(name: str, kind: str) -> None:
    rng = np.random.default_rng(11)
    if kind == "numeric":
        prof = build_numeric_profile(rng.normal(size=3000))
        currents = [NumericSummary.from_values(np.append(rng.normal(0.5, 1, 2000), np.nan)),
                    kll_summary(rng.normal(size=2000), k=200, grid=129)]
        empty = NumericSummary.from_values(np.array([np.nan, np.nan]))
    else:
        prof = build_categorical_profile(
            CategoricalSample(("a", "b"), np.array([600, 400]), 5))
        currents = [CategoricalSummary(("a", "b", "z"), np.array([300, 600, 100]), 1000, 3),
                    CategoricalSummary(("a",), np.array([500]), 1000, 3, count_error=20)]
        empty = CategoricalSummary((), np.array([], dtype=np.int64), 0, 4)
    stat = STATISTICS[name]
    for cur in currents:
        res = stat.compute(prof, cur, StatOptions())
        assert isinstance(res, StatResult) and res.name == name and res.kind == kind
        assert res.computed and res.error_bound >= 0
        json.dumps(res.to_dict())
    assert isinstance(stat.compute(prof, empty, StatOptions()), StatResult)


def test_decision_takes_the_conservative_end() -> None:
    def stats(bound: float, p_range: tuple[float, float] | None) -> FeatureStatistics:
        extra = {"p_value_range": p_range} if p_range else {}
        ks = StatResult("ks", "numeric", 0.3, 0.3, 1e-9, 10_000, 10_000, "t",
                        error_bound=bound, extra=extra)
        w = StatResult("wasserstein", "numeric", 0.2, 0.2, None, 10_000, 10_000, "t",
                       error_bound=bound)
        shares = [StatResult(s, "numeric", 0.0, 0.0, 1.0, 10_000, 10_000, "t")
                  for s in ("missing_share", "out_of_range_share", "infinite_share")]
        return FeatureStatistics("x", "numeric", (ks, w, *shares), 10_000, 10_000)

    policy = DriftPolicy(numeric_tests=("wasserstein",))
    assert decide([stats(0.0, None)], policy).feature("x").verdict == "drift"
    softened = decide([stats(0.05, None)], policy).feature("x")
    assert softened.verdict == "warning"  # 0.2 - 0.05 < 0.1875 drift threshold
    assert "bound" in softened.reasons[0]
    assert decide([stats(0.15, None)], policy).feature("x").verdict == "no_drift"
    # the gate's p-value at its conservative end fails BH: nothing is significant
    gated = decide([stats(0.01, (1e-12, 0.2))], policy).feature("x")
    assert gated.verdict == "no_drift"
    assert gated.stat("ks").p_adjusted == pytest.approx(0.2 * 4)  # BH over 4 tests


def test_check_summaries_refuses_samples_and_missing_features() -> None:
    prof = build_numeric_profile(np.random.default_rng(1).normal(size=500))
    profile = ReferenceProfile({"x": prof}, 500)
    with pytest.raises(DataError, match="lack feature"):
        check_summaries(profile, {})
    with pytest.raises(DataError, match="check_profile"):
        check_summaries(profile, {"x": NumericSample.from_values(np.ones(3))})  # type: ignore[dict-item]


_values = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=30, max_size=400)


@settings(max_examples=60, deadline=None)
@given(ref=_values, cur=_values, grid=st.integers(3, 40), points=st.integers(2, 50),
       shift=st.floats(-5, 5))
def test_sketched_ks_and_w_within_bound(ref, cur, grid, points, shift) -> None:
    ref_arr = np.asarray(ref)
    cur_arr = np.asarray(cur) + shift
    if np.ptp(ref_arr) == 0 or np.std(ref_arr) == 0:
        return
    prof = build_numeric_profile(ref_arr, max_points=points)
    summary = NumericSummary.from_values(cur_arr, grid=grid)
    exact_prof = build_numeric_profile(ref_arr, max_points=None)
    sample = NumericSample.from_values(cur_arr)
    opts = StatOptions(ks_method="asymp")
    for compute in (ks_compute, w_compute):
        s = compute(prof, summary, opts)
        e = compute(exact_prof, sample, opts)
        assert abs(s.statistic - e.statistic) <= s.error_bound + 1e-9
    p = psi_compute(prof, summary, opts)
    assert p.statistic >= 0 and p.extra.get("interval", (0.0, 0.0))[0] >= 0


def test_unseen_bucket_bound_holds_when_listed_estimates_are_high() -> None:
    # a frequent-items sketch overestimates what it keeps (estimate = upper bound), so the
    # estimates may sum past n (n_unlisted floors at 0) while untracked categories hold rows
    ref = CategoricalSample(("a", "b", "d", "e"), np.array([250, 250, 250, 250]), 0)
    prof = build_categorical_profile(ref)
    truth = CategoricalSample(("a", "b", "d", "e", "c", "f", "g", "h", "i"),
                              np.array([240, 240, 240, 240, 1, 10, 10, 10, 9]), 0)
    est = CategoricalSummary(("a", "b", "d", "e", "c"), np.array([250, 250, 250, 250, 11]),
                             n=1000, n_missing=0, count_error=10)
    assert est.n_unlisted == 0
    for name in ("out_of_range_share", "psi", "jensen_shannon", "total_variation",
                 "chi_square"):
        stat = STATISTICS[name]
        e = stat.compute(prof, truth, StatOptions())
        s = stat.compute(prof, est, StatOptions())
        assert abs(s.statistic - e.statistic) <= s.error_bound + 1e-12, name


def test_a_reference_too_large_for_float64_is_refused_without_a_numpy_warning() -> None:
    import warnings

    from lifecycle.drift.profile import build_numeric_profile
    from lifecycle.errors import DataError

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning would raise here
        with pytest.raises(DataError, match="standard deviation of inf"):
            build_numeric_profile(np.array([1e200, -1e200, 3e200]))

"""Spread change: the relative change of the Gini mean difference, with its own z-test.

The Gini mean difference ``G = E|X - X'|`` (two independent draws) is the average distance
between two values of a feature: a measure of spread that needs no centre, is defined for
discrete features and scales exactly with the data (``G(a + bX) = |b| G(X)``). The statistic
is ``G_cur / G_ref - 1`` and the effect compared with the thresholds is its absolute value:
0.25 means the current values are 25% more (or less) spread out than the reference ones,
whatever the distribution's family.

Computation, for sorted values ``x_i`` with weights ``w_i`` (``W = sum w``):
``h_i = sum_j w_j |x_i - x_j| / W`` (the mean distance of ``x_i`` to the sample, from prefix
sums, O(n)), ``G = sum_i w_i h_i / W`` (the V-statistic, ``= 2 * integral F (1 - F) dx``).

Test: ``G`` is a U-statistic of degree 2 with kernel ``|x - y|``, so its asymptotic variance is
``4 * Var(h(X)) / n`` (Hoeffding); ``z = (G_cur - G_ref) / sqrt(4 Var_cur / m + 4 Var_ref / n)``,
two-sided normal p-value. The z-test joins the report's Benjamini-Hochberg family like KS does.

Reference: an exact profile gives every distinct value with its count. A sketch gives order
statistics; the mass between two grid points is split half to each, which moves no unit of
mass further than its cell, so ``G_ref`` is within ``2 * wasserstein_error_bound`` of the
exact value (``G`` is 2-Lipschitz in W1); ``error_bound`` reports that bound divided by
``G_ref``.

Summarised current window: the summary's step CDF is a discrete distribution (mass
``c_i - c_{i-1}`` at point ``p_i``), whose ``G`` and ``Var(h)`` the same function gives; ``G``
is within ``2 sum_i (p_{i+1} - p_i) (e |1 - 2 c_i| + e^2)`` of the window's
(:func:`lifecycle.drift.summary_cdf.gini_bound`). ``Var(h)`` of that discrete distribution
stands in for the window's (an approximation: it enters only the standard error). The ratio's
range over ``G_cur +/- b_cur`` and ``G_ref +/- b_ref`` gives ``error_bound``, and the
p-values at ``|G_cur - G_ref| +/- (b_cur + b_ref)`` give ``extra["p_value_range"]``.

Part of the pure core: standard library, numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from lifecycle.drift.base import StatOptions
from lifecycle.drift.profile import FeatureProfile, NumericProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import NumericSummary, Summary
from lifecycle.drift.summary_cdf import gini_bound, summary_masses
from lifecycle.errors import DataError

__all__ = ["compute", "gini_mean_difference", "reference_weights"]

NAME = "spread"


def gini_mean_difference(
    x: NDArray[np.float64], w: NDArray[np.float64] | None = None
) -> tuple[float, float]:
    """``(G, Var(h))`` of sorted values ``x`` with optional weights (see the module doc)."""
    if x.size == 0:
        return float("nan"), float("nan")
    xc = x - x[x.size // 2]  # centre on a middle value: prefix sums stay small
    if w is None:
        w = np.ones(x.size, dtype=np.float64)
    total_w = float(w.sum())
    wx = w * xc
    cw = np.cumsum(w)
    cwx = np.cumsum(wx)
    below_w = cw - w
    below_s = cwx - wx
    above_w = total_w - cw
    above_s = cwx[-1] - cwx
    h = (xc * (below_w - above_w) - below_s + above_s) / total_w
    g = float(np.dot(w, h) / total_w)
    var = float(np.dot(w, (h - g) ** 2) / total_w)
    return g, var


def reference_weights(profile: NumericProfile) -> NDArray[np.float64]:
    """Weight of each profile value: its count, plus half of each neighbouring sketch cell."""
    w = (profile.le - profile.lt).astype(np.float64)
    if not profile.exact and w.size > 1:
        cell = (profile.lt[1:] - profile.le[:-1]).astype(np.float64)
        w[:-1] += cell / 2.0
        w[1:] += cell / 2.0
    return w


def _p(diff: float, se: float) -> float:
    return float(min(1.0, 2.0 * stats.norm.sf(abs(diff) / se))) if se > 0 else 1.0


def _compute_summary(profile: NumericProfile, summary: NumericSummary) -> StatResult:
    n, m = profile.n, summary.n
    g_ref, var_ref = gini_mean_difference(profile.values, reference_weights(profile))
    g_cur, var_cur = gini_mean_difference(summary.points, summary_masses(summary))
    b_ref = 0.0 if profile.exact else 2.0 * profile.wasserstein_error_bound
    b_cur = gini_bound(summary)
    ratio = g_cur / g_ref - 1.0
    lo = max(g_cur - b_cur, 0.0) / (g_ref + b_ref) - 1.0
    hi = (g_cur + b_cur) / (g_ref - b_ref) - 1.0 if g_ref > b_ref else math.inf
    se = math.sqrt(4.0 * var_cur / m + 4.0 * var_ref / n)
    diff = g_cur - g_ref
    z = diff / se if se > 0 else 0.0
    slack = b_cur + b_ref
    p_range = (_p(abs(diff) + slack, se), _p(max(abs(diff) - slack, 0.0), se))
    return StatResult(
        name=NAME,
        kind="numeric",
        statistic=ratio,
        effect=abs(ratio),
        p_value=_p(diff, se),
        n_reference=n,
        n_current=m,
        variant="G_cur / G_ref - 1 (Gini mean difference); asymptotic z-test, two-sided; "
        "current G and Var(h) from the window's quantile sketch",
        error_bound=max(hi - ratio, ratio - lo),
        extra={"gmd_reference": g_ref, "gmd_current": g_cur, "z": z,
               "gmd_current_bound": b_cur, "interval": (lo, hi), "p_value_range": p_range},
    )


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Relative change of the Gini mean difference of one numeric feature, with its z-test."""
    if isinstance(profile, NumericProfile) and isinstance(sample, NumericSummary):
        if sample.n == 0:
            return StatResult.no_current_values(NAME, profile.n)
        return _compute_summary(profile, sample)
    if not isinstance(profile, NumericProfile) or not isinstance(sample, NumericSample):
        raise DataError("spread applies to numeric features only")
    n, m = profile.n, sample.n
    if m == 0:
        return StatResult.no_current_values(NAME, n)
    g_ref, var_ref = gini_mean_difference(profile.values, reference_weights(profile))
    g_cur, var_cur = gini_mean_difference(sample.sorted_values)
    ratio = g_cur / g_ref - 1.0
    se = math.sqrt(4.0 * var_cur / m + 4.0 * var_ref / n)
    if se > 0:
        z = (g_cur - g_ref) / se
        p = float(min(1.0, 2.0 * stats.norm.sf(abs(z))))
    else:
        z, p = 0.0, 1.0
    return StatResult(
        name=NAME,
        kind="numeric",
        statistic=ratio,
        effect=abs(ratio),
        p_value=p,
        n_reference=n,
        n_current=m,
        variant="G_cur / G_ref - 1 (Gini mean difference); asymptotic z-test, two-sided",
        error_bound=0.0 if profile.exact else 2.0 * profile.wasserstein_error_bound / g_ref,
        extra={"gmd_reference": g_ref, "gmd_current": g_cur, "z": z},
    )

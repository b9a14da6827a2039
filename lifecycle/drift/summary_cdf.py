"""A reference profile against a sketched current window: the CDF formulas and their bounds.

The current window is a :class:`~lifecycle.drift.summary.NumericSummary`: points
``p_0 < ... < p_K`` (``p_0`` the exact minimum, ``p_K`` the exact maximum) with CDF estimates
``c_i``. Its CDF is taken as the right-continuous step function

``F_hat(x) = 0 for x < p_0,  c_i for p_i <= x < p_{i+1},  c_K (= 1) for x >= p_K``,

i.e. the discrete distribution with mass ``w_i = c_i - c_{i-1}`` at ``p_i``, and the summary's
``rank_error`` ``e`` bounds ``|F_hat(x) - F(x)|`` for every ``x`` (docs/drift.md, "Drift from
rollups"). Everything below follows from that one inequality:

* **KS**: on the merged grid (profile values + summary points) ``F_hat`` is constant between
  neighbouring points and the reference CDF constant (exact profile) or linear (sketched
  profile), so :class:`~lifecycle.drift.ecdf.CdfComparison` gives the supremum and the
  integral exactly. ``|D_hat - D| <= e + ks_error_bound``.
* **W1**: ``|W_hat - W| <= W1(F_hat, F) + wasserstein_error_bound`` and
  ``W1(F_hat, F) = integral_{min}^{max} |F_hat - F| dx <= e (max - min)`` (both CDFs are 0
  below the exact minimum and 1 from the exact maximum on).
* **Gini mean difference** ``G = 2 integral F (1 - F) dx``: with ``F = F_hat + D``,
  ``F(1-F) - F_hat(1-F_hat) = D (1 - 2 F_hat) - D^2``, so
  ``|G_hat - G| <= 2 sum_i (p_{i+1} - p_i) (e |1 - 2 c_i| + e^2)``.
* **Counts below a value** ``t``: ``#{X < t} = n F(t^-)``, estimated by ``n F_hat(t^-)`` within
  ``n e``; a count between two values within ``2 n e``. Below the exact minimum or above the
  exact maximum the count is exactly 0.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.ecdf import CdfComparison
from lifecycle.drift.profile import NumericProfile
from lifecycle.drift.summary import NumericSummary

__all__ = [
    "compare_summary",
    "count_above",
    "count_below",
    "gini_bound",
    "summary_masses",
    "w1_bound",
]


def _step(summary: NumericSummary, x: NDArray[np.float64], side: str) -> NDArray[np.float64]:
    """``F_hat(x)`` (``side="right"``) or its left limit ``F_hat(x^-)`` (``side="left"``)."""
    if summary.points.size == 0:  # no finite value: F_hat is 0 everywhere
        return np.zeros(np.shape(x), dtype=np.float64)
    i = np.searchsorted(summary.points, x, side=side) - 1  # type: ignore[call-overload]
    cdf = summary.cdf
    return np.where(i < 0, 0.0, cdf[np.maximum(i, 0)])


def _ref_left(profile: NumericProfile, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Reference CDF just below ``x``: ``lt / n`` at a profile value, the CDF elsewhere
    (where the profile's CDF is continuous or constant)."""
    v = profile.values
    i = np.minimum(np.searchsorted(v, x, side="left"), v.size - 1)
    on_point = v[i] == x
    return np.where(on_point, profile.lt[i] / profile.n, profile.cdf(x))


@lru_cache(maxsize=64)
def compare_summary(profile: NumericProfile, summary: NumericSummary) -> CdfComparison:
    """Reference and sketched current CDF on the merged grid (cached per pair: KS and
    Wasserstein share it; both types hash by identity)."""
    x = np.union1d(profile.values, summary.points)
    cur = _step(summary, x, "right")
    at = profile.cdf(x) - cur
    left = _ref_left(profile, x[1:]) - cur[:-1]
    first_left = float(_ref_left(profile, x[:1])[0])
    return CdfComparison(x=x, at=at, left=left, first_left=first_left)


def w1_bound(summary: NumericSummary) -> float:
    """Bound on ``W1(F_hat, F) = integral |F_hat - F| dx``: ``rank_error * (max - min)``."""
    if summary.n == 0:
        return 0.0
    return float(summary.rank_error * (summary.maximum - summary.minimum))


def summary_masses(summary: NumericSummary) -> NDArray[np.float64]:
    """Mass of ``F_hat`` at each point (``c_i - c_{i-1}``, clipped at 0)."""
    return np.maximum(np.diff(summary.cdf, prepend=0.0), 0.0)


def gini_bound(summary: NumericSummary) -> float:
    """Bound on ``|G_hat - G|``: ``2 sum_i (p_{i+1} - p_i) (e |1 - 2 c_i| + e^2)``."""
    e = summary.rank_error
    if summary.points.size < 2 or e == 0.0:
        return 0.0
    width = np.diff(summary.points)
    c = summary.cdf[:-1]
    return float(2.0 * np.dot(width, e * np.abs(1.0 - 2.0 * c) + e * e))


def count_below(
    summary: NumericSummary, t: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Estimated ``#{X < t}`` at each ``t`` and its bound (``n e``; 0 where ``t`` is at or
    below the exact minimum or above the exact maximum, where the count is known)."""
    t = np.asarray(t, dtype=np.float64)
    est = _step(summary, t, "left") * summary.n
    known = (t <= summary.minimum) | (t > summary.maximum)
    est = np.where(t <= summary.minimum, 0.0, np.where(t > summary.maximum, summary.n, est))
    bound = np.where(known, 0.0, summary.rank_error * summary.n)
    return est, bound


def count_above(summary: NumericSummary, t: float) -> tuple[float, float]:
    """Estimated ``#{X > t}`` and its bound (``n e``; 0 when ``t`` is at or above the exact
    maximum or below the exact minimum, where the count is known)."""
    if summary.n == 0 or t >= summary.maximum:
        return 0.0, 0.0
    if t < summary.minimum:
        return float(summary.n), 0.0
    est = (1.0 - float(_step(summary, np.array([t]), "right")[0])) * summary.n
    return est, summary.rank_error * summary.n

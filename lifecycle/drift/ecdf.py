"""The reference and current empirical CDFs on one merged grid, shared by KS and Wasserstein.

Evaluation points are the reference profile's values and the current sample's distinct
values, merged in ascending order (reference first on ties). At each point ``x_k`` we keep

* ``ref_at[k] = F_ref(x_k)`` and ``ref_left[k] = F_ref(x_k^-)`` (the left limit), and
* ``cur_at[k] = F_cur(x_k)``,

all as integer counts divided by sample sizes. On ``[x_k, x_{k+1})`` the current CDF is the
constant ``cur_at[k]`` and the reference CDF goes from ``ref_at[k]`` to ``ref_left[k+1]``
(constant for an exact profile, linear inside a sketch cell). Hence

* ``KS = max_k max(|ref_at[k] - cur_at[k]|, |ref_left[k+1] - cur_at[k]|)`` (for an exact
  profile the second term repeats the first, so ``D`` is computed exactly as scipy does), and
* ``W1 = sum_k integral_{x_k}^{x_{k+1}} |F_ref - F_cur| dx``, each term the exact integral
  of the absolute value of a linear function (trapezoid, or two triangles when it changes
  sign).

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.profile import NumericProfile
from lifecycle.drift.sample import NumericSample

__all__ = ["CdfComparison", "compare_cdfs"]


@dataclass(frozen=True, eq=False)
class CdfComparison:
    """Both CDFs on the merged grid, as differences (see the module docstring).

    ``at[k] = ref_at[k] - cur_at[k]``; ``left[k] = ref_left[k+1] - cur_at[k]`` (the difference
    just before the next point; None for an exact profile, where it equals ``at[:-1]``);
    ``first_left = ref_left[0]``.
    """

    x: NDArray[np.float64]
    at: NDArray[np.float64]
    left: NDArray[np.float64] | None
    first_left: float

    def ks(self) -> float:
        d = max(float(self.at.max()), -float(self.at.min()), self.first_left)
        if self.left is not None and self.left.size:
            d = max(d, float(self.left.max()), -float(self.left.min()))
        return min(1.0, d)

    def wasserstein(self) -> float:
        width = np.diff(self.x)
        a = np.abs(self.at[:-1])
        if self.left is None:  # both CDFs constant on every interval
            return float(np.dot(width, a))
        b = self.left
        area = a + np.abs(b)
        crossing = np.flatnonzero((self.at[:-1] < 0) != (b < 0))
        ac, bc, tc = self.at[crossing], b[crossing], area[crossing]
        area *= 0.5  # trapezoid where the difference keeps its sign
        with np.errstate(invalid="ignore", divide="ignore"):
            area[crossing] = np.where(tc > 0, (ac * ac + bc * bc) / (2.0 * tc), 0.0)
        return float(np.dot(width, area))


def _ref_cdf_at_sorted(
    profile: NumericProfile, x: NDArray[np.float64], counts: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``profile.cdf(x)`` for ascending ``x``, by ``np.repeat`` of per-cell coefficients.

    ``counts[i + 1]`` is the number of points of ``x`` in cell ``i`` (``v[i] <= x < v[i+1]``;
    cell -1 below the minimum, cell ``k - 1`` from the maximum on).
    """
    v, n = profile.values, profile.n
    k = v.size
    base = np.empty(k + 1, dtype=np.float64)
    base[0] = 0.0
    base[1:] = profile.le / n
    if profile.exact:
        return np.repeat(base, counts)
    slope = np.zeros(k + 1, dtype=np.float64)
    slope[1:k] = (profile.lt[1:] - profile.le[:-1]) / n / np.diff(v)
    anchor = np.empty(k + 1, dtype=np.float64)
    anchor[0] = v[0]
    anchor[1:] = v
    out = x - np.repeat(anchor, counts)
    out *= np.repeat(slope, counts)
    out += np.repeat(base, counts)
    return out


def _compare_exact(profile: NumericProfile, sample: NumericSample) -> CdfComparison:
    """Exact profile: merge both samples' points, integer cumulative counts, keep the last
    position of every run of equal values (where both right-continuous CDFs are complete)."""
    c = sample.sorted_values
    m, n, k = c.size, profile.n, profile.values.size
    x = np.concatenate((profile.values, c))
    order = np.argsort(x, kind="stable")  # two sorted runs: a linear merge
    x = x[order]
    from_ref = order < k
    del order
    if n == k:  # every reference value distinct: each counts once
        ref_cum = np.cumsum(from_ref)
    else:
        ref_cum = np.zeros(x.size, dtype=np.int64)
        ref_cum[from_ref] = profile.le - profile.lt
        np.cumsum(ref_cum, out=ref_cum)
    np.logical_not(from_ref, out=from_ref)
    cur_cum = np.cumsum(from_ref)  # each current value counts once
    del from_ref
    keep = np.empty(x.size, dtype=bool)
    np.not_equal(x[1:], x[:-1], out=keep[:-1])
    keep[-1] = True
    if not keep.all():  # ties: only the last of equal values has complete counts
        x, ref_cum, cur_cum = x[keep], ref_cum[keep], cur_cum[keep]
    at = ref_cum / n
    at -= cur_cum / m
    return CdfComparison(x=x, at=at, left=None, first_left=0.0)


def compare_cdfs(profile: NumericProfile, sample: NumericSample) -> CdfComparison:
    """The merged comparison, computed once per (profile, sample) and cached on the sample."""
    key = id(profile)
    hit = sample.cache.get(key)
    if hit is not None and hit[0] is profile:
        return hit[1]
    if profile.exact:
        result = _compare_exact(profile, sample)
        sample.cache[key] = (profile, result)
        return result
    c = sample.sorted_values
    m = c.size
    last = np.empty(m, dtype=bool)
    np.not_equal(c[1:], c[:-1], out=last[:-1])
    last[-1] = True
    if bool(last.all()):
        x_cur = c
        cur_at_cur = np.arange(1, m + 1, dtype=np.float64) / m
    else:
        jumps = np.flatnonzero(last)
        x_cur = c[jumps]
        cur_at_cur = (jumps + 1) / m
        del jumps
    del last
    v = profile.values
    k = v.size
    # Merge without sorting: reference point i goes before the first current point >= v[i]
    # (reference first on ties); current point p goes after every v[i] <= x_cur[p].
    first = np.searchsorted(x_cur, v, side="left")
    counts = np.diff(first, prepend=0, append=x_cur.size)
    pos_ref = first + np.arange(k)
    pos_cur = np.repeat(np.arange(k + 1), counts)
    pos_cur += np.arange(x_cur.size)
    size = k + x_cur.size

    def merged(ref_part: NDArray[np.float64], cur_part: NDArray[np.float64]) -> NDArray[
        np.float64
    ]:
        out = np.empty(size, dtype=np.float64)
        out[pos_ref] = ref_part
        out[pos_cur] = cur_part
        return out

    ref_at_cur = _ref_cdf_at_sorted(profile, x_cur, counts)
    cur_at_ref = np.searchsorted(c, v, side="right") / m
    at_cur = ref_at_cur - cur_at_cur
    at = merged(profile.le / profile.n - cur_at_ref, at_cur)
    del at_cur
    left = None
    first_left = 0.0
    if not profile.exact:
        # ref_left - cur_at at the next point: the difference just before that point
        ref_left = merged(profile.lt / profile.n, ref_at_cur)
        cur_at = merged(cur_at_ref, cur_at_cur)
        first_left = float(ref_left[0])
        left = ref_left[1:]
        left -= cur_at[:-1]
        del cur_at
    del ref_at_cur, cur_at_cur
    result = CdfComparison(x=merged(v, x_cur), at=at, left=left, first_left=first_left)
    sample.cache[key] = (profile, result)
    return result

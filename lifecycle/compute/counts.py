"""Exact, mergeable per-feature counts of a window against a reference profile.

What one partition of :func:`lifecycle.compute.exact.exact_window_counts` returns, and how
two are merged (by summation: every field is a count or a sum, min/max merge by comparison).
Numeric feature, with ``v`` the reference profile's points (``NumericProfile.values``) and
``x`` the window's finite values:

* ``le[j] = #{x <= v[j]}``, ``lt[j] = #{x < v[j]}``: the current window's exact CDF at the
  reference points and just before each. With an exact reference profile the reference CDF
  is constant between consecutive points, so the two-sample KS statistic is attained at a
  point or just before the next one: :meth:`NumericCounts.ks` is then exact;
* ``bins``: counts in the reference's PSI bins ``(-inf, e1), [e1, e2), ..., [ek, +inf)``;
* ``n`` finite, ``n_missing`` (NaN, null, non-numeric; ``n_non_numeric`` of them are text,
  booleans or dates), ``n_infinite``, ``n_below`` / ``n_above`` the reference's range,
  ``total`` and ``total_sq`` (float64 sums: their last bits depend on the partitioning),
  ``minimum`` / ``maximum`` with how many values equal each.

Categorical feature: exact counts per category (``str(value)``, as the in-memory path) and
``n_missing``. Values are converted exactly as the in-memory drift check converts them
(:func:`lifecycle.drift_check.numeric_values`, :func:`~lifecycle.drift_check.categorical_sample`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lifecycle.drift.profile import CategoricalProfile, NumericProfile
from lifecycle.drift.summary import CategoricalSummary, NumericSummary
from lifecycle.drift_check import categorical_sample, numeric_values

__all__ = ["CategoricalCounts", "FeatureCounts", "NumericCounts", "count_categorical",
           "count_numeric"]


@dataclass(frozen=True, eq=False)
class NumericCounts:
    """Exact counts of one numeric feature against a reference (module docstring)."""

    le: NDArray[np.int64]
    lt: NDArray[np.int64]
    bins: NDArray[np.int64]
    n: int
    n_missing: int
    n_non_numeric: int
    n_infinite: int
    n_below: int
    n_above: int
    total: float
    total_sq: float
    minimum: float
    maximum: float
    n_at_min: int
    n_at_max: int
    kind: str = "numeric"

    def merge(self, other: NumericCounts) -> NumericCounts:
        if other.n == 0:
            lo = (self.minimum, self.n_at_min)
            hi = (self.maximum, self.n_at_max)
        elif self.n == 0:
            lo, hi = (other.minimum, other.n_at_min), (other.maximum, other.n_at_max)
        else:
            lo = _extreme(self.minimum, self.n_at_min, other.minimum, other.n_at_min, min)
            hi = _extreme(self.maximum, self.n_at_max, other.maximum, other.n_at_max, max)
        return NumericCounts(
            self.le + other.le, self.lt + other.lt, self.bins + other.bins,
            self.n + other.n, self.n_missing + other.n_missing,
            self.n_non_numeric + other.n_non_numeric, self.n_infinite + other.n_infinite,
            self.n_below + other.n_below, self.n_above + other.n_above,
            self.total + other.total, self.total_sq + other.total_sq,
            lo[0], hi[0], lo[1], hi[1])

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else float("nan")

    @property
    def std(self) -> float:
        """Population standard deviation from the sums (``sqrt(E[x^2] - E[x]^2)``)."""
        if not self.n:
            return float("nan")
        return float(np.sqrt(max(self.total_sq / self.n - self.mean ** 2, 0.0)))

    def ks(self, ref: NumericProfile) -> float | None:
        """The two-sample KS statistic against ``ref``: exact when ``ref.exact`` (then equal
        to ``scipy.stats.ks_2samp`` on the raw values); None when there is nothing to
        compare. With a sketch reference it is within ``ref.ks_error_bound`` of the truth."""
        if not self.n or not ref.n:
            return None
        f_ref = ref.le / ref.n
        before = np.concatenate(([0.0], f_ref[:-1]))  # reference CDF just before each point
        at = np.abs(self.le / self.n - f_ref)
        just_before = np.abs(self.lt / self.n - before)
        return float(max(at.max(), just_before.max()))

    def summary(self, ref: NumericProfile, digest: str | None) -> NumericSummary:
        """The window as the pure core's :class:`~lifecycle.drift.summary.NumericSummary`.

        ``points``: the window's exact minimum, the reference points strictly between the
        window's minimum and maximum, and the exact maximum; ``cdf`` the window's exact CDF
        there. ``rank_error`` is the largest share of the window's values lying strictly
        between two consecutive points (what a statistic that reads the CDF only at the
        points cannot see); 0.0 when every value is a point. The reference's own error, if
        it is a sketch, stays the reference's ``ks_error_bound``. Bin and range counts are
        exact and tagged with ``digest``.
        """
        common = dict(n=self.n, n_missing=self.n_missing, n_infinite=self.n_infinite,
                      reference_digest=digest, bin_counts=self.bins.copy(),
                      n_below=self.n_below, n_above=self.n_above, total=self.total,
                      total_sq=self.total_sq)
        if not self.n:
            return NumericSummary(np.empty(0), np.empty(0), minimum=float("nan"),
                                  maximum=float("nan"), rank_error=0.0, **common)  # type: ignore[arg-type]
        v = ref.values
        inner = (v > self.minimum) & (v < self.maximum)
        if self.minimum == self.maximum:
            points = np.array([self.minimum])
            le = np.array([self.n], dtype=np.int64)
            lt = np.array([0], dtype=np.int64)
        else:
            points = np.concatenate(([self.minimum], v[inner], [self.maximum]))
            le = np.concatenate(([self.n_at_min], self.le[inner], [self.n]))
            lt = np.concatenate(([0], self.lt[inner], [self.n - self.n_at_max]))
        gaps = (lt[1:] - le[:-1]) / self.n
        rank_error = float(min(max(gaps.max(), 0.0), 1.0)) if gaps.size else 0.0
        return NumericSummary(points.astype(np.float64), le / self.n, minimum=self.minimum,
                              maximum=self.maximum, rank_error=rank_error, **common)  # type: ignore[arg-type]


def _extreme(a: float, na: int, b: float, nb: int, pick: object) -> tuple[float, int]:
    if a == b:
        return a, na + nb
    return (a, na) if pick(a, b) == a else (b, nb)  # type: ignore[operator]


@dataclass(frozen=True, eq=False)
class CategoricalCounts:
    """Exact category counts of one categorical feature (labels as ``str(value)``)."""

    counts: dict[str, int]
    n_missing: int
    kind: str = "categorical"

    def merge(self, other: CategoricalCounts) -> CategoricalCounts:
        merged = dict(self.counts)
        for label, k in other.counts.items():
            merged[label] = merged.get(label, 0) + k
        return replace(self, counts=merged, n_missing=self.n_missing + other.n_missing)

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def summary(self, ref: CategoricalProfile | None = None) -> CategoricalSummary:
        """Exact :class:`~lifecycle.drift.summary.CategoricalSummary` (``count_error == 0``):
        the reference's categories first, in its order, then new ones by label."""
        first = [c for c in (ref.categories if ref else ()) if c in self.counts]
        rest = sorted(set(self.counts) - set(first))
        cats = (*first, *rest)
        return CategoricalSummary(cats, np.array([self.counts[c] for c in cats],
                                                 dtype=np.int64), self.n, self.n_missing)


FeatureCounts = NumericCounts | CategoricalCounts


def count_numeric(series: pd.Series | None, n_rows: int, ref: NumericProfile) -> NumericCounts:
    """Counts of one batch's column (None: the batch lacks the column, every row missing)."""
    if series is None:
        values, non_numeric = np.full(n_rows, np.nan), 0
    else:
        values, non_numeric = numeric_values(series)
    nan = np.isnan(values)
    inf = np.isinf(values)
    # sorted once, every count is a binary search of the reference's points into it (the
    # other way round - each value into the points - is ~3x slower: cache misses). No BLAS
    # (np.dot): OpenBLAS's threads spin while they wait and doubled this pass's CPU time
    # in a process without OMP_NUM_THREADS=1 (Dask workers set it; a client does not)
    x = np.sort(values[~(nan | inf)])
    n = x.size
    edges = ref.bin_edges
    cuts = np.searchsorted(x, edges, side="left")
    bins = np.diff(np.concatenate(([0], cuts, [n])))
    if n:
        lo, hi = float(x[0]), float(x[-1])
        n_lo = int(np.searchsorted(x, lo, side="right"))
        n_hi = n - int(np.searchsorted(x, hi, side="left"))
    else:
        lo, hi, n_lo, n_hi = float("nan"), float("nan"), 0, 0
    with np.errstate(over="ignore", invalid="ignore"):  # values past 1e154: the sums are inf
        total, total_sq = float(np.sum(x)), float(np.sum(np.square(x)))
    return NumericCounts(
        np.searchsorted(x, ref.values, side="right").astype(np.int64),
        np.searchsorted(x, ref.values, side="left").astype(np.int64),
        bins.astype(np.int64), int(n), int(np.count_nonzero(nan)), non_numeric,
        int(np.count_nonzero(inf)), int(np.searchsorted(x, ref.minimum, side="left")),
        n - int(np.searchsorted(x, ref.maximum, side="right")),
        total, total_sq, lo, hi, n_lo, n_hi)


def count_categorical(series: pd.Series | None, n_rows: int) -> CategoricalCounts:
    """Category counts of one batch's column (None: every row missing)."""
    if series is None:
        return CategoricalCounts({}, n_rows)
    sample = categorical_sample(series, str(series.name))
    return CategoricalCounts({c: int(k) for c, k in zip(sample.categories, sample.counts,
                                                        strict=True)}, sample.n_missing)

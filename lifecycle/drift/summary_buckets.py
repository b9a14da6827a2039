"""The PSI buckets of a summarised current window, with an interval for every current count.

Shared by PSI, Jensen-Shannon, chi-square and total variation when the current side is a
:class:`~lifecycle.drift.summary.NumericSummary` or ``CategoricalSummary``.

* **numeric, exact** (``summary.exact_for(reference digest)``): the rollup counted the window's
  values in the reference's own bins, so the buckets are exactly what the in-memory path gets.
* **numeric, from the CDF**: ``#{X < e_j}`` is ``n F_hat(e_j^-)`` within ``n e`` (``e`` the rank
  error; 0 below the exact minimum / above the exact maximum), so an inner bin's count is within
  ``2 n e`` and each outer bin's within ``n e`` (:func:`lifecycle.drift.summary_cdf.count_below`).
* **categorical, exact** (``count_error == 0``): the counts are the window's counts.
* **categorical, estimated** (``count_error = k > 0``): a listed reference category is within
  ``k`` of its estimate, an unlisted one is in ``[0, k]`` (a frequent-items sketch reports every
  item heavier than its error); ``__unseen__`` holds the listed unseen categories plus the
  ``n_unlisted`` rows whose category was not kept: at least its estimate minus ``k`` per listed
  unseen category minus ``n_unlisted`` (those rows may belong to reference categories), at most
  its estimate plus ``k`` per listed reference category (it holds every row outside the
  reference categories, and the listed estimates may be too high).
  The missing bucket is exact in every case.

Each statistic over the buckets is a sum of per-bucket terms ``t(r_j, c_j)`` convex in the
current proportion ``c_j`` with minimum 0 at ``c_j = r_j``, so over the box of intervals its
range is ``[sum_j min_j, sum_j max_j]``: ``max_j`` at an end of the interval, ``min_j`` 0 when
the interval holds ``r_j`` and the nearer end otherwise (:func:`term_range`; the constraint that
proportions sum to 1 is ignored, which only widens the range).

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.base import MISSING, UNSEEN, Buckets, StatOptions, _numeric_labels, buckets
from lifecycle.drift.profile import CategoricalProfile, FeatureProfile, NumericProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import CategoricalSummary, NumericSummary
from lifecycle.drift.summary_cdf import count_below
from lifecycle.errors import DataError

__all__ = [
    "SummaryBuckets",
    "current_buckets",
    "interval_stat",
    "summary_buckets",
    "term_range",
    "with_interval",
]

Term = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


@dataclass(frozen=True, eq=False)
class SummaryBuckets:
    """Buckets with the current counts estimated (``buckets.current``, rounded) and bounded:
    ``estimate`` (float counts), ``low <= true count <= high``; ``exact`` when every count is
    known; ``how`` says which rule gave them."""

    buckets: Buckets
    estimate: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    exact: bool
    how: str
    #: Every current row counted in the buckets (exact: finite + missing values).
    total: float


def _numeric(profile: NumericProfile, summary: NumericSummary, digest: str | None) -> (
    SummaryBuckets
):
    edges = profile.bin_edges
    k = edges.size + 1
    if summary.exact_for(digest):
        counts = np.asarray(summary.bin_counts, dtype=np.float64)
        if counts.size != k:
            raise DataError(
                f"summary has {counts.size} bin counts but the reference has {k} bins; "
                "roll the window up again against the active reference"
            )
        est, low, high, exact = counts, counts, counts, True
        how = "exact: counts in the reference bins kept by the rollup"
    else:
        below, bound = count_below(summary, edges)
        cum = np.concatenate(([0.0], below, [float(summary.n)]))
        cum_b = np.concatenate(([0.0], bound, [0.0]))
        est = np.maximum(np.diff(cum), 0.0)
        width = cum_b[:-1] + cum_b[1:]
        low = np.maximum(est - width, 0.0)
        high = np.minimum(est + width, float(summary.n))
        exact = bool(np.all(width == 0))
        how = (f"from the sketched CDF at the reference edges: each count within 2 n e "
               f"(e = rank_error = {summary.rank_error:.3g})")
    miss = float(summary.n_missing)
    ref = np.append(profile.bin_counts, profile.n_missing).astype(np.int64)
    est, low, high = (np.append(a, miss) for a in (est, low, high))
    b = Buckets(labels=_numeric_labels(edges), reference=ref,
                current=np.rint(est).astype(np.int64),
                edges=tuple(float(e) for e in edges))
    return SummaryBuckets(b, est, low, high, exact, how,
                          float(summary.n + summary.n_missing))


def _categorical(profile: CategoricalProfile, summary: CategoricalSummary) -> SummaryBuckets:
    index = {c: i for i, c in enumerate(profile.categories)}
    k = len(profile.categories)
    est = np.zeros(k + 2, dtype=np.float64)
    err = float(summary.count_error)
    width = np.full(k + 2, err)
    unseen: list[tuple[str, int]] = []
    n_listed_ref = 0
    for cat, cnt in zip(summary.categories, np.asarray(summary.counts), strict=True):
        i = index.get(cat)
        if i is None:
            if cnt > 0:
                unseen.append((cat, int(cnt)))
                est[k] += float(cnt)
        else:
            est[i] += float(cnt)
            n_listed_ref += 1
    unlisted = float(summary.n_unlisted)
    est[k] += unlisted
    width[k] = err * len(unseen) + (unlisted if err > 0 else 0.0)
    est[k + 1] = summary.n_missing
    width[k + 1] = 0.0
    low = np.maximum(est - width, 0.0)
    high = est + width
    # __unseen__ holds every non-missing row outside the listed reference categories, so it is
    # at most n - sum(listed reference counts) <= est + count_error per listed reference
    # category (the rows of unlisted categories may exceed n_unlisted: the listed estimates
    # can be too high, and n_unlisted is floored at 0)
    high[k] = est[k] + err * n_listed_ref if err > 0 else est[k]
    unseen.sort(key=lambda t: (-t[1], t[0]))
    if unlisted:
        unseen.append(("__unlisted__", int(unlisted)))
    b = Buckets(
        labels=(*profile.categories, UNSEEN, MISSING),
        reference=np.concatenate((profile.counts, [0, profile.n_missing])).astype(np.int64),
        current=np.rint(est).astype(np.int64),
        edges=(),
        unseen=tuple(unseen),
    )
    exact = err == 0
    how = "exact: category counts" if exact else (
        f"estimated counts, each within count_error = {summary.count_error}; "
        f"{int(unlisted)} rows of unlisted categories pooled into {UNSEEN}")
    return SummaryBuckets(b, est, low, high, exact, how,
                          float(summary.n + summary.n_missing))


def summary_buckets(
    profile: FeatureProfile, summary: NumericSummary | CategoricalSummary, digest: str | None
) -> SummaryBuckets:
    """The shared buckets of one feature with a summarised current side (see the module doc);
    ``digest`` is the reference profile's digest (``StatOptions.reference_digest``)."""
    if isinstance(profile, NumericProfile):
        if not isinstance(summary, NumericSummary):
            raise DataError("a numeric reference needs a NumericSummary for the current data")
        return _numeric(profile, summary, digest)
    if not isinstance(summary, CategoricalSummary):
        raise DataError("a categorical reference needs a CategoricalSummary for the current data")
    return _categorical(profile, summary)


def term_range(
    term: Term, r: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64]
) -> tuple[float, float]:
    """``[sum min_j, sum max_j]`` of ``term(r_j, c_j)`` over ``low_j <= c_j <= high_j`` for a
    term convex in ``c`` with minimum 0 at ``c = r``."""
    t_low, t_high = term(r, low), term(r, high)
    inside = (low <= r) & (r <= high)
    t_min = np.where(inside, 0.0, np.minimum(t_low, t_high))
    return float(t_min.sum()), float(np.maximum(t_low, t_high).sum())


def interval_stat(
    sb: SummaryBuckets, term: Term, finish: Callable[[float], float] = float
) -> tuple[float, float]:
    """Range of ``finish(sum_j term(r_j, c_j))`` with proportions over each side's total
    (``finish`` non-decreasing, e.g. ``sqrt`` for the Jensen-Shannon distance)."""
    ref = sb.buckets.reference.astype(np.float64)
    r = ref / ref.sum()
    total = sb.total if sb.total > 0 else 1.0
    lo, hi = term_range(term, r, sb.low / total, sb.high / total)
    return finish(lo), finish(hi)


def current_buckets(
    profile: FeatureProfile,
    sample: NumericSample | CategoricalSample | NumericSummary | CategoricalSummary,
    options: StatOptions,
) -> tuple[Buckets, SummaryBuckets | None]:
    """The shared buckets of any current side, plus the intervals when its counts are only
    estimated (None when every count is exact: then the statistic is the in-memory one)."""
    if isinstance(sample, NumericSummary | CategoricalSummary):
        sb = summary_buckets(profile, sample, options.reference_digest)
        return sb.buckets, None if sb.exact else sb
    return buckets(profile, sample), None


def with_interval(
    result: StatResult, sb: SummaryBuckets | None, lo: float, hi: float
) -> StatResult:
    """``result`` with ``error_bound`` (the larger distance from the statistic to the ends of
    its range ``[lo, hi]``), the range in ``extra["interval"]`` and the rule in ``variant``."""
    if sb is None:
        return result
    bound = max(hi - result.statistic, result.statistic - lo, 0.0)
    return dataclasses.replace(
        result, error_bound=bound, variant=f"{result.variant}; current counts {sb.how}",
        extra={**result.extra, "interval": (lo, hi)},
    )

"""Current windows summarised by mergeable sketches: what a drift check from rollups compares.

A drift check of a large window does not load its rows. The rollup job keeps, per model,
hour and feature, a mergeable summary (``lifecycle/rollup/``: Apache DataSketches KLL for
numeric quantiles, exact category counts up to a cap, exact counts of rows, missing, infinite
and out-of-range values). A window's hours are merged at the edge and handed to the pure core
as the two plain-numpy types below; the statistics then compute from them what they compute
from a :class:`~lifecycle.drift.sample.NumericSample` / ``CategoricalSample``, and every
approximation is carried as a bound (``error_bound`` on each result; docs/scale.md).

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lifecycle.errors import DataError

__all__ = ["CategoricalSummary", "NumericSummary", "Summary"]


@dataclass(frozen=True, eq=False)
class NumericSummary:
    """One numeric feature of a current window, from a merged quantile sketch.

    Attributes
    ----------
    points
        Ascending distinct values: the sketch's quantile grid, with the exact minimum first
        and the exact maximum last.
    cdf
        The sketch's estimate of ``F_cur(points[i]) = P(X <= points[i])`` over finite values;
        non-decreasing, ``cdf[-1] == 1``.
    n, n_missing, n_infinite
        Exact counts of finite, missing (NaN / null / non-numeric) and +/-inf values.
    minimum, maximum
        Exact smallest and largest finite value.
    rank_error
        Bound on ``|F_hat(x) - F_cur(x)|`` for every ``x`` (the sketch's normalised rank error
        at 99% confidence, plus the grid's own step: see ``lifecycle/rollup/``); 0.0 when the
        summary holds every value.
    reference_digest
        Digest of the reference profile the exact counts below were taken against, or None.
    bin_counts
        Exact counts of finite values in that reference's PSI bins
        ``(-inf, e1), [e1, e2), ..., [ek, +inf)`` (``len(bin_edges) + 1`` entries), or None.
    n_below, n_above
        Exact counts of finite values below that reference's minimum / above its maximum.
    total, total_sq
        Exact sums of the finite values and of their squares (mean and variance).
    """

    points: NDArray[np.float64]
    cdf: NDArray[np.float64]
    n: int
    n_missing: int
    n_infinite: int
    minimum: float
    maximum: float
    rank_error: float
    reference_digest: str | None = None
    bin_counts: NDArray[np.int64] | None = None
    n_below: int | None = None
    n_above: int | None = None
    total: float = 0.0
    total_sq: float = 0.0
    kind: str = "numeric"

    def __post_init__(self) -> None:
        if self.points.shape != self.cdf.shape:
            raise DataError(
                f"{self.points.size} points but {self.cdf.size} CDF values; pass one each"
            )
        if min(self.n, self.n_missing, self.n_infinite) < 0:
            raise DataError("counts must be non-negative")
        if not 0.0 <= self.rank_error <= 1.0:
            raise DataError(f"rank_error must be in [0, 1], got {self.rank_error!r}")

    @property
    def n_total(self) -> int:
        """Every row: finite, missing and infinite values."""
        return self.n + self.n_missing + self.n_infinite

    def exact_for(self, digest: str | None) -> bool:
        """Whether the exact bin and range counts belong to the reference ``digest``."""
        return (digest is not None and self.reference_digest == digest
                and self.bin_counts is not None)

    @classmethod
    def from_values(cls, values: NDArray[np.float64], grid: int = 2049) -> NumericSummary:
        """An exact-rank summary of an in-memory array (tests and small windows): the CDF at
        ``grid`` order statistics is exact, so ``rank_error`` is the grid's step only."""
        arr = np.asarray(values, dtype=np.float64)
        missing = int(np.count_nonzero(np.isnan(arr)))
        infinite = int(np.count_nonzero(np.isinf(arr)))
        finite = np.sort(arr[np.isfinite(arr)])
        if finite.size == 0:
            return cls(np.empty(0), np.empty(0), 0, missing, infinite, float("nan"),
                       float("nan"), 0.0)
        idx = np.unique(np.round(np.linspace(0, finite.size - 1, grid)).astype(np.int64))
        points = np.unique(finite[idx])
        cdf = np.searchsorted(finite, points, side="right") / finite.size
        lt = np.searchsorted(finite, points, side="left") / finite.size
        step = float(np.max(lt[1:] - cdf[:-1])) if points.size > 1 else 0.0
        return cls(points, cdf, int(finite.size), missing, infinite, float(finite[0]),
                   float(finite[-1]), max(step, 0.0), total=float(finite.sum()),
                   total_sq=float(np.dot(finite, finite)))


@dataclass(frozen=True, eq=False)
class CategoricalSummary:
    """One categorical feature of a current window: category counts, merged over hours.

    ``counts`` are exact when ``count_error == 0``. Past the rollup's cardinality cap the
    hours keep a frequent-items sketch instead: ``counts`` are then estimates within
    ``count_error`` of the truth, and ``n`` (exact) may exceed ``counts.sum()`` (rows whose
    category was not kept are in ``n - counts.sum()``).
    """

    categories: tuple[str, ...]
    counts: NDArray[np.int64]
    n: int
    n_missing: int
    count_error: int = 0
    kind: str = "categorical"

    def __post_init__(self) -> None:
        if len(self.categories) != len(self.counts):
            raise DataError(
                f"{len(self.categories)} categories but {len(self.counts)} counts; "
                "pass one count per category"
            )
        if self.n < 0 or self.n_missing < 0 or self.count_error < 0:
            raise DataError("counts must be non-negative")

    @property
    def n_total(self) -> int:
        return self.n + self.n_missing

    @property
    def n_unlisted(self) -> int:
        """Rows whose category is not in ``categories`` (0 when counts are exact)."""
        return max(self.n - int(np.sum(self.counts)), 0)


Summary = NumericSummary | CategoricalSummary

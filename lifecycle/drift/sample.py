"""Current-window samples, prepared once per feature and shared by every statistic.

A :class:`NumericSample` is the sorted finite values plus the missing and infinite counts
(sorting once is what makes KS, Wasserstein, PSI and Jensen-Shannon cheap: each is then a few
``searchsorted`` calls). A :class:`CategoricalSample` is category counts plus the missing
count. Both validate their input and raise :class:`~lifecycle.errors.DataError` with the fix.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lifecycle.errors import DataError

__all__ = ["CategoricalSample", "NumericSample", "sort_finite", "split_values"]


def split_values(values: NDArray[np.float64] | Sequence[float], feature: str) -> tuple[
    NDArray[np.float64], int, int
]:
    """Sort ``values`` and split off NaNs and infinities.

    Returns the sorted finite values, the number of NaNs (missing) and the number of
    +/-inf values. Infinite values are a drift signal of their own (``infinite_share``),
    never an error: logged data cannot be cleaned after the fact.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise DataError(f"feature {feature!r}: expected a 1-D array, got shape {arr.shape}")
    s = np.sort(arr)  # -inf first, then numbers, +inf, NaNs last
    n_nan = 0
    if s.size and np.isnan(s[-1]):
        # numpy orders NaN after every number, and searchsorted uses the same order.
        n_nan = s.size - int(np.searchsorted(s, np.nan, side="left"))
    end = s.size - n_nan
    lo = int(np.searchsorted(s[:end], -np.inf, side="right")) if end else 0
    hi = int(np.searchsorted(s[:end], np.inf, side="left")) if end else 0
    return s[lo:hi], n_nan, lo + (end - hi)


def sort_finite(values: NDArray[np.float64] | Sequence[float], feature: str) -> tuple[
    NDArray[np.float64], int
]:
    """Sort ``values`` and split off NaNs; infinite values are dropped (see
    :func:`split_values`, which also counts them)."""
    finite, n_nan, _ = split_values(values, feature)
    return finite, n_nan


@dataclass(frozen=True, eq=False)
class NumericSample:
    """Sorted finite values of one numeric feature and its number of missing values."""

    sorted_values: NDArray[np.float64]
    n_missing: int
    #: Number of +inf / -inf values (not in ``sorted_values``, not missing).
    n_infinite: int = 0
    #: Per-profile intermediate results shared by statistics (see lifecycle.drift.ecdf).
    cache: dict[int, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_values(
        cls, values: NDArray[np.float64] | Sequence[float], feature: str = "feature"
    ) -> NumericSample:
        finite, n_nan, n_inf = split_values(values, feature)
        return cls(finite, n_nan, n_inf)

    @property
    def n(self) -> int:
        """Number of non-missing values."""
        return int(self.sorted_values.size)

    @property
    def n_total(self) -> int:
        """Every row: finite values, missing values and infinite values."""
        return self.n + self.n_missing + self.n_infinite


@dataclass(frozen=True, eq=False)
class CategoricalSample:
    """Category counts of one categorical feature (labels are strings) and missing count."""

    categories: tuple[str, ...]
    counts: NDArray[np.int64]
    n_missing: int

    def __post_init__(self) -> None:
        if len(self.categories) != len(self.counts):
            raise DataError(
                f"{len(self.categories)} categories but {len(self.counts)} counts; "
                "pass one count per category"
            )
        if len(set(self.categories)) != len(self.categories):
            raise DataError("categories must be unique; merge the counts of repeated labels")
        if np.any(np.asarray(self.counts) < 0) or self.n_missing < 0:
            raise DataError("counts must be non-negative")

    @classmethod
    def from_values(cls, values: Sequence[object], feature: str = "feature") -> CategoricalSample:
        """Count plain Python values (None and float NaN are missing; labels become str)."""
        counts: dict[str, int] = {}
        missing = 0
        for v in values:
            if v is None or (isinstance(v, float) and v != v):
                missing += 1
            else:
                key = str(v)
                counts[key] = counts.get(key, 0) + 1
        cats = tuple(sorted(counts))
        return cls(cats, np.array([counts[c] for c in cats], dtype=np.int64), missing)

    @property
    def n(self) -> int:
        return int(np.sum(self.counts))

    @property
    def n_total(self) -> int:
        return self.n + self.n_missing

"""Current-window samples, prepared once per feature and shared by every statistic.

A :class:`NumericSample` is the sorted finite values plus the missing count (sorting once is
what makes KS, Wasserstein, PSI and Jensen-Shannon cheap: each is then a few
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

__all__ = ["CategoricalSample", "NumericSample", "sort_finite"]


def sort_finite(values: NDArray[np.float64] | Sequence[float], feature: str) -> tuple[
    NDArray[np.float64], int
]:
    """Sort ``values`` and split off NaNs.

    Returns the sorted non-missing values and the number of NaNs. Raises
    :class:`DataError` on +/-inf (no statistic here has a meaning for them).
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise DataError(f"feature {feature!r}: expected a 1-D array, got shape {arr.shape}")
    s = np.sort(arr)  # NaNs sort last
    n_nan = 0
    if s.size and np.isnan(s[-1]):
        # numpy orders NaN after every number, and searchsorted uses the same order.
        n_nan = s.size - int(np.searchsorted(s, np.nan, side="left"))
    finite = s[: s.size - n_nan]
    if finite.size and (np.isinf(finite[0]) or np.isinf(finite[-1])):
        n_inf = int(np.count_nonzero(np.isinf(finite)))
        raise DataError(
            f"feature {feature!r} contains {n_inf} infinite value(s); replace them with NaN "
            "(counted as missing) or clip them to a finite range before checking drift"
        )
    return finite, n_nan


@dataclass(frozen=True, eq=False)
class NumericSample:
    """Sorted finite values of one numeric feature and its number of missing values."""

    sorted_values: NDArray[np.float64]
    n_missing: int
    #: Per-profile intermediate results shared by statistics (see lifecycle.drift.ecdf).
    cache: dict[int, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_values(
        cls, values: NDArray[np.float64] | Sequence[float], feature: str = "feature"
    ) -> NumericSample:
        finite, n_nan = sort_finite(values, feature)
        return cls(finite, n_nan)

    @property
    def n(self) -> int:
        """Number of non-missing values."""
        return int(self.sorted_values.size)

    @property
    def n_total(self) -> int:
        return self.n + self.n_missing


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

"""Total variation distance: the share of the mass that moved between categories.

``TVD = 1/2 * sum_i |c_i - r_i|`` over the categorical buckets of
:func:`lifecycle.drift.base.buckets` (every reference category, ``__unseen__``,
``__missing__``; proportions over all rows of each side). It is the smallest share of the
current rows that would have to change category to give back the reference distribution:
moving 10 points of mass from category ``a`` to ``b`` gives exactly 0.10, whatever the
number of categories. No smoothing is needed.

It has no test of its own: it is gated by the feature's chi-square test. Sampling noise
makes it slightly positive on unchanged data (about ``1/2 * sum_i sqrt(2 p_i (1-p_i) / pi)
* sqrt(1/n + 1/m)``, 0.017 for ten equal categories at n = m = 10,000); the thresholds
(docs/drift.md) sit above that.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.base import StatOptions, buckets
from lifecycle.drift.profile import CategoricalProfile, FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.errors import DataError

__all__ = ["compute", "tvd_from_counts"]

NAME = "total_variation"


def tvd_from_counts(reference: NDArray[np.int64], current: NDArray[np.int64]) -> float:
    """Total variation distance of two count vectors over the same buckets."""
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(current, dtype=np.float64)
    return float(min(1.0, 0.5 * np.abs(c / c.sum() - r / r.sum()).sum()))


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample, options: StatOptions
) -> StatResult:
    """Share of mass moved between the categories of one categorical feature."""
    if not isinstance(profile, CategoricalProfile) or not isinstance(sample, CategoricalSample):
        raise DataError("total_variation applies to categorical features only")
    b = buckets(profile, sample)
    if b.current.sum() == 0:
        return StatResult(
            name=NAME, kind="categorical", statistic=float("nan"), effect=float("nan"),
            p_value=None, n_reference=int(b.reference.sum()), n_current=0,
            variant="not computed: no current rows",
        )
    value = tvd_from_counts(b.reference, b.current)
    r = b.reference / b.reference.sum()
    c = b.current / b.current.sum()
    top = int(np.argmax(np.abs(c - r)))
    return StatResult(
        name=NAME,
        kind="categorical",
        statistic=value,
        effect=value,
        p_value=None,
        n_reference=int(b.reference.sum()),
        n_current=int(b.current.sum()),
        variant="1/2 sum |c_i - r_i| over categories + __unseen__ + __missing__",
        categories=b.labels,
        reference_counts=tuple(int(x) for x in b.reference),
        current_counts=tuple(int(x) for x in b.current),
        smoothing="none",
        extra={"largest_move": {"category": b.labels[top], "reference_share": float(r[top]),
                                "current_share": float(c[top])}},
    )

"""Total variation distance: the share of the mass that moved between categories.

``TVD = 1/2 * sum_i |c_i - r_i|`` over the categorical buckets of
:func:`lifecycle.drift.base.buckets` (every reference category, ``__unseen__``,
``__missing__``; proportions over all rows of each side). It is the smallest share of the
current rows that would have to change category to give back the reference distribution:
moving 10 points of mass from category ``a`` to ``b`` gives exactly 0.10, whatever the
number of categories. No smoothing is needed.

The raw TVD is the ``statistic``. Sampling noise makes it positive on unchanged data (about
``1/2 * sum_i sqrt(2 p_i (1 - p_i) / pi) * sqrt(1/n + 1/m)``: 0.025 for twenty equal
categories at n = m = 10,000), and the noise grows with the number of categories, so the
``effect`` compared with the thresholds removes each bucket's sampling variance first:

``effect = 1/2 * sum_i sqrt(max(0, (c_i - r_i)^2 - v_i))``,
``v_i = p_i (1 - p_i) (1/n + 1/m)`` with ``p_i`` the pooled share of bucket ``i``

(``E (c_i - r_i)^2 = (true move)^2 + v_i``). A real move of several points keeps its size
(``sqrt(d^2 - v) ~ d``); pure noise shrinks about threefold. It has no test of its own: it is
gated by the feature's chi-square test.

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

__all__ = ["compute", "tvd_debiased", "tvd_from_counts"]

NAME = "total_variation"


def tvd_from_counts(reference: NDArray[np.int64], current: NDArray[np.int64]) -> float:
    """Total variation distance of two count vectors over the same buckets."""
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(current, dtype=np.float64)
    return float(min(1.0, 0.5 * np.abs(c / c.sum() - r / r.sum()).sum()))


def tvd_debiased(reference: NDArray[np.int64], current: NDArray[np.int64]) -> float:
    """TVD with each bucket's sampling variance removed (see the module docstring)."""
    r_n = np.asarray(reference, dtype=np.float64)
    c_n = np.asarray(current, dtype=np.float64)
    n, m = r_n.sum(), c_n.sum()
    d = c_n / m - r_n / n
    pooled = (r_n + c_n) / (n + m)
    v = pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)
    return float(min(1.0, 0.5 * np.sqrt(np.maximum(0.0, d * d - v)).sum()))


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
    effect = tvd_debiased(b.reference, b.current)
    r = b.reference / b.reference.sum()
    c = b.current / b.current.sum()
    top = int(np.argmax(np.abs(c - r)))
    return StatResult(
        name=NAME,
        kind="categorical",
        statistic=value,
        effect=effect,
        p_value=None,
        n_reference=int(b.reference.sum()),
        n_current=int(b.current.sum()),
        variant="statistic 1/2 sum |c_i - r_i| over categories + __unseen__ + __missing__; "
        "effect 1/2 sum sqrt(max(0, (c_i - r_i)^2 - v_i)), v_i sampling variance",
        categories=b.labels,
        reference_counts=tuple(int(x) for x in b.reference),
        current_counts=tuple(int(x) for x in b.current),
        smoothing="none",
        extra={"largest_move": {"category": b.labels[top], "reference_share": float(r[top]),
                                "current_share": float(c[top])}},
    )

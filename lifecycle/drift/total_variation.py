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

A summarised current window with estimated counts (:mod:`lifecycle.drift.summary_buckets`):
both ``1/2 |c_j - r_j|`` and the debiased term are evaluated over each bucket's count interval
(zero inside it when it holds ``r_j``, the larger end otherwise), giving the range of the
statistic (``error_bound``, ``extra["interval"]``) and of the effect
(``extra["effect_error_bound"]``, ``extra["effect_interval"]``).

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.base import StatOptions
from lifecycle.drift.profile import CategoricalProfile, FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import CategoricalSummary, Summary
from lifecycle.drift.summary_buckets import current_buckets, interval_stat, with_interval
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


def _tv_term(r: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * np.abs(c - r)


def _debiased_term(n: float, m: float):  # type: ignore[no-untyped-def]
    def term(r: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
        pooled = (r * n + c * m) / (n + m)
        v = pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)
        return 0.5 * np.sqrt(np.maximum(0.0, (c - r) ** 2 - v))

    return term


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Share of mass moved between the categories of one categorical feature."""
    if not isinstance(profile, CategoricalProfile) or not isinstance(
        sample, CategoricalSample | CategoricalSummary
    ):
        raise DataError("total_variation applies to categorical features only")
    b, sb = current_buckets(profile, sample, options)
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
    extra: dict[str, object] = {}
    lo = hi = value
    if sb is not None:
        lo, hi = interval_stat(sb, _tv_term, lambda t: min(1.0, t))
        e_lo, e_hi = interval_stat(
            sb, _debiased_term(float(b.reference.sum()), sb.total), lambda t: min(1.0, t))
        extra = {"effect_interval": (e_lo, e_hi),
                 "effect_error_bound": max(e_hi - effect, effect - e_lo, 0.0)}
    return with_interval(StatResult(
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
                                "current_share": float(c[top])}, **extra},
    ), sb, lo, hi)

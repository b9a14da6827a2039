"""Chi-square test of homogeneity on the reference x current contingency table.

The table has two rows (reference, current) and one column per bucket of
:func:`lifecycle.drift.base.buckets` - every reference category, ``__unseen__`` (current
categories never seen in the reference) and ``__missing__`` - with columns empty in both rows
dropped. Pearson's statistic without Yates' correction
(``scipy.stats.chi2_contingency(table, correction=False)``), ``dof = columns - 1``.
The effect size compared with the thresholds is Cramér's V, ``sqrt(chi2 / N)`` for a
two-row table (``N`` = all counts), which, unlike the p-value, does not grow with sample size.

A summarised current window with estimated counts (:mod:`lifecycle.drift.summary_buckets`):
with the row totals ``n`` (reference) and ``m`` (current, exact) fixed, Pearson's statistic is
``sum_j n m (a_j - b_j)^2 / (n a_j + m b_j)`` over the proportions ``a_j``, ``b_j``, each term
convex in ``b_j`` and zero at ``b_j = a_j``; its range over the count intervals gives
``error_bound`` (on chi-square), ``extra["effect_error_bound"]`` (on Cramér's V) and
``extra["p_value_range"]`` (the p-value at both ends; the decision uses the larger).

Part of the pure core: standard library, numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from lifecycle.drift.base import StatOptions
from lifecycle.drift.profile import CategoricalProfile, FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import CategoricalSummary, Summary
from lifecycle.drift.summary_buckets import current_buckets, interval_stat, with_interval
from lifecycle.errors import DataError

__all__ = ["compute"]

NAME = "chi_square"


def _chi2_term(n: float, m: float):  # type: ignore[no-untyped-def]
    def term(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        den = n * a + m * b
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, n * m * (a - b) ** 2 / den, 0.0)

    return term


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Chi-square statistic, p-value and Cramér's V of one categorical feature."""
    if not isinstance(profile, CategoricalProfile) or not isinstance(
        sample, CategoricalSample | CategoricalSummary
    ):
        raise DataError("chi_square applies to categorical features only")
    b, sb = current_buckets(profile, sample, options)
    table = np.vstack((b.reference, b.current))
    keep = table.sum(axis=0) > 0
    table = table[:, keep]
    total = int(table.sum())
    if table.shape[1] < 2:
        chi2, p, dof = 0.0, 1.0, 0
    else:
        res = stats.chi2_contingency(table, correction=False)
        chi2, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
    v = math.sqrt(chi2 / total) if total else 0.0
    extra: dict[str, object] = {}
    lo = hi = chi2
    if sb is not None:
        n_ref = float(b.reference.sum())
        lo, hi = interval_stat(sb, _chi2_term(n_ref, sb.total))
        big = n_ref + sb.total
        v_lo, v_hi = math.sqrt(lo / big), math.sqrt(hi / big)
        p_range = (float(stats.chi2.sf(hi, dof)), float(stats.chi2.sf(lo, dof))) if dof else (
            1.0, 1.0)
        extra = {"effect_interval": (v_lo, v_hi), "p_value_range": p_range,
                 "effect_error_bound": max(v_hi - v, v - v_lo, 0.0)}
    return with_interval(StatResult(
        name=NAME,
        kind="categorical",
        statistic=chi2,
        effect=min(1.0, v),
        p_value=p,
        n_reference=int(b.reference.sum()),
        n_current=int(b.current.sum()),
        variant="Pearson chi-square of homogeneity, no Yates correction; effect = Cramér's V",
        categories=tuple(lbl for lbl, k in zip(b.labels, keep, strict=True) if k),
        reference_counts=tuple(int(x) for x in table[0]),
        current_counts=tuple(int(x) for x in table[1]),
        extra={"dof": dof, "cramers_v": v, **extra},
    ), sb, lo, hi)

"""Chi-square test of homogeneity on the reference x current contingency table.

The table has two rows (reference, current) and one column per bucket of
:func:`lifecycle.drift.base.buckets` - every reference category, ``__unseen__`` (current
categories never seen in the reference) and ``__missing__`` - with columns empty in both rows
dropped. Pearson's statistic without Yates' correction
(``scipy.stats.chi2_contingency(table, correction=False)``), ``dof = columns - 1``.
The effect size compared with the thresholds is Cramér's V, ``sqrt(chi2 / N)`` for a
two-row table (``N`` = all counts), which, unlike the p-value, does not grow with sample size.

Part of the pure core: standard library, numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from lifecycle.drift.base import StatOptions, buckets
from lifecycle.drift.profile import CategoricalProfile, FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.errors import DataError

__all__ = ["compute"]

NAME = "chi_square"


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample, options: StatOptions
) -> StatResult:
    """Chi-square statistic, p-value and Cramér's V of one categorical feature."""
    if not isinstance(profile, CategoricalProfile) or not isinstance(sample, CategoricalSample):
        raise DataError("chi_square applies to categorical features only")
    b = buckets(profile, sample)
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
    return StatResult(
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
        extra={"dof": dof, "cramers_v": v},
    )

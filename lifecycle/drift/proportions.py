"""Missing-value, out-of-range and infinite-value shares: drift signals of their own.

* ``missing_share``: share of rows whose value is missing, reference vs current.
* ``infinite_share`` (numeric): share of rows holding +inf or -inf, reference vs current.
  Infinite values never reach the distribution statistics and are never an error: logged
  inputs cannot be cleaned after the fact, so they are counted and compared instead.
* ``out_of_range_share``: share of non-missing current values outside the reference support
  (numeric: below the reference minimum or above its maximum; categorical: categories never
  seen in the reference). The reference share is 0 by construction.

Each is tested with the pooled two-proportion z-test, two-sided:
``z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with ``p = (x1 + x2) / (n1 + n2)``,
``p-value = 2 * (1 - Phi(|z|))``; when ``p`` is 0 or 1 nothing can differ and the p-value is 1.
The statistic is ``p2 - p1`` and the effect compared with thresholds is ``|p2 - p1|``
(percentage points, easy to explain; does not shrink with sample size).

A summarised current window: missing and infinite counts are exact. The out-of-range count is
exact when the rollup counted it against this reference (``n_below``/``n_above``), or when the
window's exact minimum / maximum lie inside the reference range (then it is 0); otherwise it is
estimated from the sketched CDF at the reference minimum and maximum, each side within
``n e`` (``e`` the rank error). ``error_bound`` is then the bound on the share,
``extra["p_value_range"]`` the p-values at both ends of the count's range (the decision uses
the larger). Categorical summaries with estimated counts: the ``__unseen__`` bucket's interval
(:mod:`lifecycle.drift.summary_buckets`).

Part of the pure core: standard library, numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from lifecycle.drift.base import StatOptions, check_pair
from lifecycle.drift.profile import FeatureProfile, NumericProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import NumericSummary, Summary
from lifecycle.drift.summary_buckets import current_buckets
from lifecycle.drift.summary_cdf import count_above, count_below
from lifecycle.errors import DataError

__all__ = ["compute_infinite", "compute_missing", "compute_out_of_range", "two_proportion_z"]

VARIANT = "pooled two-proportion z-test, two-sided; effect = |current share - reference share|"


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """``(z, two-sided p)`` of the pooled two-proportion z-test."""
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return 0.0, 1.0
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = (x2 / n2 - x1 / n1) / se
    return z, float(min(1.0, 2.0 * stats.norm.sf(abs(z))))


def _result(
    name: str, kind: str, x1: int, n1: int, x2: int, n2: int, extra: dict[str, object],
    bound: float = 0.0,
) -> StatResult:
    if n1 == 0 or n2 == 0:
        return StatResult(
            name=name, kind=kind, statistic=float("nan"), effect=float("nan"), p_value=None,
            n_reference=n1, n_current=n2,
            variant="not computed: no values on one side", extra=extra,
        )
    z, p = two_proportion_z(x1, n1, x2, n2)
    diff = x2 / n2 - x1 / n1
    if bound > 0:  # x2 is an estimate within +/- bound (counts): p at both ends of its range
        ends = [max(0.0, x2 - bound), min(float(n2), x2 + bound)]
        if ends[0] <= x1 / n1 * n2 <= ends[1]:
            ends.append(x1 / n1 * n2)  # the range holds "no difference": p can reach 1
        ps = [two_proportion_z(x1, n1, int(np.rint(e)), n2)[1] if e != x1 / n1 * n2 else 1.0
              for e in ends]
        extra = {**extra, "p_value_range": (min(ps), max(ps))}
    return StatResult(
        name=name,
        kind=kind,
        statistic=diff,
        effect=abs(diff),
        p_value=p,
        n_reference=n1,
        n_current=n2,
        variant=VARIANT,
        reference_counts=(x1, n1 - x1),
        current_counts=(x2, n2 - x2),
        error_bound=bound / n2,
        extra={"reference_share": x1 / n1, "current_share": x2 / n2, "z": z, **extra},
    )


def compute_missing(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Missing-value share, reference vs current (denominators: all rows)."""
    check_pair(profile, sample, "missing_share")
    return _result(
        "missing_share", profile.kind, profile.n_missing, profile.n_total,
        sample.n_missing, sample.n_total, {},
    )


def compute_infinite(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Share of rows holding +/-inf, reference vs current (denominators: all rows)."""
    check_pair(profile, sample, "infinite_share")
    if not isinstance(profile, NumericProfile) or not isinstance(
        sample, NumericSample | NumericSummary
    ):
        raise DataError("infinite_share applies to numeric features only")
    return _result(
        "infinite_share", "numeric", profile.n_infinite, profile.n_total,
        sample.n_infinite, sample.n_total, {},
    )


def compute_out_of_range(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Share of non-missing current values outside the reference support."""
    if isinstance(profile, NumericProfile) and isinstance(sample, NumericSummary):
        return _out_of_range_summary(profile, sample, options)
    if isinstance(profile, NumericProfile) and isinstance(sample, NumericSample):
        c = sample.sorted_values
        below = int(np.searchsorted(c, profile.minimum, side="left"))
        above = int(c.size - np.searchsorted(c, profile.maximum, side="right"))
        extra: dict[str, object] = {
            "below_min": below, "above_max": above,
            "reference_min": profile.minimum, "reference_max": profile.maximum,
        }
        return _result("out_of_range_share", "numeric", 0, profile.n, below + above, c.size,
                       extra)
    check_pair(profile, sample, "out_of_range_share")
    b, sb = current_buckets(profile, sample, options)
    unseen = sum(cnt for _, cnt in b.unseen)
    extra = {"unseen_categories": [list(t) for t in b.unseen[:50]],
             "n_unseen_categories": len(b.unseen)}
    k = len(b.labels) - 2  # the __unseen__ bucket
    bound = 0.0 if sb is None else float(max(sb.high[k] - sb.estimate[k],
                                             sb.estimate[k] - sb.low[k]))
    return _result("out_of_range_share", "categorical", 0, profile.n, unseen, sample.n, extra,
                   bound)


def _out_of_range_summary(
    profile: NumericProfile, summary: NumericSummary, options: StatOptions
) -> StatResult:
    if summary.exact_for(options.reference_digest) and summary.n_below is not None \
            and summary.n_above is not None:
        below, above, bound, how = summary.n_below, summary.n_above, 0.0, "exact (rollup)"
    else:
        est_b, err_b = count_below(summary, np.array([profile.minimum]))
        est_a, err_a = count_above(summary, profile.maximum)
        below, above = int(np.rint(est_b[0])), int(np.rint(est_a))
        bound = min(float(err_b[0]) + err_a, float(summary.n))
        how = "exact (current range inside the reference range)" if bound == 0 else (
            "estimated from the sketched CDF at the reference minimum and maximum")
    extra: dict[str, object] = {
        "below_min": below, "above_max": above,
        "reference_min": profile.minimum, "reference_max": profile.maximum, "counts": how,
    }
    return _result("out_of_range_share", "numeric", 0, profile.n, below + above, summary.n,
                   extra, bound)

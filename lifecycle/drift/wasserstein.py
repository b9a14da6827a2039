"""Wasserstein-1 distance normalised by the reference standard deviation.

``W1 = integral |F_ref(x) - F_cur(x)| dx`` (what ``scipy.stats.wasserstein_distance``
computes), integrated exactly on the merged grid of :mod:`lifecycle.drift.ecdf`; the
reported statistic is ``W1 / std_ref`` (population standard
deviation of the non-missing reference values), which makes it unit-free: 0.1 means the
distributions are, on average, a tenth of a reference standard deviation apart.

With a sketched reference, ``F_ref`` inside a cell ``(q_i, q_j)`` is only known to lie in
``[le_i / n, lt_j / n]``; it is taken as the straight line between those bounds, so the
result is within ``sum_cells (q_j - q_i) * (lt_j - le_i) / n`` (``wasserstein_error_bound``)
divided by ``std_ref`` of the exact value (reported as ``error_bound``).

With a summarised current window the current CDF is the summary's step function
(:mod:`lifecycle.drift.summary_cdf`); it differs from the window's CDF by at most the rank
error ``e`` everywhere and not at all outside the exact ``[min, max]``, so
``W1(F_hat, F) <= e (max - min)`` and ``error_bound = (e (max - min) +
wasserstein_error_bound) / std_ref`` (docs/drift.md, "Drift from rollups").

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

from lifecycle.drift.base import StatOptions
from lifecycle.drift.ecdf import compare_cdfs
from lifecycle.drift.profile import FeatureProfile, NumericProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import NumericSummary, Summary
from lifecycle.drift.summary_cdf import compare_summary, w1_bound
from lifecycle.errors import DataError

__all__ = ["compute", "wasserstein_distance"]

NAME = "wasserstein"


def wasserstein_distance(profile: NumericProfile, sample: NumericSample) -> float:
    """Unnormalised W1 between the reference profile and the current sample."""
    return compare_cdfs(profile, sample).wasserstein()


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Normalised Wasserstein distance of one numeric feature."""
    if not isinstance(profile, NumericProfile) or not isinstance(
        sample, NumericSample | NumericSummary
    ):
        raise DataError("wasserstein applies to numeric features only")
    if sample.n == 0:
        return StatResult.no_current_values(NAME, profile.n)
    if isinstance(sample, NumericSummary):
        raw = compare_summary(profile, sample).wasserstein()
        bound = profile.wasserstein_error_bound + w1_bound(sample)
        value = raw / profile.std
        return StatResult(
            name=NAME, kind="numeric", statistic=value, effect=value, p_value=None,
            n_reference=profile.n, n_current=sample.n,
            variant="W1 / std_ref (population std of the reference); current CDF from the "
            "window's quantile sketch",
            error_bound=bound / profile.std,
            extra={"w1": raw, "reference_std": profile.std, "rank_error": sample.rank_error},
        )
    raw = wasserstein_distance(profile, sample)
    value = raw / profile.std
    return StatResult(
        name=NAME,
        kind="numeric",
        statistic=value,
        effect=value,
        p_value=None,
        n_reference=profile.n,
        n_current=sample.n,
        variant="W1 / std_ref (population std of the reference)",
        error_bound=profile.wasserstein_error_bound / profile.std,
        extra={"w1": raw, "reference_std": profile.std},
    )

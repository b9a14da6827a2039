"""Run the statistics of every feature (in parallel) and hand them to the decision.

Each feature is one job: prepare its current sample (the sort is the expensive part), run
every selected statistic, the feature's gate test, the share signals of its kind and the
context statistics (PSI, shown but not voting unless selected). numpy releases
the GIL while sorting and searching, so a small thread pool uses every core without copying
data between processes.

:func:`check_summaries` does the same for a window summarised by merged sketches (the rollup
path): no rows, one small merged grid per feature, every statistic with its error bound.

Part of the pure core: standard library, numpy and scipy only.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from lifecycle.drift.base import StatOptions
from lifecycle.drift.decision import DriftPolicy, FeatureStatistics, decide
from lifecycle.drift.profile import FeatureProfile, NumericProfile, ReferenceProfile
from lifecycle.drift.report import DriftReport
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.statistics import CONTEXT_STATISTICS, GATE_TEST, STATISTICS, signals_for
from lifecycle.drift.summary import CategoricalSummary, NumericSummary, Summary
from lifecycle.errors import DataError

__all__ = ["check_profile", "check_summaries", "feature_statistics", "parallel_map"]

T = TypeVar("T")

Sample = NumericSample | CategoricalSample


def parallel_map(jobs: Sequence[Callable[[], T]], workers: int | None = None) -> list[T]:
    """Run zero-argument jobs on a thread pool, in order; the first error propagates."""
    if workers is None:
        workers = min(len(jobs), os.cpu_count() or 1, 8)
    if workers <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lifecycle-drift") as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]


def feature_statistics(
    feature: str, profile: FeatureProfile, sample: Sample | Summary, policy: DriftPolicy,
    options: StatOptions | None = None,
) -> FeatureStatistics:
    """Every statistic the policy needs for one feature (``options`` default to the
    policy's)."""
    numeric = isinstance(sample, NumericSample | NumericSummary)
    if isinstance(profile, NumericProfile) != numeric:
        raise DataError(
            f"feature {feature!r} is {profile.kind} in the reference but "
            f"{'numeric' if numeric else 'categorical'} in the "
            "current data; cast the current column to the reference's type"
        )
    tests = policy.tests_for(feature, profile.kind)
    names = list(dict.fromkeys((
        *tests, GATE_TEST[profile.kind], *signals_for(profile.kind), *CONTEXT_STATISTICS,
    )))
    options = options or policy.options()
    results = tuple(STATISTICS[name].compute(profile, sample, options) for name in names)
    return FeatureStatistics(
        feature=feature,
        kind=profile.kind,
        statistics=results,
        n_reference=profile.n_total,
        n_current=sample.n_total,
    )


def _require_features(
    profile: ReferenceProfile, current: Mapping[str, object], lacks: str, fix: str
) -> None:
    """Raise :class:`DataError` naming the profile's features missing from ``current``."""
    missing = [f for f in profile.features if f not in current]
    if missing:
        raise DataError(
            f"{lacks} feature(s) {missing} that the reference profile has; "
            f"{fix}, or set a new reference without them"
        )


def check_profile(
    profile: ReferenceProfile,
    current: Mapping[str, Callable[[], Sample] | Sample],
    policy: DriftPolicy | None = None,
    *,
    kind: str = "data",
    workers: int | None = None,
    importances: Mapping[str, float] | None = None,
) -> DriftReport:
    """Drift report of current samples against a stored reference profile.

    Parameters
    ----------
    profile
        The reference profile.
    current
        Per feature of the profile: a prepared sample, or a zero-argument callable that
        prepares it (so preparation runs in the pool too).
    policy
        Decision policy (defaults when None).
    importances
        Optional model importance per feature, shown beside the effect size (see
        :func:`lifecycle.drift.decision.decide`).
    """
    policy = policy or DriftPolicy()
    _require_features(profile, current, "current data lacks", "log them")

    def job(name: str, prof: FeatureProfile) -> Callable[[], FeatureStatistics]:
        def run() -> FeatureStatistics:
            item = current[name]
            sample = item if isinstance(item, NumericSample | CategoricalSample) else item()
            return feature_statistics(name, prof, sample, policy)

        return run

    stats = parallel_map([job(n, p) for n, p in profile.features.items()], workers)
    return decide(stats, policy, kind=kind, importances=importances)


def check_summaries(
    profile: ReferenceProfile,
    current: Mapping[str, Summary],
    policy: DriftPolicy | None = None,
    *,
    kind: str = "data",
    importances: Mapping[str, float] | None = None,
) -> DriftReport:
    """Drift report of a window summarised by merged sketches against a reference profile.

    Same statistics, same decision as :func:`check_profile`; each statistic states the bound
    its sketch allows (``error_bound``) and the decision takes every effect and p-value at the
    conservative end of its range (docs/drift.md, "Drift from rollups"). The report's ``path``
    is ``"rollup"`` and ``rank_error`` the largest rank error of its numeric summaries.

    Parameters
    ----------
    profile
        The reference profile.
    current
        Per feature of the profile: a :class:`NumericSummary` or :class:`CategoricalSummary`
        of the window. Exact bin and range counts in a numeric summary are used only when
        they were taken against this profile (``summary.exact_for(profile.digest())``).
    policy, kind, importances
        As in :func:`check_profile`.
    """
    policy = policy or DriftPolicy()
    _require_features(profile, current, "current summaries lack", "roll them up")
    for name in profile.features:
        if not isinstance(current[name], NumericSummary | CategoricalSummary):
            raise DataError(
                f"feature {name!r}: expected a NumericSummary or CategoricalSummary, got "
                f"{type(current[name]).__name__}; use check_profile for in-memory samples"
            )
    options = dataclasses.replace(policy.options(), reference_digest=profile.digest())
    stats = [feature_statistics(name, prof, current[name], policy, options)
             for name, prof in profile.features.items()]
    report = decide(stats, policy, kind=kind, importances=importances)
    rank = max((s.rank_error for s in current.values() if isinstance(s, NumericSummary)),
               default=0.0)
    return dataclasses.replace(report, path="rollup", rank_error=float(rank))

"""The one place thresholds are applied: policy, Benjamini-Hochberg, verdicts.

A feature drifts when a change is **significant** and **large enough to matter**:

1. Every hypothesis test of the report joins one family - per feature the distribution test
   (KS for numeric, chi-square for categorical), the spread test (numeric), and the
   missing-share, out-of-range and infinite-share tests - and its p-values are adjusted with
   Benjamini-Hochberg (false discovery rate ``alpha``, default 0.05).
2. Each statistic gets a level: ``insufficient_data`` when either side has fewer than
   ``min_samples`` values; ``no_drift`` when the adjusted p-value (its own, or for PSI,
   Jensen-Shannon, Wasserstein and total variation the one of the feature's distribution
   test, named in ``gate``) is not below ``alpha``; otherwise ``drift`` / ``warning`` /
   ``no_drift`` by its effect size against its drift / warning thresholds.
3. A feature's verdict is ``drift`` if any deciding statistic (the selected distribution
   statistics plus the share signals of its kind) drifts; else ``insufficient_data`` if any
   could not be assessed - never ``no_drift`` on too little data; else ``warning`` if any
   warns; else ``no_drift``.
4. A feature's ``severity`` is the largest ``effect / drift threshold`` among its deciding
   statistics that drift or warn (>= 1 means drift): effect sizes in owner units made
   comparable across features and statistics. The report ranks features by it; a model's
   importance per feature, when given, is shown beside it.

5. **Error bounds.** A statistic computed from a sketch states ``error_bound`` (on its
   statistic; ``extra["effect_error_bound"]`` when the effect is a different number, as for
   chi-square's Cramér's V). Its level is taken at the conservative end: ``effect - bound``
   against the thresholds, and the p-value entering Benjamini-Hochberg is the largest of
   ``extra["p_value_range"]``. With ``error_bound == 0`` nothing changes.

In a huge window every p-value is tiny, so the effect-size gate is what prevents false
alarms; in a tiny window effect sizes are noisy, so the significance gate and
``min_samples`` are what prevent them.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lifecycle.drift.base import StatOptions
from lifecycle.drift.report import (
    DRIFT,
    INSUFFICIENT,
    NO_DRIFT,
    WARNING,
    DriftReport,
    FeatureResult,
    StatResult,
)
from lifecycle.drift.statistics import (
    DISTRIBUTION_STATISTICS,
    GATE_TEST,
    SIGNALS,
    STATISTICS,
    get_statistic,
    signals_for,
    validate_names,
)
from lifecycle.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_CATEGORICAL_TESTS",
    "DEFAULT_NUMERIC_TESTS",
    "DriftPolicy",
    "FeatureOverride",
    "FeatureStatistics",
    "Thresholds",
    "benjamini_hochberg",
    "conservative_p",
    "decide",
    "effect_bound",
]

#: Statistics that vote by default: change in owner units (docs/drift.md, "Sensitivity").
DEFAULT_NUMERIC_TESTS = ("wasserstein", "spread")
DEFAULT_CATEGORICAL_TESTS = ("total_variation",)


@dataclass(frozen=True)
class Thresholds:
    """Warning and drift thresholds on a statistic's effect size (``warning <= drift``)."""

    warning: float
    drift: float

    def __post_init__(self) -> None:
        if not (0 <= self.warning <= self.drift):
            raise ConfigError(
                f"thresholds need 0 <= warning <= drift, got warning={self.warning!r}, "
                f"drift={self.drift!r}"
            )


@dataclass(frozen=True)
class FeatureOverride:
    """Per-feature changes to the policy (``None`` / empty = use the model's policy)."""

    tests: tuple[str, ...] | None = None
    thresholds: Mapping[str, Thresholds] = field(default_factory=dict)
    min_samples: int | None = None

    def __post_init__(self) -> None:
        if self.tests is not None:
            validate_names(self.tests)
        for name in self.thresholds:
            get_statistic(name)


@dataclass(frozen=True)
class DriftPolicy:
    """Everything that decides a drift verdict, with the defaults documented in docs/drift.md.

    Attributes
    ----------
    alpha
        False discovery rate for Benjamini-Hochberg across the report's tests.
    min_samples
        Fewer values than this on either side -> ``insufficient_data``.
    numeric_tests, categorical_tests
        Distribution statistics that vote on a feature's verdict (the share signals always
        vote; the gate test and PSI are always computed).
    thresholds
        Per-statistic overrides of the registry defaults.
    features
        Per-feature overrides.
    bins, max_points
        Reference profile shape: PSI/JS bins, and distinct values kept exactly before the
        CDF is sketched.
    psi_epsilon, ks_method
        See :class:`lifecycle.drift.base.StatOptions`.
    """

    alpha: float = 0.05
    min_samples: int = 100
    numeric_tests: tuple[str, ...] = DEFAULT_NUMERIC_TESTS
    categorical_tests: tuple[str, ...] = DEFAULT_CATEGORICAL_TESTS
    thresholds: Mapping[str, Thresholds] = field(default_factory=dict)
    features: Mapping[str, FeatureOverride] = field(default_factory=dict)
    bins: int = 10
    max_points: int = 10_000
    psi_epsilon: float = 1e-4
    ks_method: str = "auto"

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ConfigError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if self.min_samples < 1:
            raise ConfigError(f"min_samples must be >= 1, got {self.min_samples!r}")
        if self.bins < 2:
            raise ConfigError(f"bins must be >= 2, got {self.bins!r}")
        if self.max_points < 2:
            raise ConfigError(f"max_points must be >= 2, got {self.max_points!r}")
        for kind, tests in (("numeric", self.numeric_tests),
                            ("categorical", self.categorical_tests)):
            if not tests:
                raise ConfigError(f"{kind}_tests must name at least one statistic")
            validate_names(tests, kind)
        for name in self.thresholds:
            get_statistic(name)
        self.options()  # validates psi_epsilon and ks_method

    def options(self) -> StatOptions:
        return StatOptions(psi_epsilon=self.psi_epsilon, ks_method=self.ks_method)

    def tests_for(self, feature: str, kind: str) -> tuple[str, ...]:
        """Distribution statistics that vote for ``feature`` (applicable to its kind)."""
        override = self.features.get(feature)
        tests = override.tests if override and override.tests is not None else (
            self.numeric_tests if kind == "numeric" else self.categorical_tests
        )
        chosen = tuple(t for t in tests if kind in STATISTICS[t].kinds and t not in SIGNALS)
        if not chosen:
            valid = [s for s in DISTRIBUTION_STATISTICS if kind in STATISTICS[s].kinds]
            raise ConfigError(
                f"none of the tests {list(tests)} applies to {kind} feature {feature!r}; "
                f"choose from {', '.join(valid)}"
            )
        return chosen

    def thresholds_for(self, feature: str, statistic: str) -> Thresholds:
        override = self.features.get(feature)
        if override and statistic in override.thresholds:
            return override.thresholds[statistic]
        if statistic in self.thresholds:
            return self.thresholds[statistic]
        stat = STATISTICS[statistic]
        return Thresholds(stat.warning, stat.drift)

    def min_samples_for(self, feature: str) -> int:
        override = self.features.get(feature)
        if override and override.min_samples is not None:
            return override.min_samples
        return self.min_samples

    def with_tests(self, tests: Sequence[str] | Mapping[str, Sequence[str]] | None) -> (
        DriftPolicy
    ):
        """A copy whose tests are ``tests``: a list (split by kind) or {kind: list}."""
        if tests is None:
            return self
        if isinstance(tests, str):
            tests = [tests]
        if isinstance(tests, Mapping):
            unknown = set(tests) - {"numeric", "categorical"}
            if unknown:
                raise ConfigError(
                    f"tests keys must be 'numeric' and/or 'categorical', got {sorted(unknown)}"
                )
            num = tuple(tests.get("numeric", self.numeric_tests))
            cat = tuple(tests.get("categorical", self.categorical_tests))
        else:
            names = validate_names(list(tests))
            num = tuple(t for t in names if "numeric" in STATISTICS[t].kinds)
            cat = tuple(t for t in names if "categorical" in STATISTICS[t].kinds)
            num = tuple(t for t in num if t not in SIGNALS) or self.numeric_tests
            cat = tuple(t for t in cat if t not in SIGNALS) or self.categorical_tests
        return dataclasses.replace(self, numeric_tests=num, categorical_tests=cat)

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "min_samples": self.min_samples,
            "numeric_tests": list(self.numeric_tests),
            "categorical_tests": list(self.categorical_tests),
            "thresholds": {
                name: dataclasses.asdict(self.thresholds_for("", name)) for name in STATISTICS
            },
            "features": {
                f: {
                    "tests": list(o.tests) if o.tests is not None else None,
                    "thresholds": {k: dataclasses.asdict(v) for k, v in o.thresholds.items()},
                    "min_samples": o.min_samples,
                }
                for f, o in self.features.items()
            },
            "bins": self.bins,
            "max_points": self.max_points,
            "psi_epsilon": self.psi_epsilon,
            "ks_method": self.ks_method,
            "multiple_testing": "benjamini-hochberg",
        }


@dataclass(frozen=True)
class FeatureStatistics:
    """Everything computed for one feature, before the decision."""

    feature: str
    kind: str
    statistics: tuple[StatResult, ...]
    n_reference: int
    n_current: int


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone, capped at 1)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m, dtype=np.float64)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def effect_bound(stat: StatResult) -> float:
    """Bound on ``|effect - exact effect|`` (0.0 on every exact path)."""
    return float(stat.extra.get("effect_error_bound", stat.error_bound))


def conservative_p(stat: StatResult) -> float | None:
    """The p-value the decision uses: the largest of ``extra["p_value_range"]`` when the
    statistic has an error bound, else ``p_value`` itself."""
    rng = stat.extra.get("p_value_range")
    if stat.p_value is None or not rng or (stat.error_bound == 0 and effect_bound(stat) == 0):
        return stat.p_value
    return max(float(stat.p_value), *(float(p) for p in rng))


def _sufficient(stat: StatResult, min_n: int) -> bool:
    return stat.computed and stat.n_reference >= min_n and stat.n_current >= min_n


def _level(effect: float, thr: Thresholds) -> str:
    if effect >= thr.drift:
        return DRIFT
    if effect >= thr.warning:
        return WARNING
    return NO_DRIFT


def _check_importances(importances: Mapping[str, float] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in (importances or {}).items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if not np.isfinite(v):
            raise DataError(
                f"importance of feature {name!r} is {value!r}; pass a finite number per "
                "feature (e.g. a fitted model's feature_importances_ or a permutation estimate)"
            )
        out[str(name)] = v
    return out


def _severity(decided: Sequence[StatResult], deciding: Sequence[str]) -> tuple[float, str | None]:
    best, top = 0.0, None
    for s in decided:
        if s.name not in deciding or s.level not in (DRIFT, WARNING):
            continue
        thr = s.drift_threshold or 0.0
        sev = s.effect / thr if thr > 0 else float("inf")
        if top is None or sev > best:
            best, top = sev, s.name
    return best, top


def decide(
    features: Sequence[FeatureStatistics],
    policy: DriftPolicy,
    *,
    kind: str = "data",
    importances: Mapping[str, float] | None = None,
) -> DriftReport:
    """Apply the policy to computed statistics and build the :class:`DriftReport`.

    ``importances`` (optional) maps feature names to the model's importance of each feature
    (a fitted estimator's ``feature_importances_``, or a permutation estimate from logged
    traffic); it is stored on each :class:`FeatureResult` and shown beside the effect size.
    Names the report does not have are ignored; a non-finite value raises ``DataError``.
    """
    imp = _check_importances(importances)
    family: list[tuple[int, str]] = []
    p_list: list[float] = []
    for i, f in enumerate(features):
        min_n = policy.min_samples_for(f.feature)
        for s in f.statistics:
            p = conservative_p(s)
            if p is not None and _sufficient(s, min_n):
                family.append((i, s.name))
                p_list.append(p)
    adjusted = dict(zip(family, benjamini_hochberg(p_list).tolist(), strict=True))

    results: list[FeatureResult] = []
    for i, f in enumerate(features):
        min_n = policy.min_samples_for(f.feature)
        deciding = (*policy.tests_for(f.feature, f.kind), *signals_for(f.kind))
        gate = GATE_TEST[f.kind]
        decided: list[StatResult] = []
        reasons: list[str] = []
        for s in f.statistics:
            thr = policy.thresholds_for(f.feature, s.name)
            own_p = adjusted.get((i, s.name))
            sig_name = s.name if STATISTICS[s.name].has_p_value else gate
            sig_p = adjusted.get((i, sig_name))
            if not _sufficient(s, min_n) or sig_p is None:
                level = INSUFFICIENT
                why = (f"{s.name}: {s.n_current} current / {s.n_reference} reference values, "
                       f"fewer than min_samples {min_n}")
            elif sig_p >= policy.alpha:
                level = NO_DRIFT
                why = ""
            else:
                bound = effect_bound(s)
                level = _level(s.effect - bound if bound > 0 else s.effect, thr)
                thr_value = thr.drift if level == DRIFT else thr.warning
                eff = STATISTICS[s.name].effect
                label = s.name if eff == s.name else f"{s.name} ({eff})"
                shown = f"{s.effect:.4g}" if bound <= 0 else (
                    f"{s.effect:.4g} - bound {bound:.3g} = {s.effect - bound:.4g}")
                why = (f"{label} = {shown} >= {level} "
                       f"threshold {thr_value:g} and {sig_name} adjusted p {sig_p:.3g} < "
                       f"alpha {policy.alpha:g}")
            if s.name in deciding and level in (DRIFT, WARNING, INSUFFICIENT):
                reasons.append(why)
            decided.append(dataclasses.replace(
                s, p_adjusted=own_p, level=level, warning_threshold=thr.warning,
                drift_threshold=thr.drift, gate=sig_name,
            ))
        levels = {s.level for s in decided if s.name in deciding}
        if DRIFT in levels:
            verdict = DRIFT
        elif INSUFFICIENT in levels:
            verdict = INSUFFICIENT
        elif WARNING in levels:
            verdict = WARNING
        else:
            verdict = NO_DRIFT
        by_name = {s.name: s for s in decided}
        miss = by_name.get("missing_share")
        oor = by_name.get("out_of_range_share")
        inf = by_name.get("infinite_share")
        severity, top = _severity(decided, deciding)
        unseen: tuple[tuple[str, int], ...] = ()
        if oor is not None and f.kind == "categorical":
            unseen = tuple((str(c), int(n)) for c, n in oor.extra.get("unseen_categories", []))
        results.append(FeatureResult(
            feature=f.feature,
            kind=f.kind,
            verdict=verdict,
            statistics=tuple(decided),
            deciding=tuple(deciding),
            reasons=tuple(r for r in reasons if r),
            n_reference=f.n_reference,
            n_current=f.n_current,
            missing_share_reference=float(miss.extra.get("reference_share", float("nan")))
            if miss else float("nan"),
            missing_share_current=float(miss.extra.get("current_share", float("nan")))
            if miss else float("nan"),
            out_of_range_share=float(oor.extra.get("current_share", float("nan")))
            if oor and oor.computed else None,
            unseen_share=float(oor.extra.get("current_share", float("nan")))
            if oor and oor.computed and f.kind == "categorical" else None,
            unseen_categories=unseen,
            infinite_share=float(inf.extra.get("current_share", float("nan")))
            if inf and inf.computed else None,
            severity=severity,
            top_statistic=top,
            importance=imp.get(f.feature),
        ))
    verdicts = [r.verdict for r in results]
    n_drifted = verdicts.count(DRIFT)
    if n_drifted:
        overall = DRIFT
    elif INSUFFICIENT in verdicts:
        overall = INSUFFICIENT
    elif WARNING in verdicts:
        overall = WARNING
    else:
        overall = NO_DRIFT
    return DriftReport(
        features=tuple(results),
        verdict=overall,
        drift_share=n_drifted / len(results) if results else 0.0,
        n_features=len(results),
        n_drifted=n_drifted,
        n_reference=max((f.n_reference for f in features), default=0),
        n_current=max((f.n_current for f in features), default=0),
        alpha=policy.alpha,
        policy=policy.to_dict(),
        kind=kind,
    )

"""Frozen result types of the drift engine: one statistic, one feature, one report.

Every :class:`StatResult` carries what is needed to reproduce its number by hand: the
statistic, the p-value where the test has one, bin edges or categories with both count
vectors, the smoothing, the log base, the test variant and the sample sizes. The decision
(:mod:`lifecycle.drift.decision`) fills in the adjusted p-value, the thresholds and the level.

Part of the pure core: standard library and numpy only (``to_frame`` imports pandas lazily,
only when a caller asks for a DataFrame).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.states import DRIFT, NO_DRIFT, WARNING
from lifecycle.states import INSUFFICIENT_DATA as INSUFFICIENT

__all__ = [
    "DRIFT",
    "INSUFFICIENT",
    "LEVELS",
    "NO_DRIFT",
    "WARNING",
    "DriftReport",
    "FeatureResult",
    "StatResult",
]

LEVELS = (NO_DRIFT, WARNING, DRIFT, INSUFFICIENT)


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, tuples -> lists, numpy scalars -> Python."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class StatResult:
    """One statistic computed on one feature.

    Attributes
    ----------
    name
        Registry name (``psi``, ``ks``, ``wasserstein``, ``spread``, ``jensen_shannon``,
        ``chi_square``, ``total_variation``, ``missing_share``, ``out_of_range_share``,
        ``infinite_share``).
    kind
        ``numeric`` or ``categorical``.
    statistic
        The raw statistic (chi-square value for ``chi_square``; current minus reference share
        for the two proportion signals). NaN when it could not be computed (see ``variant``).
    effect
        The number compared with the thresholds (equal to ``statistic`` except for
        ``chi_square``, where it is Cramér's V, and the proportion signals, where it is the
        absolute share difference).
    p_value
        Unadjusted p-value, or None for statistics without a test.
    n_reference, n_current
        Sample sizes the statistic used (non-missing values for distribution statistics,
        all rows for ``missing_share``).
    variant
        Exactly which formula/test ran, e.g. ``"two-sided, asymp (scipy kstwo.sf)"``.
    bin_edges
        Inner bin edges (outer bins are open to -inf/+inf); empty for categorical results.
    categories
        Bucket labels for categorical results (reference categories, then ``__unseen__`` and
        ``__missing__``), or bin labels.
    reference_counts, current_counts
        Counts per bin/category (numeric bins end with the missing-value bin).
    smoothing
        How empty bins were treated, e.g. ``"zero-count bins -> proportion 1e-4"``.
    log_base
        Log base of the statistic, where it has one.
    error_bound
        Bound on ``|statistic - exact statistic|`` when the reference is a quantile sketch
        (0.0 when exact).
    extra
        Further reproducing numbers (shares, unseen categories, degrees of freedom...).
    p_adjusted, level, warning_threshold, drift_threshold, gate
        Filled by the decision: Benjamini-Hochberg adjusted p-value, the level
        (``no_drift``/``warning``/``drift``/``insufficient_data``), the thresholds that
        applied, and the name of the test whose adjusted p-value gated this statistic.
    """

    name: str
    kind: str
    statistic: float
    effect: float
    p_value: float | None
    n_reference: int
    n_current: int
    variant: str
    bin_edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    reference_counts: tuple[int, ...] = ()
    current_counts: tuple[int, ...] = ()
    smoothing: str | None = None
    log_base: float | None = None
    error_bound: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)
    p_adjusted: float | None = None
    level: str | None = None
    warning_threshold: float | None = None
    drift_threshold: float | None = None
    gate: str | None = None

    @classmethod
    def no_current_values(cls, name: str, n_reference: int) -> StatResult:
        """A numeric statistic that could not be computed: the window has no usable value."""
        return cls(name=name, kind="numeric", statistic=float("nan"), effect=float("nan"),
                   p_value=None, n_reference=n_reference, n_current=0,
                   variant="not computed: no non-missing current values")

    @property
    def computed(self) -> bool:
        """False when the statistic could not be computed (no data on one side)."""
        return math.isfinite(self.statistic)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return _clean({f: getattr(self, f) for f in self.__dataclass_fields__})


@dataclass(frozen=True)
class FeatureResult:
    """Every statistic of one feature and the feature's verdict with its reasons.

    ``severity`` is the largest ``effect / drift threshold`` among the deciding statistics
    that drift or warn (0 when none does; >= 1 means drift), ``top_statistic`` the statistic
    that gives it: effect sizes in owner units, comparable across features. ``importance`` is
    the model's importance of the feature when the caller knew it (``importances=``), else
    None. ``infinite_share`` is the current share of +/-inf values (numeric features).
    """

    feature: str
    kind: str
    verdict: str
    statistics: tuple[StatResult, ...]
    deciding: tuple[str, ...]
    reasons: tuple[str, ...]
    n_reference: int
    n_current: int
    missing_share_reference: float
    missing_share_current: float
    out_of_range_share: float | None
    unseen_share: float | None = None
    unseen_categories: tuple[tuple[str, int], ...] = ()
    infinite_share: float | None = None
    severity: float = 0.0
    top_statistic: str | None = None
    importance: float | None = None

    def headline(self) -> str:
        """One line for people: verdict, the deciding effect and the importance if known.

        e.g. ``"age: drift - wasserstein 0.31 (2.1x drift threshold 0.15); importance 0.3"``.
        """
        text = f"{self.feature}: {self.verdict}"
        if self.top_statistic is not None:
            s = self.stat(self.top_statistic)
            text += (f" - {s.name} {s.effect:.3g} ({self.severity:.2g}x drift threshold "
                     f"{s.drift_threshold:g})")
        if self.importance is not None:
            text += f"; importance {self.importance:.3g}"
        return text

    def stat(self, name: str) -> StatResult:
        """The result of statistic ``name`` (KeyError listing the computed ones)."""
        for s in self.statistics:
            if s.name == name:
                return s
        raise KeyError(
            f"statistic {name!r} was not computed for feature {self.feature!r}; "
            f"computed: {', '.join(s.name for s in self.statistics)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, statistics included."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "statistics"}
        out["statistics"] = [s.to_dict() for s in self.statistics]
        return _clean(out)


@dataclass(frozen=True)
class DriftReport:
    """The outcome of one drift check.

    ``verdict`` is ``drift`` when any feature drifts; otherwise ``insufficient_data`` when any
    feature could not be assessed; otherwise ``warning`` when any feature warns; otherwise
    ``no_drift``. ``drift_share`` is drifted features over assessed features.

    ``path`` says where the current side came from: ``exact`` (the window's rows, in memory)
    or ``rollup`` (merged sketches, :func:`lifecycle.drift.engine.check_summaries`; each
    statistic then states its ``error_bound``); ``rank_error`` is the largest rank error of the
    window's numeric summaries (0.0 on the exact path).
    """

    features: tuple[FeatureResult, ...]
    verdict: str
    drift_share: float
    n_features: int
    n_drifted: int
    n_reference: int
    n_current: int
    alpha: float
    policy: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "data"
    path: str = "exact"
    rank_error: float = 0.0

    def feature(self, name: str) -> FeatureResult:
        """The result of feature ``name`` (KeyError listing the features)."""
        for f in self.features:
            if f.feature == name:
                return f
        raise KeyError(
            f"feature {name!r} is not in this report; features: "
            f"{', '.join(f.feature for f in self.features)}"
        )

    @property
    def ranked_features(self) -> tuple[FeatureResult, ...]:
        """Features that drift or warn, by how much they matter: severity (effect over drift
        threshold, owner units) first, then importance when known, then name."""
        flagged = [f for f in self.features if f.verdict in (DRIFT, WARNING)]
        return tuple(sorted(flagged, key=lambda f: (
            -f.severity,
            -(f.importance if f.importance is not None else -math.inf),
            f.feature,
        )))

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """Names of the features whose verdict is ``drift``, most severe first."""
        return tuple(f.feature for f in self.ranked_features if f.verdict == DRIFT)

    @property
    def has_drift(self) -> bool:
        return self.verdict == DRIFT

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the whole report."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "features"}
        out["features"] = [f.to_dict() for f in self.features]
        return _clean(out)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat row per (feature, statistic): the shape of ``to_frame``."""
        rows: list[dict[str, Any]] = []
        for f in self.features:
            for s in f.statistics:
                rows.append(
                    {
                        "feature": f.feature,
                        "kind": f.kind,
                        "feature_verdict": f.verdict,
                        "statistic_name": s.name,
                        "statistic": s.statistic,
                        "effect": s.effect,
                        "p_value": s.p_value,
                        "p_adjusted": s.p_adjusted,
                        "warning_threshold": s.warning_threshold,
                        "drift_threshold": s.drift_threshold,
                        "level": s.level,
                        "deciding": s.name in f.deciding,
                        "gate": s.gate,
                        "n_reference": s.n_reference,
                        "n_current": s.n_current,
                        "variant": s.variant,
                        "error_bound": s.error_bound,
                    }
                )
        return rows

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per (feature, statistic).

        pandas is imported here, on demand, so the pure core never imports it on its own.
        """
        import pandas as pd

        return pd.DataFrame.from_records(self.to_records())

    def summary_frame(self) -> Any:
        """A pandas DataFrame with one row per feature (verdict, shares, main numbers)."""
        import pandas as pd

        rows = []
        for f in self.features:
            row: dict[str, Any] = {
                "feature": f.feature,
                "kind": f.kind,
                "verdict": f.verdict,
                "missing_ref": f.missing_share_reference,
                "missing_cur": f.missing_share_current,
                "out_of_range": f.out_of_range_share,
                "infinite": f.infinite_share,
                "severity": f.severity,
                "top_statistic": f.top_statistic,
                "importance": f.importance,
            }
            for s in f.statistics:
                if s.name in f.deciding:
                    row[s.name] = s.effect
            rows.append(row)
        return pd.DataFrame.from_records(rows)

"""Per-model policy sections of ``lifecycle.toml``: ``[models.NAME.drift]`` (drift engine,
docs/drift.md) and ``[models.NAME.performance]`` (performance checks, docs/concept-drift.md).
Re-exported by :mod:`lifecycle.config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lifecycle.config.section import Section
from lifecycle.errors import ConfigError
from lifecycle.windows import parse_duration

if TYPE_CHECKING:
    from lifecycle.drift.decision import DriftPolicy


#: How a window's drift is computed: chosen by size, or forced (docs/scale.md).
DRIFT_PATHS = ("auto", "exact", "rollup")


@dataclass(frozen=True)
class DriftSettings:
    """Per-model drift policy (owned by the drift engine; see docs/drift.md).

    TOML, all keys optional::

        [models.churn.drift]
        alpha = 0.05                 # Benjamini-Hochberg false discovery rate
        min_samples = 100            # fewer values -> "insufficient_data"
        numeric_tests = ["wasserstein", "spread"]
        categorical_tests = ["total_variation"]
        bins = 10                    # PSI / Jensen-Shannon quantile bins
        max_points = 10000           # distinct values kept exactly in a stored profile
        psi_epsilon = 0.0001
        ks_method = "auto"           # auto | exact | asymp (as scipy.stats.ks_2samp)
        prediction_drift = true      # also check the model outputs
        label_drift = true           # also check outcome labels when there are any
        path = "auto"                # auto | exact | rollup (docs/scale.md)
        rollup_min_rows = 1000000    # auto: windows with more served rows use the rollups
        [models.churn.drift.thresholds]
        psi = { warning = 0.1, drift = 0.25 }
        [models.churn.drift.features.age]
        tests = ["ks"]
        thresholds = { ks = { warning = 0.1, drift = 0.15 } }
        min_samples = 500
    """

    alpha: float = 0.05
    min_samples: int = 100
    numeric_tests: tuple[str, ...] = ("wasserstein", "spread")  # = drift.DEFAULT_NUMERIC_TESTS
    categorical_tests: tuple[str, ...] = ("total_variation",)
    bins: int = 10
    max_points: int = 10_000
    psi_epsilon: float = 1e-4
    ks_method: str = "auto"
    prediction_drift: bool = True
    label_drift: bool = True
    #: ``auto``: windows with more than ``rollup_min_rows`` served rows are checked from the
    #: hourly rollups, smaller ones exactly; ``exact`` / ``rollup`` force one path.
    path: str = "auto"
    rollup_min_rows: int = 1_000_000
    thresholds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    features: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @staticmethod
    def _thresholds(data: Any, prefix: str) -> dict[str, tuple[float, float]]:
        s = Section(data, prefix)
        out: dict[str, tuple[float, float]] = {}
        for name in s.data:
            t = Section(s.data[name], s.key(name), {"warning", "drift"})
            if set(t.data) != {"warning", "drift"}:
                raise ConfigError(
                    f"{s.key(name)} needs both warning and drift, e.g. "
                    f"{name} = {{ warning = 0.1, drift = 0.25 }}"
                )
            warning = t.number("warning", 0.0, minimum=0.0)
            drift = t.number("drift", 0.0, minimum=0.0)
            if warning > drift:
                raise ConfigError(
                    f"{s.key(name)}: warning ({warning}) must be <= drift ({drift})"
                )
            out[name] = (warning, drift)
        return out

    @classmethod
    def parse(cls, data: Any, prefix: str) -> DriftSettings:
        s = Section(data, prefix, {
            "alpha", "min_samples", "numeric_tests", "categorical_tests", "bins",
            "max_points", "psi_epsilon", "ks_method", "prediction_drift", "label_drift",
            "thresholds", "features", "path", "rollup_min_rows",
        })
        feats_raw = Section(s.get("features"), s.key("features"))
        features: dict[str, Mapping[str, Any]] = {}
        for fname in feats_raw.data:
            f = Section(feats_raw.data[fname], feats_raw.key(fname),
                         {"tests", "thresholds", "min_samples"})
            entry: dict[str, Any] = {
                "thresholds": cls._thresholds(f.get("thresholds"), f.key("thresholds"))
            }
            if "tests" in f.data:
                entry["tests"] = f.str_list("tests")
            if "min_samples" in f.data:
                entry["min_samples"] = f.integer("min_samples", 1, minimum=1)
            features[fname] = entry
        settings = cls(
            alpha=s.number("alpha", cls.alpha, minimum=0.0, maximum=1.0, exclusive_min=True),
            min_samples=s.integer("min_samples", cls.min_samples, minimum=1),
            numeric_tests=s.str_list("numeric_tests", cls.numeric_tests),
            categorical_tests=s.str_list("categorical_tests", cls.categorical_tests),
            bins=s.integer("bins", cls.bins, minimum=2, maximum=1000),
            max_points=s.integer("max_points", cls.max_points, minimum=2),
            psi_epsilon=s.number("psi_epsilon", cls.psi_epsilon, minimum=0.0, maximum=1.0,
                                 exclusive_min=True),
            ks_method=s.choice("ks_method", cls.ks_method, ("auto", "exact", "asymp"))
            or cls.ks_method,
            prediction_drift=s.boolean("prediction_drift", cls.prediction_drift),
            label_drift=s.boolean("label_drift", cls.label_drift),
            path=s.choice("path", cls.path, DRIFT_PATHS) or cls.path,
            rollup_min_rows=s.integer("rollup_min_rows", cls.rollup_min_rows, minimum=1),
            thresholds=cls._thresholds(s.get("thresholds"), s.key("thresholds")),
            features=features,
        )
        if s.data:  # validate statistic names now, so a typo fails at start, not at 3 am
            try:
                settings.to_policy()
            except ValueError as exc:
                raise ConfigError(f"{prefix}: {exc}") from None
        return settings

    def to_policy(self) -> DriftPolicy:
        """The :class:`lifecycle.drift.DriftPolicy` these settings describe."""
        # Imported here, not at the top: the drift statistics pull in scipy.stats (~0.5 s),
        # which every CLI command that only reads settings would otherwise pay.
        from lifecycle.drift.decision import DriftPolicy, FeatureOverride, Thresholds

        return DriftPolicy(
            alpha=self.alpha,
            min_samples=self.min_samples,
            numeric_tests=tuple(self.numeric_tests),
            categorical_tests=tuple(self.categorical_tests),
            thresholds={k: Thresholds(*v) for k, v in self.thresholds.items()},
            features={
                name: FeatureOverride(
                    tests=tuple(f["tests"]) if "tests" in f else None,
                    thresholds={k: Thresholds(*v) for k, v in f["thresholds"].items()},
                    min_samples=f.get("min_samples"),
                )
                for name, f in self.features.items()
            },
            bins=self.bins,
            max_points=self.max_points,
            psi_epsilon=self.psi_epsilon,
            ks_method=self.ks_method,
        )


_PERFORMANCE_KEYS = {
    "reference_since", "reference_until", "alpha", "min_drop", "min_relative_increase",
    "min_labels", "min_coverage", "n_boot", "confidence", "calibration", "positive_label",
    "detectors", "rerun_after",
}
_DETECTOR_NAMES = ("page_hinkley", "ddm", "adwin")


#: Default re-runs of a performance window, after the window's end (labels arrive late).
DEFAULT_RERUN_AFTER = (timedelta(days=1), timedelta(days=3), timedelta(days=7))


def _rerun_after(s: Section) -> tuple[timedelta, ...]:
    """``rerun_after``: a list of duration strings, each positive and larger than the last."""
    key = s.key("rerun_after")
    value = s.get("rerun_after")
    if value is None:
        return DEFAULT_RERUN_AFTER
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{key} must be a list of durations such as [\"1d\", \"3d\", "
                          f"\"7d\"] ([] switches re-runs off), got {value!r}")
    out: list[timedelta] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ConfigError(f"{key}[{i}] must be a duration string like \"1d\", "
                              f"got {item!r}")
        try:
            delta = parse_duration(item, key=f"{key}[{i}]")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if delta <= timedelta(0):
            raise ConfigError(f"{key}[{i}] = {item!r} must be positive (a time after the "
                              "window's end)")
        if out and delta <= out[-1]:
            raise ConfigError(f"{key} must be increasing: {item!r} does not come after "
                              f"{value[i - 1]!r}")
        out.append(delta)
    return tuple(out)


def _utc_time(s: Section, name: str) -> Any:
    """A TOML datetime/date or ISO-8601 string as an aware UTC datetime (naive = UTC)."""
    value = s.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(
                f"{s.key(name)} = {value!r} is not a time; use ISO-8601, e.g. 2026-01-31T00:00:00Z"
            ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ConfigError(f"{s.key(name)} must be a date-time, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class PerformanceSettings:
    """Per-model performance policy (owned by the performance layer).

    The reference period is ``[reference_since, reference_until)`` when both are set;
    otherwise the window of the model's active reference profile (see docs/concept-drift.md).
    ``rerun_after``: when the scheduler computes a window again after its end, as labels
    arrive (``["1d", "3d", "7d"]`` by default, ``[]`` never; lifecycle.jobs.reruns).
    """

    reference_since: Any = None  # datetime | None (aware UTC)
    reference_until: Any = None
    alpha: float = 0.01
    min_drop: float = 0.02
    min_relative_increase: float = 0.10
    min_labels: int = 30
    min_coverage: float = 0.10
    n_boot: int = 200
    confidence: float = 0.95
    calibration: str = "isotonic"
    positive_label: str | None = None
    detectors: tuple[str, ...] = _DETECTOR_NAMES
    #: when a window is computed again after its end, as labels keep arriving ([] = never)
    rerun_after: tuple[timedelta, ...] = DEFAULT_RERUN_AFTER
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> PerformanceSettings:
        s = Section(data, prefix, _PERFORMANCE_KEYS)
        since, until = _utc_time(s, "reference_since"), _utc_time(s, "reference_until")
        if (since is None) != (until is None) or (since is not None and since >= until):
            raise ConfigError(
                f"{prefix}.reference_since and {prefix}.reference_until must both be set, "
                "with reference_since before reference_until"
            )
        detectors = s.str_list("detectors", _DETECTOR_NAMES)
        unknown = sorted(set(detectors) - set(_DETECTOR_NAMES))
        if unknown:
            raise ConfigError(
                f"{prefix}.detectors names unknown detector(s) {unknown}; "
                f"choose from {', '.join(_DETECTOR_NAMES)}"
            )
        positive = s.get("positive_label")
        return cls(
            reference_since=since,
            reference_until=until,
            alpha=s.number("alpha", cls.alpha, minimum=0, maximum=0.5, exclusive_min=True),
            min_drop=s.number("min_drop", cls.min_drop, minimum=0, maximum=1),
            min_relative_increase=s.number(
                "min_relative_increase", cls.min_relative_increase, minimum=0
            ),
            min_labels=s.integer("min_labels", cls.min_labels, minimum=2),
            min_coverage=s.number("min_coverage", cls.min_coverage, minimum=0, maximum=1),
            n_boot=s.integer("n_boot", cls.n_boot, minimum=20, maximum=100_000),
            confidence=s.number(
                "confidence", cls.confidence, minimum=0.5, maximum=0.999
            ),
            calibration=s.choice("calibration", cls.calibration, ("isotonic", "platt"))
            or cls.calibration,
            positive_label=None if positive is None else str(positive),
            detectors=detectors,
            rerun_after=_rerun_after(s),
            raw=s.data,
        )

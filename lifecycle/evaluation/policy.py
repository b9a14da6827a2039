"""The promotion policy and the serving counters the guardrails read (pure core).

Every default below is stated, with its reason, in ``docs/evaluation.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from lifecycle.errors import ConfigError, DataError
from lifecycle.evaluation.names import (
    CLASSIFICATION_METRICS,
    DEFAULT_SPENDING,
    REGRESSION_METRICS,
    SPENDING_NAMES,
)

__all__ = ["RELATIVE_METRICS", "ServingStats", "ShadowPolicy"]

#: Error metrics: ``min_effect`` and ``noninferiority_margin`` are fractions of the champion's
#: value (a 1% lower MAE), since their unit is the target's; bounded metrics take absolute ones.
RELATIVE_METRICS = frozenset({"log_loss", "mae", "rmse"})


@dataclass(frozen=True)
class ShadowPolicy:
    """When a challenger is promoted, rejected or kept in the shadow.

    Parameters
    ----------
    metric
        What "better" means: one of accuracy, f1, f1_macro, roc_auc, log_loss (classification),
        mae, rmse (regression); None picks accuracy or mae by task.
    alpha
        One-sided level of the superiority test, spent over the looks (0.05).
    min_effect
        Smallest gain that promotes (0: any significant gain; relative for error metrics).
    noninferiority_margin
        How much worse a challenger may be and still replace a champion flagged degraded
        (0.01: one point of accuracy, or 1% of the champion's MAE / RMSE / log-loss).
    noninferiority_when_degraded
        Whether a non-inferior challenger replaces a degraded champion (True).
    min_pairs
        Labelled pairs before any test is run, and requests before a guardrail is judged (200).
    max_pairs
        The information horizon of the spending function: the last look (20,000).
    spending
        The alpha-spending function over the looks: ``"obrien_fleming"`` (default) or
        ``"pocock"`` (see :mod:`lifecycle.evaluation.spending`).
    max_duration
        The longest a challenger may shadow before it is rejected undecided (14 days; None:
        no time limit).
    latency_ratio
        Largest allowed challenger p95 latency over the champion's (1.5).
    error_rate_tolerance
        Largest allowed excess of the challenger's error-and-drop rate over the champion's
        error rate (0.01).
    n_boot, seed
        Bootstrap replicates and the generator's seed (1000, 0).
    power
        Power assumed by the "pairs still needed" estimate (0.8).
    """

    metric: str | None = None
    alpha: float = 0.05
    min_effect: float = 0.0
    noninferiority_margin: float = 0.01
    noninferiority_when_degraded: bool = True
    min_pairs: int = 200
    max_pairs: int = 20_000
    spending: str = DEFAULT_SPENDING
    max_duration: timedelta | None = timedelta(days=14)
    latency_ratio: float = 1.5
    error_rate_tolerance: float = 0.01
    n_boot: int = 1000
    seed: int = 0
    power: float = 0.8

    def __post_init__(self) -> None:
        metrics = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
        if self.metric is not None and self.metric not in metrics:
            _bad("metric", self.metric, f"one of {list(metrics)}")
        if not 0.0 < self.alpha < 0.5:
            _bad("alpha", self.alpha, "a one-sided level in (0, 0.5), e.g. 0.05")
        for key in ("min_effect", "noninferiority_margin", "error_rate_tolerance"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value >= 0.0):
                _bad(key, value, "a finite number >= 0")
        if self.min_pairs < 10:
            _bad("min_pairs", self.min_pairs, "an integer >= 10 (200 by default)")
        if self.max_pairs <= self.min_pairs:
            _bad("max_pairs", self.max_pairs, f"an integer above min_pairs ({self.min_pairs})")
        if self.spending not in SPENDING_NAMES:
            _bad("spending", self.spending, f"one of {sorted(SPENDING_NAMES)}")
        if self.max_duration is not None and self.max_duration <= timedelta(0):
            _bad("max_duration", self.max_duration, "a positive duration, or None")
        if not (math.isfinite(self.latency_ratio) and self.latency_ratio >= 1.0):
            _bad("latency_ratio", self.latency_ratio, "a number >= 1 (1.5 by default)")
        if self.n_boot < 100:
            _bad("n_boot", self.n_boot, "an integer >= 100 (1000 by default)")
        if not 0.5 <= self.power < 1.0:
            _bad("power", self.power, "a probability in [0.5, 1), e.g. 0.8")

    def scaled(self, value: float, metric: str, champion: float) -> float:
        """``value`` (min_effect or margin) in the metric's own units."""
        if metric in RELATIVE_METRICS:
            return value * abs(champion) if math.isfinite(champion) else math.inf
        return value


def _bad(key: str, value: object, allowed: str) -> None:
    raise ConfigError(f"promotion policy {key} = {value!r} is invalid; use {allowed}")


@dataclass(frozen=True)
class ServingStats:
    """What each model did with the shadowed requests, labelled or not.

    ``*_requests`` counts the requests each model was asked to answer, ``*_failures`` those it
    did not answer: errors and garbage outputs, plus, for the challenger, shadow work dropped
    because its queue was full. Latencies are p95s in milliseconds (None when not measured).
    """

    champion_requests: int
    champion_failures: int
    challenger_requests: int
    challenger_failures: int
    champion_latency_p95: float | None = None
    challenger_latency_p95: float | None = None

    def __post_init__(self) -> None:
        for role in ("champion", "challenger"):
            total = getattr(self, f"{role}_requests")
            failed = getattr(self, f"{role}_failures")
            if total < 0 or not 0 <= failed <= total:
                raise DataError(
                    f"{role} counters are impossible ({failed} failures of {total} requests); "
                    "count failures among the requests the model was sent"
                )
        for key in ("champion_latency_p95", "challenger_latency_p95"):
            value = getattr(self, key)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise DataError(f"{key} = {value!r}; pass a latency in milliseconds or None")

"""The registry of drift statistics: a plain dict, name -> :class:`Statistic`.

Each entry says which feature kinds it applies to, how to compute it, its default warning and
drift thresholds on its effect size (higher = more drift), and whether it has a p-value.
Default thresholds are calibrated so every distribution statistic crosses its *warning*
threshold at about the same change as PSI 0.1 and its *drift* threshold at about the same
change as PSI 0.25 (numeric: a normal mean shift of ~0.32 and ~0.5 standard deviations;
categorical: ~10% and ~17% of the mass moved between categories). See ``docs/drift.md``.

Building the dict imports nothing beyond the statistic modules: no registration side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lifecycle.drift import chi_square, jensen_shannon, ks, proportions, psi, wasserstein
from lifecycle.drift.base import StatOptions
from lifecycle.drift.profile import FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.errors import ConfigError

__all__ = [
    "DISTRIBUTION_STATISTICS",
    "GATE_TEST",
    "SIGNALS",
    "STATISTICS",
    "Statistic",
    "get_statistic",
    "validate_names",
]

Compute = Callable[[FeatureProfile, NumericSample | CategoricalSample, StatOptions], StatResult]

NUMERIC = frozenset({"numeric"})
CATEGORICAL = frozenset({"categorical"})
BOTH = NUMERIC | CATEGORICAL


@dataclass(frozen=True)
class Statistic:
    """A registered statistic and its defaults."""

    name: str
    kinds: frozenset[str]
    compute: Compute
    warning: float
    drift: float
    has_p_value: bool
    effect: str
    description: str
    direction: str = "higher_is_drift"


STATISTICS: dict[str, Statistic] = {
    "psi": Statistic(
        "psi", BOTH, psi.compute, 0.1, 0.25, False, "psi",
        "Population Stability Index over quantile bins / categories (natural log)",
    ),
    "ks": Statistic(
        "ks", NUMERIC, ks.compute, 0.13, 0.2, True, "ks statistic D",
        "Two-sample Kolmogorov-Smirnov test (same statistic and p-value as scipy)",
    ),
    "wasserstein": Statistic(
        "wasserstein", NUMERIC, wasserstein.compute, 0.3, 0.5, False, "W1 / std_ref",
        "Wasserstein-1 distance in units of the reference standard deviation",
    ),
    "jensen_shannon": Statistic(
        "jensen_shannon", BOTH, jensen_shannon.compute, 0.13, 0.2, False, "JS distance",
        "Jensen-Shannon distance, base 2, on the PSI buckets",
    ),
    "chi_square": Statistic(
        "chi_square", CATEGORICAL, chi_square.compute, 0.15, 0.25, True, "Cramér's V",
        "Chi-square test of homogeneity; effect size Cramér's V",
    ),
    "missing_share": Statistic(
        "missing_share", BOTH, proportions.compute_missing, 0.02, 0.05, True,
        "|share difference|", "Missing-value share, pooled two-proportion z-test",
    ),
    "out_of_range_share": Statistic(
        "out_of_range_share", BOTH, proportions.compute_out_of_range, 0.01, 0.05, True,
        "|share difference|",
        "Share of current values outside the reference range / unseen categories, "
        "pooled two-proportion z-test",
    ),
}

#: Statistics that describe the shape of the distribution (selectable with ``tests=``).
DISTRIBUTION_STATISTICS = ("psi", "ks", "wasserstein", "jensen_shannon", "chi_square")
#: Signals computed for every feature, each with its own test.
SIGNALS = ("missing_share", "out_of_range_share")
#: The hypothesis test whose (adjusted) p-value gates the distribution statistics of a kind.
GATE_TEST = {"numeric": "ks", "categorical": "chi_square"}


def get_statistic(name: str) -> Statistic:
    """The registered statistic ``name``; an unknown name raises listing the valid ones."""
    try:
        return STATISTICS[name]
    except KeyError:
        raise ConfigError(
            f"unknown drift statistic {name!r}; valid names: {', '.join(sorted(STATISTICS))}"
        ) from None


def validate_names(names: tuple[str, ...] | list[str], kind: str | None = None) -> tuple[str, ...]:
    """Check ``names`` exist (and apply to ``kind`` if given); returns them as a tuple."""
    out = []
    for name in names:
        stat = get_statistic(name)
        if kind is not None and kind not in stat.kinds:
            valid = [s for s in DISTRIBUTION_STATISTICS if kind in STATISTICS[s].kinds]
            raise ConfigError(
                f"statistic {name!r} does not apply to {kind} features; "
                f"valid {kind} statistics: {', '.join(valid)}"
            )
        out.append(name)
    return tuple(out)

"""The registry of drift statistics: a plain dict, name -> :class:`Statistic`.

Each entry says which feature kinds it applies to, how to compute it, its default warning and
drift thresholds on its effect size (higher = more drift), and whether it has a p-value.

The statistics that vote by default measure change in an owner's units, with thresholds from
the calibration study ``benchmarks/calibration.py`` (docs/drift.md, "Sensitivity"):

* ``wasserstein`` (W1 / reference SD): a mean shift of 0.25 SD reads 0.25;
* ``spread`` (relative change of the Gini mean difference): spread x1.25 reads 0.25;
* ``total_variation`` (share of mass moved between categories): 10 points read 0.10;
* ``missing_share``, ``out_of_range_share``, ``infinite_share``: differences in points.

Their drift thresholds (0.1875 SD / 18.75% / 7.5 points of mass / 2.25 points of share) sit
halfway between the drift promise (a quarter of a standard deviation, a 25% spread change, 10
points of category mass, 3 points of share) and the warning promise (half of it); their
warning thresholds (0.0625 / 6.25% / 2.5 points / 0.75 points) at half the warning promise.
The promised changes clear them by several sampling SDs at 10,000 rows, and immaterial
changes (0.02 SD, 2% spread, 0.5 points of mass) stay far below the warning thresholds.
``psi``, ``ks``, ``jensen_shannon`` and ``chi_square`` keep the PSI convention (0.1 / 0.25,
and the values that match it for a normal mean shift of ~0.32 / ~0.5 SD); they vote only
when selected (PSI is always computed and shown).

Building the dict imports nothing beyond the statistic modules: no registration side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lifecycle.drift import (
    chi_square,
    jensen_shannon,
    ks,
    proportions,
    psi,
    spread,
    total_variation,
    wasserstein,
)
from lifecycle.drift.base import StatOptions
from lifecycle.drift.profile import FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import Summary
from lifecycle.errors import ConfigError

__all__ = [
    "CONTEXT_STATISTICS",
    "DISTRIBUTION_STATISTICS",
    "GATE_TEST",
    "SIGNALS",
    "STATISTICS",
    "Statistic",
    "get_statistic",
    "signals_for",
    "validate_names",
]

#: Every statistic takes an in-memory sample or a summarised window (``summary.py``) as the
#: current side and dispatches on its type inside its own module (docs/drift.md, "Drift from
#: rollups").
Compute = Callable[
    [FeatureProfile, NumericSample | CategoricalSample | Summary, StatOptions], StatResult
]

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
        "wasserstein", NUMERIC, wasserstein.compute, 0.0625, 0.1875, False, "W1 / std_ref",
        "Wasserstein-1 distance in units of the reference standard deviation",
    ),
    "spread": Statistic(
        "spread", NUMERIC, spread.compute, 0.0625, 0.1875, True, "|G_cur / G_ref - 1|",
        "Relative change of the spread (Gini mean difference), asymptotic z-test",
    ),
    "total_variation": Statistic(
        "total_variation", CATEGORICAL, total_variation.compute, 0.025, 0.075, False,
        "share of mass moved",
        "Total variation distance: share of the mass that moved between categories",
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
        "missing_share", BOTH, proportions.compute_missing, 0.0075, 0.0225, True,
        "|share difference|", "Missing-value share, pooled two-proportion z-test",
    ),
    "out_of_range_share": Statistic(
        "out_of_range_share", BOTH, proportions.compute_out_of_range, 0.0075, 0.0225, True,
        "|share difference|",
        "Share of current values outside the reference range / unseen categories, "
        "pooled two-proportion z-test",
    ),
    "infinite_share": Statistic(
        "infinite_share", NUMERIC, proportions.compute_infinite, 0.0075, 0.0225, True,
        "|share difference|", "Share of +/-inf values, pooled two-proportion z-test",
    ),
}

#: Statistics that describe the shape of the distribution (selectable with ``tests=``).
DISTRIBUTION_STATISTICS = (
    "psi", "ks", "wasserstein", "spread", "jensen_shannon", "chi_square", "total_variation",
)
#: Signals computed for every feature they apply to, each with its own test; they always vote.
SIGNALS = ("missing_share", "out_of_range_share", "infinite_share")
#: Statistics always computed and shown (dashboards, CLI) but voting only when selected.
CONTEXT_STATISTICS = ("psi",)
#: The hypothesis test whose (adjusted) p-value gates the distribution statistics of a kind.
GATE_TEST = {"numeric": "ks", "categorical": "chi_square"}


def signals_for(kind: str) -> tuple[str, ...]:
    """The share signals that apply to features of ``kind``."""
    return tuple(s for s in SIGNALS if kind in STATISTICS[s].kinds)


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

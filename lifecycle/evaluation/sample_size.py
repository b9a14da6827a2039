"""How many labelled pairs a shadow evaluation likely needs, from the effect observed so far.

Normal-approximation power calculations for a one-sided test at level ``alpha`` with power
``power`` (default 80%), treating the observed effect as the true one. They answer "roughly how
much longer", not "exactly when": the observed effect is itself noisy, and the sequential
design's final look is slightly stricter than a single test (an O'Brien–Fleming-type design
needs about 3% more pairs at the horizon; Jennison and Turnbull 2000, table 2.3). With
``z_a = z_{1-alpha}`` and ``z_b = z_{power}``:

* McNemar (Connor, 1987), discordant rate ``psi = (b + c) / n`` and accuracy difference
  ``delta = (c - b) / n``::

      n = (z_a sqrt(psi) + z_b sqrt(psi - delta^2))^2 / delta^2

* Wilcoxon signed-rank, from the mean ``mu`` and standard deviation ``sigma`` of the paired
  differences of absolute errors: the paired z-test's ``((z_a + z_b) sigma / mu)^2``, divided by
  the test's asymptotic relative efficiency under normality, ``3 / pi`` (Hodges and Lehmann,
  1956).

* Any metric with a bootstrap standard error ``se`` at ``n`` pairs (the error shrinks as
  ``1/sqrt(n)``), for an oriented gain ``g`` (superiority) or ``g + margin``
  (non-inferiority)::

      n_required = n ((z_a + z_b) se / g)^2

Each returns the required **total** number of pairs, or None when the observed effect points
the wrong way (no finite number of pairs is expected to show it).
"""

from __future__ import annotations

import math

from scipy.stats import norm

__all__ = [
    "DEFAULT_POWER",
    "additional_pairs",
    "mcnemar_pairs",
    "pairs_from_standard_error",
    "wilcoxon_pairs",
]

DEFAULT_POWER = 0.8


def _z(alpha: float, power: float) -> tuple[float, float]:
    return float(norm.isf(alpha)), float(norm.ppf(power))


def mcnemar_pairs(
    discordant_rate: float, difference: float, alpha: float, power: float = DEFAULT_POWER
) -> float | None:
    """Total pairs for McNemar's test to detect ``difference`` (Connor 1987).

    Examples
    --------
    Half of the pairs discordant, the challenger right on 55% of them (difference 0.05):

    >>> round(mcnemar_pairs(0.5, 0.05, 0.05))
    1234
    """
    if not (difference > 0 and discordant_rate > 0):
        return None
    z_a, z_b = _z(alpha, power)
    spread = max(discordant_rate - difference**2, 0.0)
    return (z_a * math.sqrt(discordant_rate) + z_b * math.sqrt(spread)) ** 2 / difference**2


def wilcoxon_pairs(
    mean_difference: float, sd_difference: float, alpha: float, power: float = DEFAULT_POWER
) -> float | None:
    """Total pairs for the Wilcoxon signed-rank test (paired z-test over ARE ``3/pi``)."""
    if not (mean_difference > 0 and math.isfinite(sd_difference)):
        return None
    z_a, z_b = _z(alpha, power)
    return ((z_a + z_b) * sd_difference / mean_difference) ** 2 * math.pi / 3.0


def pairs_from_standard_error(
    n: int, gain: float, se: float, alpha: float, power: float = DEFAULT_POWER
) -> float | None:
    """Total pairs for a z-test of ``gain`` whose standard error is ``se`` at ``n`` pairs."""
    if not (gain > 0 and math.isfinite(se) and se > 0):
        return None
    z_a, z_b = _z(alpha, power)
    return n * ((z_a + z_b) * se / gain) ** 2


def additional_pairs(required_total: float | None, n: int) -> int | None:
    """More pairs to collect: ``ceil(required) - n``, at least 1 (one more look), or None."""
    if required_total is None or not math.isfinite(required_total):
        return None
    return max(math.ceil(required_total) - n, 1)

"""Alpha spending for repeated looks at accumulating shadow traffic (pure core).

The shadow evaluation runs on every tick while labelled pairs accumulate. Testing each look at
a fixed ``alpha`` would promote an equal challenger far more often than ``alpha`` (ten looks at
0.05 one-sided: about 0.19 for a normal statistic). The group-sequential fix: spend ``alpha``
over the *information fraction* ``t = n_pairs / max_pairs`` with the Lan–DeMets
O'Brien–Fleming-type spending function (Lan and DeMets, 1983), one-sided::

    alpha(t) = 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t)),   alpha(1) = alpha

and choose the critical value ``c_k`` of look ``k`` so that the probability, under H0, of first
crossing at look ``k`` (not having crossed at looks ``1..k-1``) is exactly
``alpha(t_k) - alpha(t_{k-1})``. That probability is computed by recursive numerical integration
of the score process ``S(t) = Z(t) sqrt(t)`` (a Brownian motion in information time under H0),
as in Armitage, McPherson and Rowe (1969) and Jennison and Turnbull (2000, ch. 19). Each test's
one-sided p-value is then compared with the *nominal* level ``1 - Phi(c_k)``.

Default O'Brien–Fleming-type, Pocock-type (``alpha ln(1 + (e - 1) t)``) as an option. Why:
early looks see a few hundred pairs from a narrow slice of time (one hour, one weekday), where
the i.i.d. assumption behind every paired test is weakest and a wrong promotion replaces a
working champion; O'Brien–Fleming-type spending asks for overwhelming evidence there and keeps
the final look's nominal level close to ``alpha`` (0.036 after ten equal looks at 0.05), so
little power is lost against a single test at the horizon. The price: a moderately better
challenger is promoted later than under Pocock-type spending, which spends evenly and pays with
a much stricter final level. The Lan–DeMets form lets looks happen whenever the scheduler runs:
their number and timing need not be fixed in advance, only the horizon ``max_pairs``.

Only the promotion boundary is a design boundary; stopping to reject (for harm, a guardrail or
the time limit) is *non-binding* and only lowers the chance of a false promotion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr
from scipy.stats import norm

from lifecycle.errors import DataError
from lifecycle.evaluation.names import DEFAULT_SPENDING, SPENDING_NAMES

__all__ = [
    "DEFAULT_SPENDING",
    "GRID_CELLS",
    "SPENDING_FUNCTIONS",
    "nominal_alphas",
    "obrien_fleming_spending",
    "pocock_spending",
]

#: Cells of the integration grid per look (over -8 standard deviations up to the boundary).
GRID_CELLS = 400
_SD_RANGE = 8.0
#: Increments of spent alpha below this are treated as nothing to spend.
_TINY = 1e-300
_SQRT_2PI = math.sqrt(2.0 * math.pi)
#: Below this much alpha spent in total, earlier looks cannot change a look's level measurably.
_NEGLIGIBLE = 1e-10


def obrien_fleming_spending(t: float, alpha: float) -> float:
    """Cumulative one-sided alpha spent by information fraction ``t`` (0 at 0, alpha at 1).

    Examples
    --------
    >>> round(obrien_fleming_spending(1.0, 0.05), 6)
    0.05
    >>> round(obrien_fleming_spending(0.5, 0.05), 5)
    0.00557
    """
    if t <= 0.0:
        return 0.0
    t = min(t, 1.0)
    return float(2.0 * norm.sf(norm.isf(alpha / 2.0) / math.sqrt(t)))


def pocock_spending(t: float, alpha: float) -> float:
    """Lan–DeMets Pocock-type spending, ``alpha ln(1 + (e - 1) t)``.

    Examples
    --------
    >>> round(pocock_spending(0.5, 0.05), 5)
    0.03101
    """
    if t <= 0.0:
        return 0.0
    return float(alpha * math.log1p((math.e - 1.0) * min(t, 1.0)))


#: Spending functions by the name a policy uses.
SPENDING_FUNCTIONS: dict[str, Callable[[float, float], float]] = dict(zip(
    SPENDING_NAMES, (obrien_fleming_spending, pocock_spending), strict=True))


def _check(fractions: Sequence[float], alpha: float) -> None:
    if not 0.0 < alpha < 0.5:
        raise DataError(f"alpha={alpha} must be in (0, 0.5); 0.05 is the default")
    previous = 0.0
    for t in fractions:
        if not (previous < t <= 1.0):
            raise DataError(
                f"information fractions must increase strictly within (0, 1], got "
                f"{list(fractions)}; pass each look's n_pairs / max_pairs once, oldest first"
            )
        previous = t


def nominal_alphas(
    fractions: Sequence[float], alpha: float, spending: str = DEFAULT_SPENDING
) -> tuple[float, ...]:
    """The nominal one-sided level of each look, given all looks up to and including it.

    Parameters
    ----------
    fractions
        Information fractions of the looks so far, strictly increasing in (0, 1]; the last one
        is the current look.
    alpha
        The overall one-sided level, spent in full at ``t = 1``.
    spending
        A name in :data:`SPENDING_FUNCTIONS` (default O'Brien–Fleming-type).

    Returns
    -------
    tuple of float
        ``1 - Phi(c_k)`` for each look; a look's p-value must be below its level.

    Examples
    --------
    Five equally spaced looks at one-sided 0.025 (the classic O'Brien–Fleming-type design:
    critical values 4.877, 3.357, 2.680, 2.290, 2.031):

    >>> from scipy.stats import norm
    >>> levels = nominal_alphas([0.2, 0.4, 0.6, 0.8, 1.0], 0.025)
    >>> [round(float(norm.isf(a)), 2) for a in levels]
    [4.88, 3.36, 2.68, 2.29, 2.03]
    """
    _check(fractions, alpha)
    if spending not in SPENDING_FUNCTIONS:
        raise DataError(
            f"spending {spending!r} is unknown; choose one of {sorted(SPENDING_FUNCTIONS)}"
        )
    spend = SPENDING_FUNCTIONS[spending]
    levels: list[float] = []
    edges = mass = np.empty(0)
    previous_t = 0.0
    for t in fractions:
        increment = spend(t, alpha) - spend(previous_t, alpha)
        sd = math.sqrt(t)
        if increment <= _TINY:
            bound, level = math.inf, 0.0
        elif not levels or spend(t, alpha) < _NEGLIGIBLE:
            # nothing was spent before (or a negligible amount): the first crossing
            # probability is the marginal one
            level = increment
            bound = float(norm.isf(level)) * sd
        else:
            step = math.sqrt(t - previous_t)

            low, high = edges[0] - 10 * step, edges[-1] + 40 * step
            bound = brentq(_excess, low, high, args=(edges, mass, step, increment), xtol=1e-12)
            level = float(norm.sf(bound / sd))
        new_edges = np.linspace(-_SD_RANGE * sd, min(bound, _SD_RANGE * sd), GRID_CELLS + 1)
        if not levels:
            mass = np.diff(norm.cdf(new_edges / sd))
        else:
            mass = mass @ np.diff(_cell_cdf(edges, new_edges, math.sqrt(t - previous_t)), axis=1)
        edges = new_edges
        levels.append(level)
        previous_t = t
    return tuple(levels)


def _excess(
    bound: float, edges: np.ndarray, mass: np.ndarray, step: float, target: float
) -> float:
    """Probability of first crossing ``bound`` now, minus ``target`` (brentq's objective).

    The mean of ``Phi((u - b) / s)`` over ``u`` uniform in ``[e0, e1]`` is
    ``s / (e1 - e0) * (G((e1 - b) / s) - G((e0 - b) / s))``, computed on the upper tail so
    that a crossing probability of 1e-40 keeps its digits.
    """
    width = edges[1:] - edges[:-1]
    upper = _antiderivative((edges[1:] - bound) / step)
    lower = _antiderivative((edges[:-1] - bound) / step)
    return float(mass @ (step / width * (upper - lower))) - target


def _cell_cdf(edges: np.ndarray, points: np.ndarray, step: float) -> np.ndarray:
    """``P(u + step * Z <= point)`` for ``u`` uniform on each cell: shape (cells, points).

    The mean of ``Phi((a - u) / s)`` over ``u`` in ``[e0, e1]`` is
    ``s / (e1 - e0) * (G((a - e0) / s) - G((a - e1) / s))`` with ``G(x) = x Phi(x) + phi(x)``
    (the antiderivative of Phi): exact for a density that is uniform within each cell, and
    accurate for any step, however small against the cell width.
    """
    width = edges[1:] - edges[:-1]
    x0 = (points[None, :] - edges[:-1, None]) / step
    x1 = (points[None, :] - edges[1:, None]) / step
    return np.asarray(step / width[:, None] * (_antiderivative(x0) - _antiderivative(x1)))


def _antiderivative(x: np.ndarray) -> np.ndarray:
    return np.asarray(x * ndtr(x) + np.exp(-0.5 * x * x) / _SQRT_2PI)

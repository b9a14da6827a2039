"""Repeated looks at an equal challenger: alpha spending keeps false promotions under alpha,
while testing every look at a fixed alpha does not (Monte Carlo, seeded)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from lifecycle.evaluation import ShadowPolicy, evaluate_shadow, look_at, paired_sample
from lifecycle.states import PROMOTE

ALPHA = 0.05
LOOKS = 10
BLOCK = 200  # labelled pairs added between looks; the horizon is the tenth look
SIMULATIONS = 4000


def _null_discordant_counts(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative (b, c) at each look for equal models (each right 80% of the time)."""
    rng = np.random.default_rng(seed)
    cells = rng.multinomial(BLOCK, [0.16, 0.16, 0.68], size=(SIMULATIONS, LOOKS))
    return np.cumsum(cells[..., 0], axis=1), np.cumsum(cells[..., 1], axis=1)


def _levels(spending: str) -> np.ndarray:
    policy = ShadowPolicy(alpha=ALPHA, min_pairs=BLOCK, max_pairs=BLOCK * LOOKS,
                          spending=spending)
    counts = [BLOCK * (k + 1) for k in range(LOOKS)]
    return np.array([look_at(n, counts[:k], policy).nominal_alpha
                     for k, n in enumerate(counts)])


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_spending_keeps_false_promotions_under_alpha(spending: str) -> None:
    b, c = _null_discordant_counts(seed=17)
    p_better = binom.sf(c - 1, b + c, 0.5)  # McNemar exact, one-sided, at every look
    levels = _levels(spending)
    spent = float((p_better < levels).any(axis=1).mean())
    naive = float((p_better < ALPHA).any(axis=1).mean())
    tolerance = 3 * math.sqrt(ALPHA * (1 - ALPHA) / SIMULATIONS)
    assert spent <= ALPHA + tolerance
    assert naive > ALPHA + 5 * tolerance  # about 0.15: ten looks at 0.05 triple the error
    assert levels[-1] > levels[0]


def test_the_gate_applies_the_same_rule_as_the_simulation() -> None:
    """The vectorised rule above is what the gate does: replay a few null paths through it."""
    rng = np.random.default_rng(5)
    policy = ShadowPolicy(alpha=ALPHA, min_pairs=BLOCK, max_pairs=BLOCK * LOOKS, n_boot=100,
                          max_duration=None)
    levels = _levels("obrien_fleming")
    for _ in range(3):
        y = rng.integers(0, 2, BLOCK * LOOKS)
        champ = np.where(rng.random(y.size) < 0.8, y, 1 - y)
        chall = np.where(rng.random(y.size) < 0.8, y, 1 - y)
        earlier: list[int] = []
        for k in range(LOOKS):
            n = BLOCK * (k + 1)
            s = paired_sample("classification", y[:n], champ[:n], chall[:n])
            d = evaluate_shadow(s, policy, looks=earlier)
            assert d.look == k + 1 and d.nominal_alpha == pytest.approx(levels[k])
            assert (d.decision == PROMOTE) == (d.p_better < levels[k] and (d.delta or 0) > 0)
            earlier.append(n)
            if d.decision != "continue":
                break

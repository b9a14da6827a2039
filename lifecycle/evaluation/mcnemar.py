"""McNemar's exact test on per-request correctness (pure core).

Of ``n`` labelled pairs, ``b`` were answered correctly by the champion only and ``c`` by the
challenger only (the *discordant* pairs); pairs both models got right or wrong say nothing about
which is better. Under H0 (equal accuracy) each discordant pair favours either model with
probability 1/2, so conditionally on ``b + c``, ``c ~ Binomial(b + c, 1/2)`` (McNemar, 1947; the
exact conditional form, Agresti 2013, section 11.1). The accuracy difference is
``(c - b) / n``.

* ``p_better`` (H1: the challenger is more accurate) = ``P(X >= c)``,
* ``p_worse`` (H1: the challenger is less accurate) = ``P(X <= c)``,
* ``p_two_sided`` = ``min(1, 2 min(p_better, p_worse))``, which equals
  ``scipy.stats.binomtest(c, b + c, 0.5).pvalue`` since the null distribution is symmetric.

With no discordant pair every p-value is 1: there is no evidence either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

from lifecycle.errors import DataError

__all__ = ["McNemarResult", "mcnemar_exact", "mcnemar_from_counts"]

TEST_NAME = "McNemar exact (binomial on discordant pairs)"


@dataclass(frozen=True)
class McNemarResult:
    """Discordant counts, the accuracy difference and the exact p-values."""

    n: int
    champion_only: int
    challenger_only: int
    p_better: float
    p_worse: float
    p_two_sided: float
    test: str = TEST_NAME

    @property
    def discordant(self) -> int:
        """Pairs on which exactly one model was right (``b + c``)."""
        return self.champion_only + self.challenger_only

    @property
    def difference(self) -> float:
        """Challenger accuracy minus champion accuracy, ``(c - b) / n`` (NaN when n is 0)."""
        if self.n == 0:
            return float("nan")
        return (self.challenger_only - self.champion_only) / self.n


def mcnemar_from_counts(champion_only: int, challenger_only: int, n: int) -> McNemarResult:
    """The exact test from the discordant counts ``b`` (champion only) and ``c``.

    Examples
    --------
    Bentur et al. (2009), as analysed by Fagerland, Lydersen and Laake (2013): 21 children,
    ``b = 1``, ``c = 7``; the exact conditional two-sided p-value is ``2 * 9 / 256``.

    >>> r = mcnemar_from_counts(1, 7, 21)
    >>> round(r.p_two_sided, 4), round(r.p_better, 4)
    (0.0703, 0.0352)
    """
    b, c = int(champion_only), int(challenger_only)
    if b < 0 or c < 0 or b + c > n:
        raise DataError(
            f"discordant counts b={b}, c={c} are impossible for {n} pairs; count the pairs "
            "where exactly one model was right"
        )
    d = b + c
    if d == 0:
        return McNemarResult(n, b, c, 1.0, 1.0, 1.0)
    p_better = float(binom.sf(c - 1, d, 0.5))  # P(X >= c)
    p_worse = float(binom.cdf(c, d, 0.5))  # P(X <= c)
    p_two = min(1.0, 2.0 * min(p_better, p_worse))
    return McNemarResult(n, b, c, p_better, p_worse, p_two)


def mcnemar_exact(
    champion_correct: NDArray[np.bool_], challenger_correct: NDArray[np.bool_]
) -> McNemarResult:
    """McNemar's exact test on two aligned boolean arrays of per-request correctness.

    Examples
    --------
    >>> import numpy as np
    >>> champ = np.array([True, True, False, False, True])
    >>> chall = np.array([True, False, True, True, True])
    >>> r = mcnemar_exact(champ, chall)
    >>> r.champion_only, r.challenger_only, r.difference
    (1, 2, 0.2)
    """
    a = np.asarray(champion_correct, dtype=bool)
    z = np.asarray(challenger_correct, dtype=bool)
    if a.shape != z.shape or a.ndim != 1:
        raise DataError(
            f"correctness arrays have shapes {a.shape} and {z.shape}; pass one flag per "
            "labelled pair for each model, aligned by request"
        )
    b = int(np.count_nonzero(a & ~z))
    c = int(np.count_nonzero(~a & z))
    return mcnemar_from_counts(b, c, int(a.size))

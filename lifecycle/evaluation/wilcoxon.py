"""Wilcoxon signed-rank test on paired absolute errors (pure core).

For each labelled request, ``d = |error of the champion| - |error of the challenger|``: positive
when the challenger was closer to the label. H0: the distribution of ``d`` is symmetric about
zero (Wilcoxon, 1945).

* Zero differences (both models equally far from the label, e.g. identical predictions) are
  **dropped** before ranking (``zero_method="wilcox"``, scipy's default; Wilcoxon's original
  rule). Like McNemar's test, only the requests on which the models differ carry evidence.
* ``T+`` is the sum of the ranks of ``|d|`` over the positive ``d`` (average ranks for ties).
* Exact null distribution when at most 50 non-zero differences remain and their absolute values
  have no ties (the same cut-off as ``scipy.stats.wilcoxon(method="auto")``); otherwise the
  normal approximation with the tie-corrected variance
  ``n(n+1)(2n+1)/24 - sum(t^3 - t)/48`` and no continuity correction (scipy's
  ``method="asymptotic"``, ``correction=False``).
* ``p_better`` (H1: the challenger has smaller errors) is the upper tail of ``T+``,
  ``p_worse`` the lower tail, ``p_two_sided = min(1, 2 min(...))``.

With no non-zero difference every p-value is 1 (scipy returns NaN there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm, rankdata

from lifecycle.errors import DataError

__all__ = ["EXACT_MAX_N", "WilcoxonResult", "wilcoxon_signed_rank"]

#: Largest number of non-zero differences for which the exact null distribution is used.
EXACT_MAX_N = 50
TEST_NAME = "Wilcoxon signed-rank on absolute errors (zeros dropped)"


@dataclass(frozen=True)
class WilcoxonResult:
    """``T+``, the p-values and how they were computed."""

    n: int
    n_nonzero: int
    statistic: float
    z: float | None
    p_better: float
    p_worse: float
    p_two_sided: float
    method: str
    mean_difference: float
    sd_difference: float
    test: str = TEST_NAME


@lru_cache(maxsize=64)
def _exact_counts(n: int) -> tuple[int, ...]:
    """Number of sign assignments of ranks 1..n giving each rank sum 0..n(n+1)/2."""
    total = n * (n + 1) // 2
    counts = [0] * (total + 1)
    counts[0] = 1
    for rank in range(1, n + 1):
        for s in range(total, rank - 1, -1):
            counts[s] += counts[s - rank]
    return tuple(counts)


def wilcoxon_signed_rank(
    champion_abs_error: NDArray[np.float64], challenger_abs_error: NDArray[np.float64]
) -> WilcoxonResult:
    """Wilcoxon signed-rank test of ``champion_abs_error - challenger_abs_error``.

    Examples
    --------
    >>> import numpy as np
    >>> champ = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    >>> chall = np.array([0.5, 1.0, 3.25, 1.0, 0.0, 1.5])
    >>> r = wilcoxon_signed_rank(champ, chall)
    >>> r.statistic, r.method, round(r.p_better, 4)
    (20.0, 'exact', 0.0312)
    """
    a = np.asarray(champion_abs_error, dtype=np.float64)
    z_err = np.asarray(challenger_abs_error, dtype=np.float64)
    if a.shape != z_err.shape or a.ndim != 1:
        raise DataError(
            f"error arrays have shapes {a.shape} and {z_err.shape}; pass one absolute error "
            "per labelled pair for each model, aligned by request"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(z_err))):
        raise DataError("absolute errors contain NaN or infinite values; drop those requests")
    d_all = a - z_err
    mean_d = float(d_all.mean()) if d_all.size else math.nan
    sd_d = float(d_all.std(ddof=1)) if d_all.size > 1 else math.nan
    d = d_all[d_all != 0.0]
    n = int(d.size)
    if n == 0:
        return WilcoxonResult(int(a.size), 0, 0.0, None, 1.0, 1.0, 1.0, "none", mean_d, sd_d)
    magnitude = np.abs(d)
    ranks = rankdata(magnitude)
    t_plus = float(ranks[d > 0].sum())
    _, tie_sizes = np.unique(magnitude, return_counts=True)
    ties = bool(np.any(tie_sizes > 1))
    if n <= EXACT_MAX_N and not ties:
        counts = np.array(_exact_counts(n), dtype=np.float64)
        total = 2.0**n
        k = int(round(t_plus))
        p_better = float(counts[k:].sum() / total)  # P(T+ >= t)
        p_worse = float(counts[: k + 1].sum() / total)  # P(T+ <= t)
        z_value = None
        method = "exact"
    else:
        mean = n * (n + 1) / 4.0
        var = n * (n + 1) * (2 * n + 1) / 24.0 - float(np.sum(tie_sizes**3 - tie_sizes)) / 48.0
        z_value = (t_plus - mean) / math.sqrt(var)
        p_better = float(norm.sf(z_value))
        p_worse = float(norm.cdf(z_value))
        method = "asymptotic"
    p_two = min(1.0, 2.0 * min(p_better, p_worse))
    return WilcoxonResult(
        int(a.size), n, t_plus, z_value, p_better, p_worse, p_two, method, mean_d, sd_d
    )

"""Jensen-Shannon distance (base 2, in [0, 1]) on the same buckets as PSI.

``JS = sqrt( KL(r || m) / 2 + KL(c || m) / 2 )`` with ``m = (r + c) / 2`` and ``KL`` in bits;
``0 * log 0 = 0``, so no smoothing is needed (``m > 0`` wherever ``r`` or ``c`` is).
Equal to ``scipy.spatial.distance.jensenshannon(r, c, base=2)``.

A summarised current window with estimated counts: the divergence is a sum of per-bucket terms
convex in ``c_j`` (zero at ``c_j = r_j``), so its range over the count intervals is exact per
term (:mod:`lifecycle.drift.summary_buckets`); ``error_bound`` is the larger distance from the
distance to the square roots of that range's ends.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.base import StatOptions
from lifecycle.drift.profile import FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import Summary
from lifecycle.drift.summary_buckets import current_buckets, interval_stat, with_interval

__all__ = ["compute", "js_from_counts"]

NAME = "jensen_shannon"


def _kl_bits(p: NDArray[np.float64], m: NDArray[np.float64]) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / m[mask])))


def js_from_counts(reference: NDArray[np.int64], current: NDArray[np.int64]) -> float:
    """Jensen-Shannon distance (base 2) of two count vectors over the same buckets."""
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(current, dtype=np.float64)
    r = r / r.sum()
    c = c / c.sum()
    m = (r + c) / 2.0
    div = (_kl_bits(r, m) + _kl_bits(c, m)) / 2.0
    return float(min(1.0, np.sqrt(max(div, 0.0))))


def js_term(r: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """One bucket's share of the divergence, ``(r log2(2r/(r+c)) + c log2(2c/(r+c))) / 2``."""
    m = r + c
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(r > 0, r * np.log2(2.0 * r / m), 0.0)
        b = np.where(c > 0, c * np.log2(2.0 * c / m), 0.0)
    return np.maximum((a + b) / 2.0, 0.0)


def _distance(div: float) -> float:
    return float(min(1.0, np.sqrt(max(div, 0.0))))


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """Jensen-Shannon distance of one feature over the PSI buckets."""
    b, sb = current_buckets(profile, sample, options)
    value = js_from_counts(b.reference, b.current)
    lo, hi = interval_stat(sb, js_term, _distance) if sb else (value, value)
    return with_interval(StatResult(
        name=NAME,
        kind=profile.kind,
        statistic=value,
        effect=value,
        p_value=None,
        n_reference=int(b.reference.sum()),
        n_current=int(b.current.sum()),
        variant="distance sqrt(JSD), base 2, over the PSI buckets",
        bin_edges=b.edges,
        categories=b.labels,
        reference_counts=tuple(int(x) for x in b.reference),
        current_counts=tuple(int(x) for x in b.current),
        smoothing="none (0*log0 = 0)",
        log_base=2.0,
    ), sb, lo, hi)

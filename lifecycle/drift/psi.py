"""Population Stability Index (numeric and categorical).

``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` over the shared buckets of
:func:`lifecycle.drift.base.buckets` (numeric: 10 reference-quantile bins open to +/-inf plus a
missing-value bucket; categorical: reference categories, ``__unseen__`` and ``__missing__``),
with ``r_i``/``c_i`` the reference/current proportions, natural log. A bucket empty on one side
gets proportion ``psi_epsilon`` (default 1e-4) on that side, without renormalising; buckets
empty on both sides contribute 0. Each term is >= 0, so PSI >= 0 and PSI(x, x) = 0.

A summarised current window (:mod:`lifecycle.drift.summary_buckets`) gives exact counts (same
value as in memory) or counts within intervals; then ``error_bound`` is the larger distance
to the ends of PSI's range over those intervals (proportions floored at ``psi_epsilon``), and
``extra["interval"]`` is that range.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.base import StatOptions, smooth
from lifecycle.drift.profile import FeatureProfile
from lifecycle.drift.report import StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import Summary
from lifecycle.drift.summary_buckets import current_buckets, interval_stat, with_interval

__all__ = ["compute", "psi_from_counts"]

NAME = "psi"


def psi_from_counts(
    reference: NDArray[np.int64], current: NDArray[np.int64], epsilon: float = 1e-4
) -> float:
    """PSI of two count vectors over the same buckets (natural log, zero-replacement)."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    both_empty = (ref == 0) & (cur == 0)
    r = smooth(ref / ref.sum(), epsilon)[~both_empty]
    c = smooth(cur / cur.sum(), epsilon)[~both_empty]
    return float(max(0.0, np.sum((c - r) * np.log(c / r))))


def psi_term(epsilon: float) -> Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[
    np.float64
]]:
    """One bucket's PSI term ``(c - r) ln(c / r)``, proportions floored at ``epsilon``."""

    def term(r: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
        rs, cs = np.maximum(r, epsilon), np.maximum(c, epsilon)
        return (cs - rs) * np.log(cs / rs)

    return term


def compute(
    profile: FeatureProfile, sample: NumericSample | CategoricalSample | Summary,
    options: StatOptions,
) -> StatResult:
    """PSI of one feature; the result carries buckets, both count vectors and the smoothing."""
    b, sb = current_buckets(profile, sample, options)
    value = psi_from_counts(b.reference, b.current, options.psi_epsilon)
    lo, hi = interval_stat(sb, psi_term(options.psi_epsilon)) if sb else (value, value)
    return with_interval(StatResult(
        name=NAME,
        kind=profile.kind,
        statistic=value,
        effect=value,
        p_value=None,
        n_reference=int(b.reference.sum()),
        n_current=int(b.current.sum()),
        variant="sum((c-r)*ln(c/r)) over quantile bins + missing bucket"
        if profile.kind == "numeric"
        else "sum((c-r)*ln(c/r)) over categories + __unseen__ + __missing__",
        bin_edges=b.edges,
        categories=b.labels,
        reference_counts=tuple(int(x) for x in b.reference),
        current_counts=tuple(int(x) for x in b.current),
        smoothing=f"bucket empty on one side -> proportion {options.psi_epsilon:g} "
        "(no renormalisation); empty on both sides -> skipped",
        log_base=float(np.e),
    ), sb, lo, hi)

"""Shared pieces of the statistics: options, the binned view of a feature, smoothing.

Both PSI and Jensen-Shannon work on the *same* buckets, built here once:

* numeric: the reference quantile bins ``(-inf, e1), [e1, e2), ..., [ek, +inf)`` followed by
  one bucket for missing values;
* categorical: every reference category, then ``__unseen__`` (all current categories never
  seen in the reference, pooled) and ``__missing__``.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.profile import CategoricalProfile, NumericProfile
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.summary import NumericSummary, Summary
from lifecycle.errors import DataError

__all__ = [
    "MISSING",
    "UNSEEN",
    "Buckets",
    "StatOptions",
    "buckets",
    "check_pair",
    "smooth",
]

UNSEEN = "__unseen__"
MISSING = "__missing__"


@dataclass(frozen=True)
class StatOptions:
    """Knobs of the statistics themselves (thresholds live in the decision, not here).

    Attributes
    ----------
    psi_epsilon
        Proportion given to a bucket that is empty on one side, for PSI only (no
        renormalisation). Default 1e-4.
    ks_method
        ``auto`` (scipy's rule: exact when both samples have at most 10,000 values, else the
        asymptotic distribution), ``exact`` or ``asymp``; same meaning as in
        ``scipy.stats.ks_2samp``.
    reference_digest
        Digest of the reference profile (:meth:`ReferenceProfile.digest`), set by
        :func:`lifecycle.drift.engine.check_summaries`: a summarised window's exact bin and
        range counts are used only when they were taken against this reference.
    """

    psi_epsilon: float = 1e-4
    ks_method: str = "auto"
    reference_digest: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.psi_epsilon < 1:
            raise DataError(f"psi_epsilon must be in (0, 1), got {self.psi_epsilon!r}")
        if self.ks_method not in ("auto", "exact", "asymp"):
            raise DataError(
                f"ks_method {self.ks_method!r} is not valid; choose auto, exact or asymp"
            )


@dataclass(frozen=True, eq=False)
class Buckets:
    """Reference and current counts over the same buckets."""

    labels: tuple[str, ...]
    reference: NDArray[np.int64]
    current: NDArray[np.int64]
    edges: tuple[float, ...]
    unseen: tuple[tuple[str, int], ...] = ()


def _numeric_labels(edges: NDArray[np.float64]) -> tuple[str, ...]:
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "+inf"]
    return (
        *(
            f"[{lo}, {hi})" if lo != "-inf" else f"({lo}, {hi})"
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ),
        MISSING,
    )


def _numeric_current_counts(profile: NumericProfile, sample: NumericSample) -> NDArray[np.int64]:
    cuts = np.searchsorted(sample.sorted_values, profile.bin_edges, side="left")
    bounds = np.concatenate(([0], cuts, [sample.n]))
    return np.diff(bounds).astype(np.int64)


def buckets(
    profile: NumericProfile | CategoricalProfile, sample: NumericSample | CategoricalSample
) -> Buckets:
    """Reference and current counts over the shared buckets of one feature."""
    if isinstance(profile, NumericProfile):
        if not isinstance(sample, NumericSample):
            raise DataError("a numeric reference needs a NumericSample for the current data")
        ref = np.append(profile.bin_counts, profile.n_missing).astype(np.int64)
        cur = np.append(_numeric_current_counts(profile, sample), sample.n_missing)
        return Buckets(
            labels=_numeric_labels(profile.bin_edges),
            reference=ref,
            current=cur.astype(np.int64),
            edges=tuple(float(e) for e in profile.bin_edges),
        )
    if not isinstance(sample, CategoricalSample):
        raise DataError("a categorical reference needs a CategoricalSample for the current data")
    index = {c: i for i, c in enumerate(profile.categories)}
    k = len(profile.categories)
    cur = np.zeros(k + 2, dtype=np.int64)
    unseen: list[tuple[str, int]] = []
    for cat, cnt in zip(sample.categories, np.asarray(sample.counts), strict=True):
        i = index.get(cat)
        if i is None:
            if cnt > 0:
                unseen.append((cat, int(cnt)))
                cur[k] += int(cnt)
        else:
            cur[i] += int(cnt)
    cur[k + 1] = sample.n_missing
    ref = np.concatenate((profile.counts, [0, profile.n_missing])).astype(np.int64)
    unseen.sort(key=lambda t: (-t[1], t[0]))
    return Buckets(
        labels=(*profile.categories, UNSEEN, MISSING),
        reference=ref,
        current=cur,
        edges=(),
        unseen=tuple(unseen),
    )


def check_pair(
    profile: NumericProfile | CategoricalProfile,
    sample: NumericSample | CategoricalSample | Summary,
    statistic: str,
) -> None:
    """Raise :class:`DataError` when the reference and current kinds differ."""
    if isinstance(profile, NumericProfile) != isinstance(sample, NumericSample | NumericSummary):
        raise DataError(
            f"{statistic}: the reference is {profile.kind} but the current sample is not; "
            "build the current sample with the reference's kind"
        )


def smooth(p: NDArray[np.float64], epsilon: float) -> NDArray[np.float64]:
    """Replace zero proportions by ``epsilon`` (no renormalisation)."""
    return np.where(p == 0, epsilon, p)

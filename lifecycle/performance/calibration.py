"""Probability calibration on binned data: isotonic (pool-adjacent-violators) and Platt.

Both calibrators are fitted on at most ``bins`` quantile bins of the score (count and number
of positives per bin), which makes refitting them on a parametric bootstrap of the bins cheap:
the label-free estimator uses that to carry calibration uncertainty into its interval.
Pure core: numpy and scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, logit

from lifecycle.errors import DataError

__all__ = ["CALIBRATION_METHODS", "BinnedCalibration", "bin_scores", "pav"]

CALIBRATION_METHODS = ("isotonic", "platt")


def pav(values: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted isotonic (non-decreasing) regression by pool-adjacent-violators.

    >>> pav(np.array([0.1, 0.3, 0.2, 0.6]), np.ones(4)).round(3).tolist()
    [0.1, 0.25, 0.25, 0.6]
    """
    level: list[float] = []
    weight: list[float] = []
    size: list[int] = []
    for v, w in zip(values.tolist(), weights.tolist(), strict=True):
        level.append(v)
        weight.append(w)
        size.append(1)
        while len(level) > 1 and level[-2] > level[-1]:
            w2 = weight[-2] + weight[-1]
            level[-2] = (level[-2] * weight[-2] + level[-1] * weight[-1]) / w2
            weight[-2] = w2
            size[-2] += size[-1]
            level.pop()
            weight.pop()
            size.pop()
    return np.repeat(np.asarray(level), size)


def bin_scores(
    scores: NDArray[np.float64], outcomes: NDArray[np.float64], bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Quantile-bin the scores: per bin the mean score, the count and the number of positives."""
    order = np.argsort(scores, kind="stable")
    s, y = scores[order], outcomes[order]
    groups = np.array_split(np.arange(s.size), min(bins, s.size))
    centre = np.array([s[g].mean() for g in groups])
    count = np.array([float(g.size) for g in groups])
    positive = np.array([y[g].sum() for g in groups])
    return centre, count, positive


@dataclass(frozen=True)
class BinnedCalibration:
    """A calibration map ``score -> P(outcome = 1)`` fitted on binned reference data.

    Parameters
    ----------
    method
        ``"isotonic"`` (default; monotone, no shape assumption) or ``"platt"`` (logistic in
        the logit of the score).
    centre, count, positive
        The binned reference data (see :func:`bin_scores`).
    """

    method: str
    centre: NDArray[np.float64]
    count: NDArray[np.float64]
    positive: NDArray[np.float64]

    @classmethod
    def fit(
        cls,
        scores: NDArray[np.float64],
        outcomes: NDArray[np.float64],
        method: str = "isotonic",
        bins: int = 50,
    ) -> BinnedCalibration:
        """Bin the reference scores and 0/1 outcomes."""
        if method not in CALIBRATION_METHODS:
            raise DataError(
                f"unknown calibration method {method!r}; "
                f"valid values are {list(CALIBRATION_METHODS)}"
            )
        if scores.size == 0:
            raise DataError("no reference rows to calibrate on; set a labelled reference period")
        return cls(method, *bin_scores(scores, outcomes, bins))

    def resampled(self, rng: np.random.Generator) -> BinnedCalibration:
        """A parametric bootstrap replicate: positives per bin redrawn as binomials."""
        rate = self.positive / self.count
        return BinnedCalibration(
            self.method,
            self.centre,
            self.count,
            rng.binomial(self.count.astype(np.int64), rate).astype(np.float64),
        )

    def levels(self) -> NDArray[np.float64]:
        """Calibrated probability at each bin centre."""
        rate = self.positive / self.count
        if self.method == "isotonic":
            return pav(rate, self.count)
        x = logit(np.clip(self.centre, 1e-6, 1 - 1e-6))

        def loss(ab: NDArray[np.float64]) -> float:
            q = np.clip(expit(ab[0] * x + ab[1]), 1e-12, 1 - 1e-12)
            return float(
                -np.sum(self.positive * np.log(q) + (self.count - self.positive) * np.log(1 - q))
            )

        ab = minimize(loss, np.array([1.0, 0.0]), method="BFGS").x
        return np.asarray(expit(ab[0] * x + ab[1]), dtype=np.float64)

    def transform(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated probabilities of ``scores`` (linear between bin centres, flat outside)."""
        return np.interp(scores, self.centre, self.levels())

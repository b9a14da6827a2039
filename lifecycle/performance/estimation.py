"""Label-free performance estimation from calibrated confidence (pure core).

Fit on the labelled reference: a calibration map from the model's confidence in its predicted
class to the probability that the prediction is right (top-label calibration), and for binary
models a map from the positive-class probability to P(y = positive). On an unlabelled window the
expected accuracy is the mean calibrated confidence, and the expected F1 is formed from expected
confusion counts (the confidence-based estimation of NannyML's CBPE). The interval comes from a
Monte Carlo over (a) parametric bootstrap replicates of the calibration and (b) outcomes drawn
from the calibrated probabilities, so it carries both calibration and sampling uncertainty.

Assumption: :data:`ASSUMPTION`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from lifecycle.errors import DataError, InsufficientDataError
from lifecycle.performance.calibration import BinnedCalibration
from lifecycle.performance.data import LabelledSample, classification_sample

__all__ = ["ASSUMPTION", "EstimatedPerformance", "PerformanceEstimator"]

ASSUMPTION = (
    "Estimated without labels, assuming no concept shift: the relation between inputs and "
    "target is the same as in the reference period and only the input distribution moved "
    "(covariate shift). If the relation itself changed, the estimate is wrong; only labelled "
    "performance shows that."
)


@dataclass(frozen=True)
class EstimatedPerformance:
    """Expected accuracy (and F1 for binary models) of an unlabelled window, with intervals."""

    n: int
    accuracy: float
    accuracy_ci_low: float
    accuracy_ci_high: float
    f1: float | None
    f1_ci_low: float | None
    f1_ci_high: float | None
    reference_accuracy: float
    reference_f1: float | None
    calibration: str
    confidence: float
    n_sim: int
    seed: int
    assumption: str = ASSUMPTION


def _f1(tp: NDArray[np.float64], fp: NDArray[np.float64], fn: NDArray[np.float64]) -> Any:
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1.0), 0.0)


class PerformanceEstimator:
    """Confidence-based estimator, fitted on the labelled reference.

    Parameters
    ----------
    calibration
        ``"isotonic"`` (default) or ``"platt"``.
    bins
        Quantile bins of the reference confidence the calibration is fitted on.
    n_sim
        Monte Carlo replicates behind the interval.
    confidence
        Level of the interval.
    seed
        Seed of the Monte Carlo.
    min_reference
        Fewer labelled reference rows raise :class:`InsufficientDataError`.
    """

    def __init__(
        self,
        calibration: str = "isotonic",
        bins: int = 50,
        n_sim: int = 300,
        confidence: float = 0.95,
        seed: int = 0,
        min_reference: int = 100,
    ) -> None:
        self.calibration = calibration
        self.bins = bins
        self.n_sim = n_sim
        self.confidence = confidence
        self.seed = seed
        self.min_reference = min_reference
        self._classes: tuple[str, ...] = ()
        self._correct: BinnedCalibration | None = None
        self._positive: BinnedCalibration | None = None
        self._ref_accuracy = math.nan
        self._ref_f1: float | None = None

    def fit(self, reference: LabelledSample) -> Self:
        """Fit the calibration maps on a labelled reference sample with probabilities."""
        if reference.task != "classification" or reference.proba is None:
            raise DataError(
                "label-free estimation needs a classifier that logs probabilities "
                "(proba_<class> columns) in the reference period"
            )
        if reference.n < self.min_reference:
            raise InsufficientDataError(
                f"reference has {reference.n} labelled predictions with probabilities, fewer "
                f"than {self.min_reference}; widen the reference period"
            )
        self._classes = reference.classes
        conf = _confidence(reference.proba, reference.y_pred, reference.classes)
        correct = (reference.y_true == reference.y_pred).astype(np.float64)
        self._correct = BinnedCalibration.fit(conf, correct, self.calibration, self.bins)
        self._ref_accuracy = float(correct.mean())
        if len(self._classes) == 2:
            pos = (reference.y_true == self._classes[1]).astype(np.float64)
            self._positive = BinnedCalibration.fit(
                reference.proba[:, 1], pos, self.calibration, self.bins
            )
            pred_pos = reference.y_pred == self._classes[1]
            tp = np.sum(pos[pred_pos])
            self._ref_f1 = float(
                _f1(np.asarray(tp), np.sum(1 - pos[pred_pos]), np.sum(pos[~pred_pos]))
            )
        return self

    def estimate(
        self, proba: NDArray[Any], y_pred: NDArray[Any] | None = None
    ) -> EstimatedPerformance:
        """Estimate accuracy (and binary F1) of a window from its probabilities alone.

        Parameters
        ----------
        proba
            ``(n, k)`` probabilities in the reference's class order.
        y_pred
            Predicted classes as logged; default: the most probable class.
        """
        if self._correct is None:
            raise DataError("the estimator is not fitted; call fit(reference) first")
        classes = self._classes
        p = np.asarray(proba, dtype=np.float64)
        if p.ndim != 2 or p.shape[0] == 0:
            raise InsufficientDataError("no predictions with probabilities in the window")
        if y_pred is None:
            y_pred = np.asarray(classes)[np.argmax(p, axis=1)]
        sample = classification_sample(y_pred, y_pred, p, classes)  # validates probabilities
        assert sample.proba is not None
        conf = _confidence(sample.proba, sample.y_pred, classes)
        rng = np.random.default_rng(self.seed)
        lo_q, hi_q = 50 * (1 - self.confidence), 100 - 50 * (1 - self.confidence)
        n = sample.n
        accuracy = float(self._correct.transform(conf).mean())
        sims = np.empty(self.n_sim)
        for s in range(self.n_sim):
            q = self._correct.resampled(rng).transform(conf)
            sims[s] = np.mean(rng.random(n) < q)
        acc_ci = np.percentile(sims, [lo_q, hi_q])
        f1 = f1_lo = f1_hi = None
        if self._positive is not None:
            p1 = sample.proba[:, 1]
            pred_pos = sample.y_pred == classes[1]
            q = self._positive.transform(p1)
            f1 = float(_f1(q[pred_pos].sum(), (1 - q[pred_pos]).sum(), q[~pred_pos].sum()))
            for s in range(self.n_sim):
                y = rng.random(n) < self._positive.resampled(rng).transform(p1)
                sims[s] = _f1(
                    np.sum(y & pred_pos), np.sum(~y & pred_pos), np.sum(y & ~pred_pos)
                )
            f1_lo, f1_hi = (float(v) for v in np.percentile(sims, [lo_q, hi_q]))
        return EstimatedPerformance(
            n=n,
            accuracy=accuracy,
            accuracy_ci_low=float(acc_ci[0]),
            accuracy_ci_high=float(acc_ci[1]),
            f1=f1,
            f1_ci_low=f1_lo,
            f1_ci_high=f1_hi,
            reference_accuracy=self._ref_accuracy,
            reference_f1=self._ref_f1,
            calibration=self.calibration,
            confidence=self.confidence,
            n_sim=self.n_sim,
            seed=self.seed,
        )


def _confidence(
    proba: NDArray[np.float64], y_pred: NDArray[Any], classes: tuple[str, ...]
) -> NDArray[np.float64]:
    """Probability the model gave to the class it predicted (max probability if unknown)."""
    index = {c: j for j, c in enumerate(classes)}
    cols = np.array([index.get(str(v), -1) for v in y_pred], dtype=np.int64)
    rows = np.arange(proba.shape[0])
    return np.where(cols >= 0, proba[rows, np.maximum(cols, 0)], proba.max(axis=1))

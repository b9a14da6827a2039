"""Paired samples: the champion's and the challenger's answers to the same labelled requests.

One row per request that both models answered and that has a label. Validation reuses the
performance package's rules (canonical class labels, probabilities in [0, 1] summing to one),
so a sample that the performance check accepts is accepted here too. Pure core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lifecycle.errors import DataError
from lifecycle.performance.data import (
    TASKS,
    LabelledSample,
    canonical_label,
    classification_sample,
    regression_sample,
)

__all__ = ["PairedSample", "paired_sample"]


@dataclass(frozen=True)
class PairedSample:
    """Labels and both models' predictions, row-aligned by request.

    Classification: ``y_true``, ``champion`` and ``challenger`` are string arrays (canonical
    labels); ``champion_proba`` / ``challenger_proba`` are ``(n, k)`` with columns in
    ``classes`` order, or both None. Regression: float arrays and no probabilities.
    ``champion_latency`` / ``challenger_latency`` are per-request latencies in milliseconds,
    or both None.

    Examples
    --------
    >>> s = paired_sample("classification", [1, 0, 1], [1, 1, 1], [1, 0, 0])
    >>> s.n, s.classes
    (3, ('0', '1'))
    >>> s.champion_correct().tolist(), s.challenger_correct().tolist()
    ([True, False, True], [True, True, False])
    """

    task: str
    y_true: NDArray[Any]
    champion: NDArray[Any]
    challenger: NDArray[Any]
    champion_proba: NDArray[np.float64] | None = None
    challenger_proba: NDArray[np.float64] | None = None
    classes: tuple[str, ...] = ()
    champion_latency: NDArray[np.float64] | None = None
    challenger_latency: NDArray[np.float64] | None = None

    @property
    def n(self) -> int:
        """Number of labelled pairs."""
        return int(self.y_true.size)

    @property
    def has_proba(self) -> bool:
        """Whether both models' class probabilities are present."""
        return self.champion_proba is not None and self.challenger_proba is not None

    def champion_sample(self) -> LabelledSample:
        """The champion's rows as a performance sample."""
        return LabelledSample(
            self.task, self.y_true, self.champion, self.champion_proba, self.classes
        )

    def challenger_sample(self) -> LabelledSample:
        """The challenger's rows as a performance sample."""
        return LabelledSample(
            self.task, self.y_true, self.challenger, self.challenger_proba, self.classes
        )

    def champion_correct(self) -> NDArray[np.bool_]:
        """Per request: did the champion predict the label (classification only)."""
        self._require("classification", "per-request correctness")
        return np.asarray(self.champion == self.y_true)

    def challenger_correct(self) -> NDArray[np.bool_]:
        """Per request: did the challenger predict the label (classification only)."""
        self._require("classification", "per-request correctness")
        return np.asarray(self.challenger == self.y_true)

    def champion_abs_error(self) -> NDArray[np.float64]:
        """Per request: the champion's absolute error (regression only)."""
        self._require("regression", "absolute errors")
        return np.abs(self.y_true - self.champion)

    def challenger_abs_error(self) -> NDArray[np.float64]:
        """Per request: the challenger's absolute error (regression only)."""
        self._require("regression", "absolute errors")
        return np.abs(self.y_true - self.challenger)

    def swapped(self) -> PairedSample:
        """The same requests with the two roles exchanged (a property tests rely on)."""
        return PairedSample(
            self.task, self.y_true, self.challenger, self.champion, self.challenger_proba,
            self.champion_proba, self.classes, self.challenger_latency, self.champion_latency,
        )

    def _require(self, task: str, what: str) -> None:
        if self.task != task:
            raise DataError(f"{what} are defined for {task} samples; this one is {self.task}")


def _latencies(
    champion: Sequence[float] | NDArray[Any] | None,
    challenger: Sequence[float] | NDArray[Any] | None,
    n: int,
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    if champion is None and challenger is None:
        return None, None
    if champion is None or challenger is None:
        raise DataError(
            "latencies were given for one model only; pass champion_latency and "
            "challenger_latency together, or neither"
        )
    out = []
    for role, values in (("champion", champion), ("challenger", challenger)):
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (n,):
            raise DataError(
                f"{role}_latency has shape {arr.shape}, expected ({n},): one latency per "
                "labelled pair, in the same order as y_true"
            )
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise DataError(
                f"{role}_latency contains NaN, infinite or negative values; drop those "
                "requests or log the measured latency in milliseconds"
            )
        out.append(arr)
    return out[0], out[1]


def paired_sample(
    task: str,
    y_true: Sequence[Any] | NDArray[Any],
    champion: Sequence[Any] | NDArray[Any],
    challenger: Sequence[Any] | NDArray[Any],
    *,
    champion_proba: NDArray[Any] | None = None,
    challenger_proba: NDArray[Any] | None = None,
    classes: Sequence[Any] | None = None,
    champion_latency: Sequence[float] | NDArray[Any] | None = None,
    challenger_latency: Sequence[float] | NDArray[Any] | None = None,
) -> PairedSample:
    """Validate a paired sample.

    Parameters
    ----------
    task
        ``"classification"`` or ``"regression"``.
    y_true, champion, challenger
        Labels and each model's prediction for the same requests, in the same order.
    champion_proba, challenger_proba
        Classification only: ``(n, k)`` class probabilities (columns in ``classes`` order; a
        1-D array is the probability of ``classes[1]`` for a binary model). Both or neither.
    classes
        Class order of the probabilities; default: sorted union of labels and predictions.
    champion_latency, challenger_latency
        Optional per-request latencies (milliseconds), both or neither.

    Raises
    ------
    DataError
        Unknown task, misaligned inputs, non-finite values, bad labels or probabilities.
    """
    if task not in TASKS:
        raise DataError(f"task {task!r} is not one of {list(TASKS)}; set the model's task")
    if not len(y_true) == len(champion) == len(challenger):
        raise DataError(
            f"{len(y_true)} labels, {len(champion)} champion and {len(challenger)} challenger "
            "predictions; pass only requests answered by both models and labelled, aligned by "
            "request id"
        )
    n = len(y_true)
    lat_champion, lat_challenger = _latencies(champion_latency, challenger_latency, n)
    if task == "regression":
        if champion_proba is not None or challenger_proba is not None:
            raise DataError("a regression sample has no class probabilities; drop *_proba")
        a, b = regression_sample(y_true, champion), regression_sample(y_true, challenger)
        return PairedSample(
            task, a.y_true, a.y_pred, b.y_pred, None, None, (), lat_champion, lat_challenger
        )
    if (champion_proba is None) != (challenger_proba is None):
        raise DataError(
            "class probabilities were given for one model only; pass champion_proba and "
            "challenger_proba together (log predict_proba for both models), or neither"
        )
    if classes is None:
        labels = {canonical_label(v) for v in (*y_true, *champion, *challenger)}
        classes = sorted(labels)
    a = classification_sample(y_true, champion, champion_proba, classes)
    b = classification_sample(y_true, challenger, challenger_proba, classes)
    return PairedSample(
        task, a.y_true, a.y_pred, b.y_pred, a.proba, b.proba, a.classes,
        lat_champion, lat_challenger,
    )

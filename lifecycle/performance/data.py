"""Validated labelled samples: what the performance statistics take as input (pure core)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lifecycle.errors import DataError

__all__ = [
    "PROBA_TOLERANCE",
    "TASKS",
    "LabelledSample",
    "canonical_label",
    "classification_sample",
    "ordered_classification_sample",
    "regression_sample",
]

TASKS = ("classification", "regression")

#: A row of logged probabilities must sum to 1 within this tolerance (float32 storage, rounding).
PROBA_TOLERANCE = 1e-3


@dataclass(frozen=True)
class LabelledSample:
    """Labels, predictions and (optionally) class probabilities, row-aligned and validated.

    Classification: ``y_true``/``y_pred`` are string arrays and ``proba`` is ``(n, k)`` with
    columns in the order of ``classes``. Regression: float arrays, ``proba`` is None.
    """

    task: str
    y_true: NDArray[Any]
    y_pred: NDArray[Any]
    proba: NDArray[np.float64] | None = None
    classes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Number of labelled predictions."""
        return int(self.y_true.size)

    def take(self, index: NDArray[np.int64]) -> LabelledSample:
        """The rows at ``index`` (used by the bootstrap)."""
        proba = None if self.proba is None else self.proba[index]
        return LabelledSample(
            self.task, self.y_true[index], self.y_pred[index], proba, self.classes
        )


def canonical_label(value: Any) -> str:
    """The text form of a class label, so that ``1``, ``1.0`` and ``"1"`` are one class.

    Raises
    ------
    DataError
        For a non-integer number, NaN or a container: such a label belongs to a regression
        task, or is malformed.
    """
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value) or not float(value).is_integer():
            raise DataError(
                f"label {value!r} is not a class: a classification model needs class labels "
                "(strings, integers or booleans); if the target is continuous, set the model's "
                "task = \"regression\""
            )
        return str(int(value))
    if isinstance(value, str):
        text = value.strip()
        if any(ch in text for ch in ".eE"):
            try:
                number = float(text)
            except ValueError:
                return value
            if math.isfinite(number) and number.is_integer():
                return str(int(number))
        return value
    raise DataError(
        f"label {value!r} of type {type(value).__name__} is not a class label; log a string, "
        "integer or boolean per prediction"
    )


def _numeric(values: Sequence[Any] | NDArray[Any], what: str) -> NDArray[np.float64]:
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        number = isinstance(v, int | float | np.integer | np.floating)
        if isinstance(v, bool | np.bool_) or not number:
            raise DataError(
                f"{what} {v!r} (row {i}) is not a number: a regression model needs numeric "
                "labels; if the target is a class, set the model's task = \"classification\""
            )
        out[i] = float(v)
    if not np.all(np.isfinite(out)):
        raise DataError(f"{what} contains NaN or infinite values; drop those rows first")
    return out


def regression_sample(
    y_true: Sequence[Any] | NDArray[Any], y_pred: Sequence[Any] | NDArray[Any]
) -> LabelledSample:
    """Validate a regression sample (numeric labels and predictions of equal length)."""
    if len(y_true) != len(y_pred):
        raise DataError(f"{len(y_true)} labels but {len(y_pred)} predictions; align them first")
    return LabelledSample("regression", _numeric(y_true, "label"), _numeric(y_pred, "prediction"))


def classification_sample(
    y_true: Sequence[Any] | NDArray[Any],
    y_pred: Sequence[Any] | NDArray[Any],
    proba: NDArray[Any] | None = None,
    classes: Sequence[Any] | None = None,
) -> LabelledSample:
    """Validate a classification sample.

    Parameters
    ----------
    y_true, y_pred
        Labels and predicted classes (any of str, int, bool; integer-valued floats allowed).
    proba
        Optional ``(n, k)`` class probabilities with columns in ``classes`` order; for a binary
        model a 1-D array is read as the probability of ``classes[1]``.
    classes
        Class order of ``proba``; default: the sorted union of labels and predictions.

    Raises
    ------
    DataError
        Wrong label types, misaligned inputs, or probabilities outside [0, 1] or whose rows do
        not sum to one.
    """
    if len(y_true) != len(y_pred):
        raise DataError(f"{len(y_true)} labels but {len(y_pred)} predictions; align them first")
    truth = np.array([canonical_label(v) for v in y_true], dtype=object).astype(str)
    pred = np.array([canonical_label(v) for v in y_pred], dtype=object).astype(str)
    if classes is None:
        names = tuple(sorted(set(truth.tolist()) | set(pred.tolist())))
    else:
        names = tuple(canonical_label(c) for c in classes)
    if proba is None:
        return LabelledSample("classification", truth, pred, None, names)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 1:
        if len(names) != 2:
            raise DataError(
                "a single probability column is only meaningful for a binary model; log one "
                "proba_<class> column per class"
            )
        p = np.column_stack([1.0 - p, p])
    if p.shape != (truth.size, len(names)):
        raise DataError(
            f"probabilities have shape {p.shape}, expected ({truth.size}, {len(names)}) for "
            f"classes {list(names)}; log predict_proba with one column per class"
        )
    if not np.all(np.isfinite(p)) or np.any(p < 0.0) or np.any(p > 1.0):
        raise DataError(
            "probabilities must be finite and within [0, 1]; log predict_proba output, "
            "not decision scores or logits"
        )
    sums = p.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > PROBA_TOLERANCE)
    if bad.size:
        raise DataError(
            f"probabilities of {bad.size} row(s) do not sum to one (row {int(bad[0])} sums to "
            f"{sums[bad[0]]:.4f}); log the full predict_proba output, one column per class"
        )
    return LabelledSample("classification", truth, pred, p, names)


def ordered_classification_sample(
    y_true: Sequence[Any] | NDArray[Any],
    y_pred: Sequence[Any] | NDArray[Any],
    proba: NDArray[Any] | None = None,
    proba_classes: Sequence[Any] | None = None,
    positive: Any = None,
) -> LabelledSample:
    """A classification sample in the one class order every lifecycle metric uses.

    Classes are sorted by their text form (:func:`canonical_label`), except that a binary
    model's ``positive`` class goes last (the class precision, recall and F1 are about).
    ``proba`` has one column per class of ``proba_classes`` (the model's own order, e.g.
    ``classes_`` or the logged ``proba_<class>`` columns) and is reordered to match; without
    ``proba`` the classes are the union of labels and predictions.

    Examples
    --------
    >>> s = ordered_classification_sample(["no", "yes"], ["yes", "yes"],
    ...                                   np.array([[0.3, 0.7], [0.2, 0.8]]), ["yes", "no"],
    ...                                   positive="yes")
    >>> s.classes, s.proba[0].tolist()
    (('no', 'yes'), [0.7, 0.3])
    """
    if proba is not None and proba_classes is not None:
        names = [canonical_label(c) for c in proba_classes]
    else:
        proba = None
        names = sorted({canonical_label(v) for v in y_true}
                       | {canonical_label(v) for v in y_pred})
    order = sorted(range(len(names)), key=lambda j: names[j])
    if positive is not None and len(names) == 2 and canonical_label(positive) in names:
        pos = names.index(canonical_label(positive))
        order = [j for j in order if j != pos] + [pos]
    classes = [names[j] for j in order]
    block = None if proba is None else np.asarray(proba, dtype=np.float64)[:, order]
    return classification_sample(y_true, y_pred, block, classes)

"""Holdout scores: the new model and the serving champion, on the same held-out rows, measured
by the performance job's own metric code.

Both paths build a :class:`lifecycle.performance.LabelledSample` (one class order for both:
:func:`lifecycle.performance.ordered_classification_sample`) and call
:func:`lifecycle.performance.compare.compute_metrics`, so "accuracy" on a retrain's holdout
means what it means on the performance page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.errors import DataError
from lifecycle.performance import (
    LabelledSample,
    canonical_label,
    ordered_classification_sample,
    regression_sample,
)
from lifecycle.performance.compare import compute_metrics
from lifecycle.storage.labelled import labelled_sample
from lifecycle.training.window import TrainingWindow

__all__ = ["MODEL", "SERVED", "HoldoutMetrics", "holdout_metrics", "infer_task",
           "served_metrics"]

#: :attr:`HoldoutMetrics.source` of the newly trained model's scores.
MODEL = "model"
#: :attr:`HoldoutMetrics.source` of what the champion actually served on the holdout rows.
SERVED = "served"


@dataclass(frozen=True)
class HoldoutMetrics:
    """Metrics on a training window's holdout (``source``: :data:`MODEL` or :data:`SERVED`)."""

    metrics: Mapping[str, float]
    n: int
    task: str
    source: str


def infer_task(window: TrainingWindow, configured: str | None = None) -> str:
    """``configured`` (``[models.NAME] task``), else the task stored with the model, else
    classification when every label is a class (text, integer, boolean: see
    :func:`lifecycle.performance.canonical_label`), else regression."""
    if configured:
        return configured
    if window.model_task:
        return window.model_task
    labels = pd.concat([window.train[window.target], window.holdout[window.target]])
    try:
        for value in pd.unique(labels):
            canonical_label(value)
    except DataError:
        return "regression"
    return "classification"


def _sample(task: str, truth: list[Any], pred: Any, proba: Any, classes: Any,
            positive: str | None) -> LabelledSample:
    if task == "regression":
        return regression_sample(truth, np.asarray(pred).ravel().tolist())
    return ordered_classification_sample(truth, list(np.asarray(pred).ravel()), proba,
                                         classes, positive)


def holdout_metrics(model_obj: Any, window: TrainingWindow, task: str,
                    positive: str | None = None) -> HoldoutMetrics:
    """Score ``model_obj`` on ``window.holdout``: ``predict`` on the feature columns, and for a
    classifier with ``predict_proba`` and ``classes_`` its probabilities too.

    Raises
    ------
    DataError
        Predictions that are not numbers (regression) or not classes (classification), or
        probabilities that are not probabilities.
    """
    x = window.holdout[list(window.features)]
    truth = window.holdout[window.target].tolist()
    pred = model_obj.predict(x)
    proba = classes = None
    if task != "regression" and callable(getattr(model_obj, "predict_proba", None)):
        classes = getattr(model_obj, "classes_", None)
        if classes is not None:
            proba = np.asarray(model_obj.predict_proba(x), dtype=np.float64)
    sample = _sample(task, truth, pred, proba, None if classes is None else list(classes),
                     positive)
    return HoldoutMetrics(compute_metrics(sample), sample.n, task, MODEL)


def served_metrics(window: TrainingWindow, task: str,
                   positive: str | None = None) -> HoldoutMetrics:
    """Score what was served on the holdout rows (``window.served``) against their labels,
    exactly as the performance job scores a labelled window.

    Raises
    ------
    DataError
        Logged outputs that carry no predicted class or value (the message names the logging
        fix), or labels of the wrong type for ``task``.
    """
    rows = window.served.copy()
    truth = window.holdout[window.target]
    rows["label"] = truth.to_numpy(dtype=object)
    rows["label_value"] = np.nan  # regression reads the label itself (numbers stay numbers)
    proba = tuple(c for c in rows.columns if str(c).startswith("proba_"))
    sample = labelled_sample(rows, proba, task, positive, model=window.model)
    return HoldoutMetrics(compute_metrics(sample), sample.n, task, SERVED)

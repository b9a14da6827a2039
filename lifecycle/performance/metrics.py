"""Point metrics for classification and regression on numpy arrays (pure core).

Classification labels are compared as strings (the capture layer stores predicted classes as
text); ``proba`` is an ``(n, k)`` array whose columns follow ``classes``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CLASSIFICATION_METRICS",
    "HIGHER_IS_BETTER",
    "REGRESSION_METRICS",
    "accuracy",
    "log_loss",
    "mae",
    "mape",
    "precision_recall_f1",
    "rmse",
    "roc_auc",
]

#: Probabilities are clipped to [EPS, 1 - EPS] in the log-loss (as scikit-learn does).
EPS = 1e-15

#: Whether a larger value of each metric is better (the direction of "worse than reference").
HIGHER_IS_BETTER: dict[str, bool] = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "precision_macro": True,
    "recall_macro": True,
    "f1_macro": True,
    "roc_auc": True,
    "log_loss": False,
    "mae": False,
    "rmse": False,
    "mape": False,
}

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS = ("mae", "rmse", "mape")


def accuracy(y_true: NDArray[np.str_], y_pred: NDArray[np.str_]) -> float:
    """Share of predictions equal to the label."""
    return float(np.mean(y_true == y_pred))


def precision_recall_f1(
    y_true: NDArray[np.str_], y_pred: NDArray[np.str_], label: str
) -> tuple[float, float, float]:
    """Precision, recall and F1 of one class; 0 where the ratio is undefined (no support)."""
    tp = float(np.sum((y_pred == label) & (y_true == label)))
    pp = float(np.sum(y_pred == label))
    ap = float(np.sum(y_true == label))
    precision = tp / pp if pp else 0.0
    recall = tp / ap if ap else 0.0
    f1 = 2 * tp / (pp + ap) if pp + ap else 0.0
    return precision, recall, f1


def macro_prf(
    y_true: NDArray[np.str_], y_pred: NDArray[np.str_], classes: tuple[str, ...]
) -> tuple[float, float, float]:
    """Unweighted mean over ``classes`` of precision, recall and F1."""
    values = np.array([precision_recall_f1(y_true, y_pred, c) for c in classes])
    return float(values[:, 0].mean()), float(values[:, 1].mean()), float(values[:, 2].mean())


def roc_auc(is_positive: NDArray[np.bool_], score: NDArray[np.float64]) -> float:
    """Area under the ROC curve (Mann–Whitney form, ties count one half); NaN if one class."""
    from scipy.stats import rankdata

    n1 = int(is_positive.sum())
    n0 = is_positive.size - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(score)
    return float((ranks[is_positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def macro_roc_auc(
    y_true: NDArray[np.str_], proba: NDArray[np.float64], classes: tuple[str, ...]
) -> float:
    """Binary: AUC of the positive (last) class; multiclass: one-vs-rest macro average."""
    if len(classes) == 2:
        return roc_auc(y_true == classes[1], proba[:, 1])
    values = [roc_auc(y_true == c, proba[:, j]) for j, c in enumerate(classes)]
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def log_loss(
    y_true: NDArray[np.str_], proba: NDArray[np.float64], classes: tuple[str, ...]
) -> float:
    """Mean negative log-likelihood of the true class (natural log, clipped at 1e-15)."""
    index = {c: j for j, c in enumerate(classes)}
    uniq, inverse = np.unique(y_true, return_inverse=True)
    cols = np.array([index.get(str(v), -1) for v in uniq], dtype=np.int64)[inverse]
    p = np.where(cols >= 0, proba[np.arange(y_true.size), np.maximum(cols, 0)], 0.0)
    return float(-np.mean(np.log(np.clip(p, EPS, 1 - EPS))))


def mae(y_true: NDArray[np.float64], y_pred: NDArray[np.float64]) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(y_true - y_pred)))


def rmse(y_true: NDArray[np.float64], y_pred: NDArray[np.float64]) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mape(y_true: NDArray[np.float64], y_pred: NDArray[np.float64]) -> float:
    """Mean absolute percentage error (a fraction, not %); NaN if any label is 0."""
    if np.any(y_true == 0):
        return math.nan
    return float(np.mean(np.abs((y_true - y_pred) / y_true)))


MetricFn = Callable[..., float]

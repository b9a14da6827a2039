"""Paired bootstrap of a metric delta, challenger minus champion (pure core).

Each replicate draws ``n`` request indices with replacement **once** and scores both models on
the same rows, so the correlation between the two models (same requests, same labels) is kept;
resampling the models independently would overstate the variance of the delta many times over.

Interval: the **percentile** interval of the replicate deltas (Efron and Tibshirani 1993,
ch. 13). BCa was considered and not chosen: its acceleration needs a jackknife, ``n`` extra
metric evaluations (20,000 ROC AUCs at the default horizon), and the decision does not rest on
the interval's tails. The decision uses the bootstrap **standard error** instead:
``z = (gain + margin) / se``, one-sided normal p-values, which are continuous and not floored at
``1 / (B + 1)`` like a tail count, so they can meet the very small nominal levels of an early
sequential look. ``gain`` is the delta oriented so that positive means the challenger is better
(``delta`` for accuracy, F1 and ROC AUC; ``-delta`` for log-loss, MAE and RMSE).

Metrics: ``accuracy``, ``f1`` (binary: the class ``classes[1]``), ``f1_macro``, ``roc_auc``
(binary, or one-vs-rest macro), ``log_loss`` (natural log, clipped at 1e-15), ``mae``,
``rmse``; point values come from :mod:`lifecycle.performance.metrics`. Replicates in which a
metric is undefined (ROC AUC of a resample holding one class) are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from lifecycle.errors import DataError
from lifecycle.evaluation.names import CLASSIFICATION_METRICS, REGRESSION_METRICS
from lifecycle.evaluation.paired import PairedSample
from lifecycle.performance import metrics as m

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "BootstrapDelta",
    "gain_of",
    "paired_bootstrap",
]

#: Index matrices are drawn in chunks of at most this many cells (memory bound).
_CHUNK_CELLS = 2_000_000

Rows = NDArray[np.int64]
Replicates = Callable[[Rows], NDArray[np.float64]]


def gain_of(metric: str, delta: float) -> float:
    """``delta`` oriented so that positive means the challenger is better."""
    return delta if m.HIGHER_IS_BETTER[metric] else -delta


@dataclass(frozen=True)
class BootstrapDelta:
    """A metric for both models, the delta and its paired-bootstrap interval and error."""

    metric: str
    champion: float
    challenger: float
    delta: float
    ci_low: float
    ci_high: float
    confidence: float
    se: float
    n: int
    n_boot: int
    n_valid: int
    seed: int
    higher_is_better: bool
    method: str = "percentile"

    @property
    def gain(self) -> float:
        """The delta oriented so that positive means the challenger is better."""
        return gain_of(self.metric, self.delta)

    def z_test(self, margin: float = 0.0) -> tuple[float, float]:
        """One-sided p-values ``(p_better, p_worse)`` of ``gain + margin`` against zero.

        ``p_better`` tests H1: ``gain > -margin`` (``margin = 0``: superiority; ``margin > 0``:
        non-inferiority within the margin). With no bootstrap spread (the models agree on every
        row) or too few valid replicates both are 1: no evidence.
        """
        shifted = self.gain + margin
        if not (self.se > 0 and math.isfinite(self.se) and math.isfinite(shifted)):
            return 1.0, 1.0
        z = shifted / self.se
        return float(norm.sf(z)), float(norm.cdf(z))


def _means(values: NDArray[np.float64]) -> Replicates:
    return lambda rows: values[rows].mean(axis=1)


def _f1_counts(
    y_true: NDArray[np.str_], pred: NDArray[np.str_], label: str
) -> Replicates:
    tp = ((pred == label) & (y_true == label)).astype(np.float64)
    size = (pred == label).astype(np.float64) + (y_true == label).astype(np.float64)

    def replicate(rows: Rows) -> NDArray[np.float64]:
        t, s = tp[rows].sum(axis=1), size[rows].sum(axis=1)
        return np.divide(2 * t, s, out=np.zeros_like(t), where=s > 0)

    return replicate


def _row_log_loss(
    y_true: NDArray[np.str_], proba: NDArray[np.float64], classes: tuple[str, ...]
) -> NDArray[np.float64]:
    index = {c: j for j, c in enumerate(classes)}
    cols = np.array([index.get(str(v), -1) for v in y_true], dtype=np.int64)
    p = np.where(cols >= 0, proba[np.arange(y_true.size), np.maximum(cols, 0)], 0.0)
    return np.asarray(-np.log(np.clip(p, m.EPS, 1 - m.EPS)), dtype=np.float64)


def _evaluators(sample: PairedSample, metric: str, role: str) -> tuple[float, Replicates]:
    """The point value of ``metric`` for one role and a function scoring replicate rows."""
    y = sample.y_true
    pred = sample.champion if role == "champion" else sample.challenger
    proba = sample.champion_proba if role == "champion" else sample.challenger_proba
    classes = sample.classes
    if metric == "accuracy":
        return m.accuracy(y, pred), _means((pred == y).astype(np.float64))
    if metric == "mae":
        return m.mae(y, pred), _means(np.abs(y - pred))
    if metric == "rmse":
        sq = _means((y - pred) ** 2)
        return m.rmse(y, pred), lambda rows: np.sqrt(sq(rows))
    if metric == "f1":
        return m.precision_recall_f1(y, pred, classes[1])[2], _f1_counts(y, pred, classes[1])
    if metric == "f1_macro":
        parts = [_f1_counts(y, pred, c) for c in classes]
        return m.macro_prf(y, pred, classes)[2], lambda rows: np.mean(
            [f(rows) for f in parts], axis=0
        )
    assert proba is not None  # checked by _check_metric
    if metric == "log_loss":
        return m.log_loss(y, proba, classes), _means(_row_log_loss(y, proba, classes))

    if len(classes) == 2:
        return m.macro_roc_auc(y, proba, classes), _auc(y == classes[1], proba[:, 1])
    parts = [_auc(y == c, proba[:, j]) for j, c in enumerate(classes)]

    def macro(rows: Rows) -> NDArray[np.float64]:
        values = np.array([f(rows) for f in parts])
        finite = np.isfinite(values)
        total = np.where(finite, values, 0.0).sum(axis=0)
        count = finite.sum(axis=0)
        return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)

    return m.macro_roc_auc(y, proba, classes), macro


def _auc(is_positive: NDArray[np.bool_], score: NDArray[np.float64]) -> Replicates:
    """ROC AUC of resampled rows without re-sorting: the Mann–Whitney count with row weights.

    A replicate is a weight per row (how often it was drawn); with the rows grouped by score
    once, AUC = sum over positives of weight x (negative weight below its score + half the
    negative weight tied with it), over (positive weight x negative weight); ties count one
    half, as in :func:`lifecycle.performance.metrics.roc_auc`.
    """
    n = score.size
    _, group = np.unique(score, return_inverse=True)
    groups = int(group.max()) + 1 if n else 0
    negative = ~is_positive

    def replicate(rows: Rows) -> NDArray[np.float64]:
        out = np.empty(rows.shape[0])
        for i, r in enumerate(rows):
            weight = np.bincount(r, minlength=n).astype(np.float64)
            w_pos, w_neg = weight * is_positive, weight * negative
            neg_by_group = np.bincount(group, weights=w_neg, minlength=groups)
            below = np.cumsum(neg_by_group) - neg_by_group
            n_pos, n_neg = w_pos.sum(), w_neg.sum()
            if n_pos == 0 or n_neg == 0:
                out[i] = np.nan
                continue
            wins = w_pos @ (below[group] + 0.5 * neg_by_group[group])
            out[i] = wins / (n_pos * n_neg)
        return out

    return replicate


def _check_metric(sample: PairedSample, metric: str) -> None:
    allowed = CLASSIFICATION_METRICS if sample.task == "classification" else REGRESSION_METRICS
    if metric not in allowed:
        raise DataError(
            f"metric {metric!r} is not available for {sample.task}; choose one of "
            f"{list(allowed)}"
        )
    if metric in ("roc_auc", "log_loss") and not sample.has_proba:
        raise DataError(
            f"{metric} needs class probabilities from both models; log predict_proba for "
            "champion and challenger, or choose accuracy or f1"
        )
    if metric == "f1" and len(sample.classes) != 2:
        raise DataError(
            f"f1 is the binary F1 of the positive class; this model has {len(sample.classes)} "
            "classes: choose f1_macro"
        )


def paired_bootstrap(
    sample: PairedSample,
    metric: str,
    *,
    n_boot: int = 1000,
    confidence: float = 0.90,
    seed: int = 0,
) -> BootstrapDelta:
    """Paired bootstrap of ``metric(challenger) - metric(champion)``.

    Parameters
    ----------
    sample
        The paired sample (at least 2 pairs).
    metric
        One of :data:`CLASSIFICATION_METRICS` or :data:`REGRESSION_METRICS`.
    n_boot
        Number of replicates (at least 2).
    confidence
        Level of the two-sided percentile interval; 0.90 makes its lower end the one-sided
        95% bound.
    seed
        Seed of the ``numpy.random.Generator`` that draws the indices.

    Examples
    --------
    >>> from lifecycle.evaluation.paired import paired_sample
    >>> s = paired_sample("regression", [0.0, 1, 2, 3], [0.5, 1.5, 2.5, 3.5], [0.0, 1, 2, 3.5])
    >>> r = paired_bootstrap(s, "mae", n_boot=200, seed=1)
    >>> r.champion, r.challenger, r.delta, r.gain
    (0.5, 0.125, -0.375, 0.375)
    """
    _check_metric(sample, metric)
    if sample.n < 2:
        raise DataError(f"the bootstrap needs at least 2 pairs, got {sample.n}; wait for labels")
    if n_boot < 2:
        raise DataError(f"n_boot={n_boot}; use at least 2 replicates (1000 by default)")
    if not 0.0 < confidence < 1.0:
        raise DataError(f"confidence={confidence} must be between 0 and 1, e.g. 0.90")
    champ_value, champ_rep = _evaluators(sample, metric, "champion")
    chall_value, chall_rep = _evaluators(sample, metric, "challenger")
    rng = np.random.default_rng(seed)
    n = sample.n
    chunk = max(1, _CHUNK_CELLS // n)
    deltas = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        rows = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        deltas[start : start + rows.shape[0]] = chall_rep(rows) - champ_rep(rows)
    valid = deltas[np.isfinite(deltas)]
    enough = valid.size >= max(2, n_boot // 2)
    tail = 50.0 * (1.0 - confidence)
    low, high = (
        (float(np.percentile(valid, tail)), float(np.percentile(valid, 100.0 - tail)))
        if enough
        else (math.nan, math.nan)
    )
    return BootstrapDelta(
        metric=metric,
        champion=champ_value,
        challenger=chall_value,
        delta=chall_value - champ_value,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        se=float(np.std(valid, ddof=1)) if enough else math.nan,
        n=n,
        n_boot=n_boot,
        n_valid=int(valid.size),
        seed=seed,
        higher_is_better=m.HIGHER_IS_BETTER[metric],
    )

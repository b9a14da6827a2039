"""Performance of a window against the reference: intervals and "worse than reference" tests.

Accuracy: Wilson interval and a one-sided pooled two-proportion z-test. Every other metric:
percentile bootstrap interval, and a one-sided z-test of the observed difference divided by
its bootstrap standard error (both samples resampled independently; unlike a bootstrap tail
count, its p-value is not floored at 1/(B+1), so it survives the Holm correction). A metric is
*worse* when its p-value, Holm-adjusted across the metrics of the window, is below ``alpha``
**and** the drop is at least the minimum effect, so large windows do not call tiny drops.
Pure core: numpy and scipy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import norm

from lifecycle.errors import DataError, InsufficientDataError
from lifecycle.performance import metrics as m
from lifecycle.performance.data import LabelledSample

__all__ = [
    "MetricComparison",
    "ReferenceBootstrap",
    "PerformanceComparison",
    "compare_performance",
    "compute_metrics",
    "holm",
    "reference_bootstrap",
    "two_proportion_test",
    "wilson_interval",
]

#: Metrics measured as a proportion of rows (tested with the two-proportion z-test).
PROPORTION_METRICS = frozenset({"accuracy"})
#: Error metrics: their minimum effect is relative to the reference value.
RELATIVE_EFFECT_METRICS = frozenset({"log_loss", "mae", "rmse", "mape"})


@dataclass(frozen=True)
class MetricComparison:
    """One metric of the current window next to the reference, with its test."""

    name: str
    value: float
    ci_low: float
    ci_high: float
    reference: float
    reference_ci_low: float
    reference_ci_high: float
    difference: float
    p_value: float | None
    p_adjusted: float | None
    test: str
    min_effect: float
    worse: bool
    higher_is_better: bool
    n: int
    n_reference: int


@dataclass(frozen=True)
class PerformanceComparison:
    """All metrics of one window; ``degraded`` when any metric is worse than the reference."""

    task: str
    metrics: tuple[MetricComparison, ...]
    degraded: bool
    alpha: float
    confidence: float
    n_boot: int
    seed: int
    n: int
    n_reference: int

    def metric(self, name: str) -> MetricComparison:
        """The comparison of one metric by name (KeyError lists the available names)."""
        for item in self.metrics:
            if item.name == name:
                return item
        raise KeyError(f"no metric {name!r}; available: {[x.name for x in self.metrics]}")


@dataclass(frozen=True)
class ReferenceBootstrap:
    """The reference's metrics and their bootstrap replicates: computed once per reference
    (the costly half of :func:`compare_performance`) and reused for every window.

    ``replicates[name]`` holds ``n_boot`` values; ``key`` says how they were drawn (a cached
    copy made with other settings is not used).
    """

    values: dict[str, float]
    replicates: dict[str, np.ndarray]
    n: int
    classes: tuple[str, ...]
    key: tuple[int, int, int]  # (n_boot, seed, max_boot_rows)


def reference_bootstrap(reference: LabelledSample, *, n_boot: int = 200, seed: int = 0,
                        max_boot_rows: int = 20_000) -> ReferenceBootstrap:
    """Every metric of ``reference`` and its bootstrap replicates, from the reference's own
    random stream (``[seed, 0]``; the window's is ``[seed, 1]``), so a cached copy gives the
    same comparison as a fresh one."""
    values = compute_metrics(reference)
    names = list(values)
    boot = _bootstrap(reference, values, names, n_boot, max_boot_rows,
                      np.random.default_rng([seed, 0]))
    return ReferenceBootstrap(values, boot, reference.n, reference.classes,
                              (n_boot, seed, max_boot_rows))


def compute_metrics(sample: LabelledSample) -> dict[str, float]:
    """Every metric defined for the sample (NaN where undefined, e.g. AUC with one class)."""
    if sample.task == "regression":
        return {
            "mae": m.mae(sample.y_true, sample.y_pred),
            "rmse": m.rmse(sample.y_true, sample.y_pred),
            "mape": m.mape(sample.y_true, sample.y_pred),
        }
    y, yhat, classes = sample.y_true, sample.y_pred, sample.classes
    out = {"accuracy": m.accuracy(y, yhat)}
    if len(classes) == 2:
        out["precision"], out["recall"], out["f1"] = m.precision_recall_f1(y, yhat, classes[1])
    out["precision_macro"], out["recall_macro"], out["f1_macro"] = m.macro_prf(y, yhat, classes)
    if sample.proba is not None:
        out["roc_auc"] = m.macro_roc_auc(y, sample.proba, classes)
        out["log_loss"] = m.log_loss(y, sample.proba, classes)
    return out


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson, 1927)."""
    if n == 0:
        return math.nan, math.nan
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_test(k_ref: float, n_ref: int, k_cur: float, n_cur: int) -> float:
    """One-sided p-value of H1: the current proportion is lower (pooled z-test)."""
    pooled = (k_ref + k_cur) / (n_ref + n_cur)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    diff = k_ref / n_ref - k_cur / n_cur
    if se == 0.0:
        return 0.0 if diff > 0 else 1.0
    return float(norm.sf(diff / se))


def holm(p_values: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (same order as given)."""
    k = len(p_values)
    order = sorted(range(k), key=lambda i: p_values[i])
    adjusted = [0.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def compare_performance(
    reference: LabelledSample,
    current: LabelledSample,
    *,
    alpha: float = 0.01,
    min_drop: float = 0.02,
    min_relative_increase: float = 0.10,
    confidence: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
    min_labels: int = 30,
    max_boot_rows: int = 20_000,
    reference_boot: ReferenceBootstrap | None = None,
) -> PerformanceComparison:
    """Compare every metric of ``current`` with ``reference``.

    Parameters
    ----------
    reference, current
        Validated samples of the same task.
    alpha
        Family-wise level of the one-sided tests (Holm across the window's metrics).
    min_drop
        Smallest absolute drop of a bounded metric (accuracy, precision, recall, F1, AUC)
        that counts as worse.
    min_relative_increase
        Smallest relative increase of an error metric (log-loss, MAE, RMSE, MAPE) that
        counts as worse.
    confidence
        Level of the reported intervals.
    n_boot
        Bootstrap replicates (seeded with ``seed``).
    min_labels
        Fewer labelled rows in either sample raise :class:`InsufficientDataError`.
    max_boot_rows
        Larger samples are bootstrapped m-out-of-n with m = ``max_boot_rows`` and the
        replicates' deviations rescaled by sqrt(m / n) (every metric here is
        sqrt(n)-asymptotically normal), which keeps a 1,000,000-row window fast.
    reference_boot
        The reference's metrics and replicates computed before
        (:func:`reference_bootstrap`); used when they match ``reference`` and these settings,
        else computed here. The results are the same either way.
    """
    if reference.task != current.task:
        raise DataError(f"reference is {reference.task} but current is {current.task}")
    for what, sample in (("reference", reference), ("current", current)):
        if sample.n < min_labels:
            raise InsufficientDataError(
                f"{what} window has {sample.n} labelled predictions, fewer than {min_labels}; "
                "widen the window or wait for more labels"
            )
    if current.task == "classification" and reference.classes != current.classes:
        classes = tuple(sorted(set(reference.classes) | set(current.classes)))
        if (reference.proba is not None or current.proba is not None) and (
            reference.classes != classes or current.classes != classes
        ):
            raise DataError(
                f"reference classes {list(reference.classes)} differ from current classes "
                f"{list(current.classes)}; log probabilities for the same classes"
            )
        reference = LabelledSample(
            reference.task, reference.y_true, reference.y_pred, None, classes
        )
        current = LabelledSample(current.task, current.y_true, current.y_pred, None, classes)

    usable = (reference_boot is not None and reference_boot.n == reference.n
              and reference_boot.classes == reference.classes
              and reference_boot.key == (n_boot, seed, max_boot_rows))
    ref_boot = reference_boot if usable and reference_boot is not None else reference_bootstrap(
        reference, n_boot=n_boot, seed=seed, max_boot_rows=max_boot_rows)
    ref_values = ref_boot.values
    boot_ref = ref_boot.replicates
    cur_values = compute_metrics(current)
    names = [k for k in cur_values if k in ref_values]
    boot_cur = _bootstrap(current, cur_values, names, n_boot, max_boot_rows,
                          np.random.default_rng([seed, 1]))

    lo_q, hi_q = 50 * (1 - confidence), 100 - 50 * (1 - confidence)
    draft: list[MetricComparison] = []
    for k in names:
        value, ref = cur_values[k], ref_values[k]
        better_up = m.HIGHER_IS_BETTER[k]
        min_effect = min_relative_increase * abs(ref) if k in RELATIVE_EFFECT_METRICS else min_drop
        p: float | None = None
        if k in PROPORTION_METRICS:
            kr, kc = ref * reference.n, value * current.n
            ci = wilson_interval(kc, current.n, confidence)
            ref_ci = wilson_interval(kr, reference.n, confidence)
            p = two_proportion_test(kr, reference.n, kc, current.n)
            test = "two-proportion z-test (pooled, one-sided)"
        else:
            bc, br = np.asarray(boot_cur[k]), np.asarray(boot_ref[k])
            ci = _percentile(bc, lo_q, hi_q)
            ref_ci = _percentile(br, lo_q, hi_q)
            test = "bootstrap standard-error z-test (one-sided)"
            worse_by = (br - bc) if better_up else (bc - br)
            ok = np.isfinite(worse_by)
            if not (math.isnan(value) or math.isnan(ref)) and ok.sum() >= max(2, n_boot // 2):
                drop = (ref - value) if better_up else (value - ref)
                se = float(np.std(worse_by[ok], ddof=1))
                p = float(norm.sf(drop / se)) if se > 0 else (0.0 if drop > 0 else 1.0)
        draft.append(
            MetricComparison(
                name=k,
                value=value,
                ci_low=ci[0],
                ci_high=ci[1],
                reference=ref,
                reference_ci_low=ref_ci[0],
                reference_ci_high=ref_ci[1],
                difference=value - ref,
                p_value=p,
                p_adjusted=None,
                test=test,
                min_effect=min_effect,
                worse=False,
                higher_is_better=better_up,
                n=current.n,
                n_reference=reference.n,
            )
        )
    tested = [i for i, d in enumerate(draft) if d.p_value is not None]
    adjusted = dict(
        zip(tested, holm([draft[i].p_value or 0.0 for i in tested]), strict=True)
    )
    results = []
    for i, d in enumerate(draft):
        drop = -d.difference if d.higher_is_better else d.difference
        p_adj = adjusted.get(i)
        worse = p_adj is not None and p_adj < alpha and drop >= d.min_effect
        results.append(replace(d, p_adjusted=p_adj, worse=worse))
    return PerformanceComparison(
        task=current.task,
        metrics=tuple(results),
        degraded=any(x.worse for x in results),
        alpha=alpha,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        n=current.n,
        n_reference=reference.n,
    )


def _bootstrap(
    sample: LabelledSample,
    full: dict[str, float],
    names: list[str],
    n_boot: int,
    max_rows: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of every metric (m-out-of-n and rescaled above ``max_rows``)."""
    m = min(sample.n, max_rows)
    out = np.empty((len(names), n_boot))
    for b in range(n_boot):
        values = compute_metrics(sample.take(rng.integers(0, sample.n, m)))
        out[:, b] = [values[k] for k in names]
    if m < sample.n:
        centre = np.array([full[k] for k in names])[:, None]
        out = centre + (out - centre) * math.sqrt(m / sample.n)
    return {k: out[i] for i, k in enumerate(names)}


def _percentile(values: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    return float(np.percentile(finite, lo)), float(np.percentile(finite, hi))

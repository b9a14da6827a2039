"""Champion against challenger on one paired sample: the tests and the metric delta (pure core).

Every comparison reports the paired test of its task (McNemar's exact test on correctness for
classification, Wilcoxon's signed-rank test on absolute errors for regression) and a paired
bootstrap interval of the configured metric's delta. One of them *decides*, chosen by what the
metric measures:

=========================  ===============================================================
metric                     deciding test (one-sided p-values for "better" and "worse")
=========================  ===============================================================
accuracy                   McNemar exact: per-request correctness is exactly what accuracy
                           averages
mae, rmse                  Wilcoxon signed-rank on absolute errors
f1, f1_macro, roc_auc,     paired-bootstrap z-test ``gain / se``: these are not averages of a
log_loss                   per-request correctness, so McNemar does not test them
=========================  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.errors import DataError
from lifecycle.evaluation.bootstrap import BootstrapDelta, paired_bootstrap
from lifecycle.evaluation.mcnemar import McNemarResult, mcnemar_exact
from lifecycle.evaluation.paired import PairedSample
from lifecycle.evaluation.wilcoxon import WilcoxonResult, wilcoxon_signed_rank

__all__ = ["BOOTSTRAP_TEST", "DEFAULT_METRIC", "PairedComparison", "compare_paired"]

#: The metric a policy uses when it names none.
DEFAULT_METRIC = {"classification": "accuracy", "regression": "mae"}
BOOTSTRAP_TEST = "paired bootstrap z-test (delta / bootstrap standard error)"


@dataclass(frozen=True)
class PairedComparison:
    """The paired tests and the metric delta of one sample.

    ``test``, ``statistic``, ``p_better`` and ``p_worse`` are those of the deciding test:
    McNemar's statistic is ``c`` (pairs only the challenger got right), Wilcoxon's is ``T+``
    (rank sum of requests where the challenger's error is smaller), the bootstrap's is
    ``gain / se``.
    """

    task: str
    metric: str
    n: int
    test: str
    statistic: float
    p_better: float
    p_worse: float
    bootstrap: BootstrapDelta
    mcnemar: McNemarResult | None
    wilcoxon: WilcoxonResult | None

    @property
    def gain(self) -> float:
        """The metric delta oriented so that positive means the challenger is better."""
        return self.bootstrap.gain


def compare_paired(
    sample: PairedSample,
    metric: str | None = None,
    *,
    n_boot: int = 1000,
    confidence: float = 0.90,
    seed: int = 0,
) -> PairedComparison:
    """Run the paired tests and the bootstrap on ``sample``.

    Parameters
    ----------
    sample
        At least 2 labelled pairs.
    metric
        The metric whose delta is reported and which picks the deciding test; default
        ``accuracy`` (classification) or ``mae`` (regression).
    n_boot, confidence, seed
        Passed to :func:`~lifecycle.evaluation.bootstrap.paired_bootstrap`.

    Examples
    --------
    >>> from lifecycle.evaluation.paired import paired_sample
    >>> s = paired_sample("classification", [1] * 30, [1] * 20 + [0] * 10, [1] * 29 + [0])
    >>> c = compare_paired(s, n_boot=200)
    >>> c.test.startswith("McNemar"), c.statistic, round(c.p_better, 4)
    (True, 9.0, 0.002)
    """
    chosen = metric or DEFAULT_METRIC.get(sample.task, "")
    boot = paired_bootstrap(sample, chosen, n_boot=n_boot, confidence=confidence, seed=seed)
    mcnemar = wilcoxon = None
    if sample.task == "classification":
        mcnemar = mcnemar_exact(sample.champion_correct(), sample.challenger_correct())
    elif sample.task == "regression":
        wilcoxon = wilcoxon_signed_rank(sample.champion_abs_error(), sample.challenger_abs_error())
    else:  # pragma: no cover - paired_sample admits only the two tasks
        raise DataError(f"unknown task {sample.task!r}")
    if chosen == "accuracy" and mcnemar is not None:
        test, stat = mcnemar.test, float(mcnemar.challenger_only)
        p_better, p_worse = mcnemar.p_better, mcnemar.p_worse
    elif chosen in ("mae", "rmse") and wilcoxon is not None:
        test, stat = wilcoxon.test, wilcoxon.statistic
        p_better, p_worse = wilcoxon.p_better, wilcoxon.p_worse
    else:
        test = BOOTSTRAP_TEST
        stat = boot.gain / boot.se if boot.se > 0 else 0.0
        p_better, p_worse = boot.z_test()
    return PairedComparison(
        task=sample.task,
        metric=chosen,
        n=sample.n,
        test=test,
        statistic=stat,
        p_better=p_better,
        p_worse=p_worse,
        bootstrap=boot,
        mcnemar=mcnemar,
        wilcoxon=wilcoxon,
    )

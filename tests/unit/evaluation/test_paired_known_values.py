"""Known values: McNemar against scipy's binomial test and a textbook example, Wilcoxon against
scipy.stats.wilcoxon, the bootstrap against the performance metrics, the spending boundaries
against published O'Brien–Fleming-type and Pocock-type designs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm, wilcoxon

from lifecycle.errors import DataError
from lifecycle.evaluation import (
    mcnemar_exact,
    mcnemar_from_counts,
    nominal_alphas,
    obrien_fleming_spending,
    paired_bootstrap,
    paired_sample,
    pocock_spending,
    wilcoxon_signed_rank,
)
from lifecycle.evaluation import sample_size as ss
from lifecycle.performance import compute_metrics


@pytest.mark.parametrize(("b", "c"), [(1, 7), (7, 1), (0, 5), (12, 30), (50, 50), (3, 0)])
def test_mcnemar_matches_scipy_binomtest(b: int, c: int) -> None:
    r = mcnemar_from_counts(b, c, b + c + 20)
    d = b + c
    assert r.p_two_sided == pytest.approx(binomtest(c, d, 0.5).pvalue)
    assert r.p_better == pytest.approx(binomtest(c, d, 0.5, alternative="greater").pvalue)
    assert r.p_worse == pytest.approx(binomtest(c, d, 0.5, alternative="less").pvalue)


def test_mcnemar_textbook_example() -> None:
    # Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, table 1 (Bentur et al.):
    # b = 1, c = 7, n = 21; exact conditional p = 0.070.
    r = mcnemar_from_counts(1, 7, 21)
    assert r.p_two_sided == pytest.approx(18 / 256)
    assert round(r.p_two_sided, 3) == 0.070
    assert r.difference == pytest.approx(6 / 21)


def test_mcnemar_no_discordant_pairs_has_no_evidence() -> None:
    same = np.array([True, False, True])
    r = mcnemar_exact(same, same)
    assert (r.p_better, r.p_worse, r.p_two_sided) == (1.0, 1.0, 1.0)
    with pytest.raises(DataError, match="impossible"):
        mcnemar_from_counts(5, 6, 10)
    with pytest.raises(DataError, match="aligned"):
        mcnemar_exact(same, same[:2])


@pytest.mark.parametrize("n", [8, 25, 50])
def test_wilcoxon_exact_matches_scipy(n: int) -> None:
    rng = np.random.default_rng(n)
    a, b = rng.exponential(size=n), rng.exponential(size=n) * 0.7
    r = wilcoxon_signed_rank(a, b)
    assert r.method == "exact"
    for alternative, p in (("greater", r.p_better), ("less", r.p_worse),
                           ("two-sided", r.p_two_sided)):
        expected = wilcoxon(a - b, alternative=alternative, method="exact")
        assert p == pytest.approx(expected.pvalue, rel=1e-9)
    assert r.statistic == wilcoxon(a - b, alternative="greater").statistic


def test_wilcoxon_asymptotic_with_ties_and_zeros_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a = np.round(rng.exponential(size=400), 1)
    b = np.round(rng.exponential(size=400) * 0.9, 1)
    r = wilcoxon_signed_rank(a, b)
    assert r.method == "asymptotic" and r.n_nonzero < 400  # zeros were dropped
    for alternative, p in (("greater", r.p_better), ("less", r.p_worse),
                           ("two-sided", r.p_two_sided)):
        expected = wilcoxon(a - b, alternative=alternative, zero_method="wilcox",
                            method="asymptotic", correction=False)
        assert p == pytest.approx(expected.pvalue, rel=1e-9)


def test_wilcoxon_all_zero_differences_has_no_evidence() -> None:
    r = wilcoxon_signed_rank(np.ones(5), np.ones(5))
    assert (r.p_better, r.p_worse, r.n_nonzero) == (1.0, 1.0, 0)


def _classification(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p_champ = np.clip(0.5 + (y - 0.5) * rng.uniform(-0.2, 0.8, n), 0.01, 0.99)
    p_chall = np.clip(0.5 + (y - 0.5) * rng.uniform(0.0, 0.9, n), 0.01, 0.99)
    return paired_sample("classification", y, (p_champ > 0.5).astype(int),
                         (p_chall > 0.5).astype(int), champion_proba=p_champ,
                         challenger_proba=p_chall, classes=[0, 1])


@pytest.mark.parametrize("metric", ["accuracy", "f1", "f1_macro", "roc_auc", "log_loss"])
def test_bootstrap_point_values_are_the_performance_metrics(metric: str) -> None:
    s = _classification(1)
    r = paired_bootstrap(s, metric, n_boot=200, seed=3)
    champ = compute_metrics(s.champion_sample())[metric]
    chall = compute_metrics(s.challenger_sample())[metric]
    assert (r.champion, r.challenger) == (pytest.approx(champ), pytest.approx(chall))
    assert r.delta == pytest.approx(chall - champ)
    assert r.ci_low <= r.delta <= r.ci_high and r.se > 0
    again = paired_bootstrap(s, metric, n_boot=200, seed=3)
    assert again == r  # seeded: the same replicates


def test_bootstrap_replicate_of_identity_rows_is_the_point_value() -> None:
    from lifecycle.evaluation.bootstrap import _evaluators

    s = _classification(2, 50)
    rows = np.arange(s.n)[None, :]
    for metric in ("accuracy", "f1", "f1_macro", "roc_auc", "log_loss"):
        value, replicate = _evaluators(s, metric, "challenger")
        assert replicate(rows)[0] == pytest.approx(value)
    r = paired_sample("regression", [1.0, 2, 3], [1.5, 2, 2], [1.0, 2.5, 3])
    for metric in ("mae", "rmse"):
        value, replicate = _evaluators(r, metric, "champion")
        assert replicate(np.arange(3)[None, :])[0] == pytest.approx(value)


@pytest.mark.parametrize("classes", [("0", "1"), ("a", "b", "c")])
def test_auc_replicates_equal_the_metric_on_the_resampled_rows(classes) -> None:
    from lifecycle.evaluation.bootstrap import _evaluators
    from lifecycle.performance.metrics import macro_roc_auc

    rng = np.random.default_rng(4)
    y = rng.choice(classes, 300)
    proba = np.round(rng.dirichlet(np.ones(len(classes)), 300), 1)  # many tied scores
    proba /= proba.sum(axis=1, keepdims=True)
    pred = np.array(classes)[proba.argmax(axis=1)]
    s = paired_sample("classification", y, pred, y, champion_proba=proba,
                      challenger_proba=proba, classes=list(classes))
    _, replicate = _evaluators(s, "roc_auc", "champion")
    rows = rng.integers(0, 300, size=(5, 300))
    expected = [macro_roc_auc(s.y_true[r], proba[r], s.classes) for r in rows]
    assert replicate(rows) == pytest.approx(expected)


def test_paired_resampling_is_tighter_than_independent() -> None:
    # Two highly correlated models: the paired delta varies far less than two independent
    # resamples would suggest (the reason the same indices go to both models).
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    champ = np.where(rng.random(2000) < 0.85, y, 1 - y)
    chall = np.where(rng.random(2000) < 0.03, 1 - champ, champ)
    s = paired_sample("classification", y, champ, chall)
    r = paired_bootstrap(s, "accuracy", n_boot=500, seed=0)
    p1, p2 = r.champion, r.challenger
    independent_se = math.sqrt(p1 * (1 - p1) / 2000 + p2 * (1 - p2) / 2000)
    assert r.se < independent_se / 2


def test_bootstrap_errors_name_the_fix() -> None:
    s = _classification(3, 30)
    with pytest.raises(DataError, match="choose one of"):
        paired_bootstrap(s, "mae")
    no_proba = paired_sample("classification", [0, 1, 2], [0, 1, 1], [0, 2, 2])
    with pytest.raises(DataError, match="log predict_proba"):
        paired_bootstrap(no_proba, "roc_auc")
    with pytest.raises(DataError, match="f1_macro"):
        paired_bootstrap(no_proba, "f1")
    with pytest.raises(DataError, match="at least 2 replicates"):
        paired_bootstrap(s, "accuracy", n_boot=1)


def test_spending_functions_end_at_alpha() -> None:
    for spend in (obrien_fleming_spending, pocock_spending):
        assert spend(0.0, 0.05) == 0.0
        assert spend(1.0, 0.05) == pytest.approx(0.05)
        assert spend(2.0, 0.05) == pytest.approx(0.05)
        values = [spend(t, 0.05) for t in np.linspace(0.05, 1, 20)]
        assert values == sorted(values)
    # O'Brien-Fleming-type spends far less early than Pocock-type
    assert obrien_fleming_spending(0.2, 0.05) < pocock_spending(0.2, 0.05) / 20


def test_boundaries_match_published_designs() -> None:
    # gsDesign(k = 5, test.type = 1, alpha = 0.025, sfu = sfLDOF / sfLDPocock), equal looks
    fractions = [0.2, 0.4, 0.6, 0.8, 1.0]
    obf = [float(norm.isf(a)) for a in nominal_alphas(fractions, 0.025, "obrien_fleming")]
    assert obf == pytest.approx([4.8769, 3.3569, 2.6803, 2.2898, 2.0310], abs=2e-3)
    pocock = [float(norm.isf(a)) for a in nominal_alphas(fractions, 0.025, "pocock")]
    assert pocock == pytest.approx([2.4380, 2.4268, 2.4101, 2.3966, 2.3859], abs=2e-3)


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_boundaries_give_exactly_alpha_for_a_normal_statistic(spending: str) -> None:
    # Monte Carlo of the score process (Brownian motion in information time) at 10 looks
    rng = np.random.default_rng(7)
    fractions = np.arange(1, 11) / 10
    z = np.cumsum(rng.normal(size=(200_000, 10)) * math.sqrt(0.1), axis=1) / np.sqrt(fractions)
    levels = np.array(nominal_alphas(fractions, 0.05, spending))
    crossed = float((norm.sf(z) < levels).any(axis=1).mean())
    assert crossed == pytest.approx(0.05, abs=0.0025)  # 5 MC standard errors


def test_tiny_information_steps_stay_accurate() -> None:
    # a look right after another is nearly the same statistic: its level barely moves
    levels = nominal_alphas([0.5, 0.500001, 1.0], 0.05)
    assert levels[1] == pytest.approx(levels[0], rel=0.02)
    assert 0.04 < levels[2] < 0.05
    with pytest.raises(DataError, match="increase strictly"):
        nominal_alphas([0.5, 0.4], 0.05)
    with pytest.raises(DataError, match="unknown"):
        nominal_alphas([0.5], 0.05, "haybittle")


def test_sample_size_formulas() -> None:
    # Connor (1987): psi = 0.5, delta = 0.05, one-sided 0.05, power 0.8
    za, zb = norm.isf(0.05), norm.ppf(0.8)
    expected = (za * math.sqrt(0.5) + zb * math.sqrt(0.5 - 0.0025)) ** 2 / 0.0025
    assert ss.mcnemar_pairs(0.5, 0.05, 0.05) == pytest.approx(expected)
    assert ss.mcnemar_pairs(0.5, -0.01, 0.05) is None
    assert ss.pairs_from_standard_error(100, 0.1, 0.1, 0.05) == pytest.approx(
        100 * (za + zb) ** 2)
    assert ss.wilcoxon_pairs(1.0, 2.0, 0.05) == pytest.approx(
        (2 * (za + zb)) ** 2 * math.pi / 3)
    assert ss.additional_pairs(1234.2, 1000) == 235
    assert ss.additional_pairs(10.0, 1000) == 1
    assert ss.additional_pairs(None, 1000) is None

"""Each row of the promotion gate's decision table, the look bookkeeping and the policy checks."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from lifecycle.errors import ConfigError, DataError
from lifecycle.evaluation import (
    ServingStats,
    ShadowPolicy,
    evaluate_shadow,
    look_at,
    nominal_alphas,
    paired_sample,
)
from lifecycle.evaluation.guardrails import ERROR_RATE, LATENCY_P95, MIN_PAIRS
from lifecycle.states import CONTINUE, PROMOTE, REJECT

POLICY = ShadowPolicy(min_pairs=200, max_pairs=4000, n_boot=200)


def _clf(n: int, champ_acc: float, chall_acc: float, seed: int = 0, **kwargs):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    champ = np.where(rng.random(n) < champ_acc, y, 1 - y)
    chall = np.where(rng.random(n) < chall_acc, y, 1 - y)
    return paired_sample("classification", y, champ, chall, **kwargs)


def _reg(n: int, champ_sd: float, chall_sd: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    return paired_sample("regression", y, y + rng.normal(0, champ_sd, n),
                         y + rng.normal(0, chall_sd, n))


def test_better_challenger_is_promoted() -> None:
    d = evaluate_shadow(_clf(2000, 0.80, 0.88), POLICY)
    assert d.decision == PROMOTE and not d.noninferiority
    assert d.test is not None and d.test.startswith("McNemar")
    assert d.p_value == d.p_better and d.p_value is not None
    assert d.nominal_alpha is not None and d.p_value < d.nominal_alpha
    assert d.delta is not None and d.ci_low is not None and 0 < d.ci_low < d.delta
    assert d.look == 1 and d.information_fraction == 0.5
    assert d.confidence == pytest.approx(0.90)
    assert "challenger better" in d.reason


def test_worse_challenger_is_rejected() -> None:
    d = evaluate_shadow(_clf(2000, 0.88, 0.80), POLICY)
    assert d.decision == REJECT and d.p_value == d.p_worse
    assert "challenger worse" in d.reason


def test_too_few_pairs_continue_and_say_how_many_more() -> None:
    d = evaluate_shadow(_clf(120, 0.8, 0.9), POLICY)
    assert d.decision == CONTINUE and d.pairs_needed == 80
    assert d.nominal_alpha is None and d.look is None  # not a look: no alpha spent
    assert d.guardrails[0].name == MIN_PAIRS and d.guardrails[0].passed is False


def test_too_few_pairs_past_max_duration_is_rejected() -> None:
    d = evaluate_shadow(_clf(120, 0.8, 0.9), POLICY, elapsed=timedelta(days=15))
    assert d.decision == REJECT and d.final and "max_duration" in d.reason


def test_undecided_at_max_pairs_is_rejected_and_spends_all_alpha() -> None:
    s = _clf(4000, 0.80, 0.80, seed=3)
    d = evaluate_shadow(s, POLICY, looks=[1000, 2000, 3000])
    assert d.decision == REJECT and d.final and "max_pairs" in d.reason
    assert d.nominal_alpha == pytest.approx(nominal_alphas([0.25, 0.5, 0.75, 1.0], 0.05)[-1])


def test_undecided_at_max_duration_is_a_final_look_at_full_information() -> None:
    s = _clf(1000, 0.80, 0.80, seed=3)
    d = evaluate_shadow(s, POLICY, looks=[500], elapsed=timedelta(days=14))
    assert d.decision == REJECT and d.final and d.information_fraction == 1.0
    assert d.nominal_alpha == pytest.approx(nominal_alphas([0.125, 1.0], 0.05)[-1])


def test_equal_challenger_continues_with_an_estimate() -> None:
    d = evaluate_shadow(_clf(1000, 0.85, 0.86, seed=4), POLICY)
    assert d.decision == CONTINUE
    if d.delta is not None and d.delta > 0:
        assert d.pairs_needed is not None and d.pairs_needed >= 1
        assert "more labelled pairs likely needed" in d.reason
    else:
        assert d.pairs_needed is None


def test_pairs_needed_estimate_is_roughly_right() -> None:
    # true difference 0.03 with discordant rate ~0.2: fixed-sample need ~1400 pairs
    s = _clf(400, 0.85, 0.88, seed=11)
    d = evaluate_shadow(s, ShadowPolicy(max_pairs=20_000, n_boot=200))
    assert d.decision == CONTINUE and d.pairs_needed is not None
    assert 200 < 400 + d.pairs_needed < 20_000


def test_degraded_champion_is_replaced_by_a_non_inferior_challenger() -> None:
    s = _clf(3000, 0.80, 0.80, seed=8)
    policy = ShadowPolicy(min_pairs=200, max_pairs=4000, n_boot=300,
                          noninferiority_margin=0.05)
    d = evaluate_shadow(s, policy, champion_degraded=True)
    assert d.decision == PROMOTE and d.noninferiority
    assert d.p_value == d.p_noninferior and "non-inferiority" in d.reason
    assert evaluate_shadow(s, policy).decision == CONTINUE  # champion fine: no
    off = ShadowPolicy(min_pairs=200, max_pairs=4000, n_boot=300,
                       noninferiority_margin=0.05, noninferiority_when_degraded=False)
    assert evaluate_shadow(s, off, champion_degraded=True).decision == CONTINUE


def test_significant_but_smaller_than_min_effect_does_not_promote() -> None:
    s = _clf(3000, 0.80, 0.84, seed=2)
    assert evaluate_shadow(s, POLICY).decision == PROMOTE
    strict = ShadowPolicy(min_pairs=200, max_pairs=4000, n_boot=200, min_effect=0.10)
    d = evaluate_shadow(s, strict)
    assert d.decision == CONTINUE and "below min_effect" in d.reason


def test_latency_guardrail_rejects() -> None:
    s = _clf(300, 0.8, 0.9, champion_latency=np.full(300, 10.0),
             challenger_latency=np.full(300, 20.0))
    d = evaluate_shadow(s, POLICY)
    assert d.decision == REJECT and LATENCY_P95 in d.reason and d.nominal_alpha is None
    latency = [g for g in d.guardrails if g.name == LATENCY_P95][0]
    assert latency.passed is False and latency.observed == 20.0 and latency.limit == 15.0


def test_latency_from_serving_counters_wins_and_needs_enough_requests() -> None:
    # the sample's latencies break the limit, the counters (all served requests) do not
    s = _clf(300, 0.8, 0.9, champion_latency=np.full(300, 10.0),
             challenger_latency=np.full(300, 20.0))
    fast = ServingStats(1000, 0, 1000, 0, champion_latency_p95=10.0,
                        challenger_latency_p95=14.0)
    d = evaluate_shadow(s, POLICY, stats=fast)
    assert d.decision != REJECT
    assert [g.passed for g in d.guardrails if g.name == LATENCY_P95] == [True]
    few = ServingStats(50, 0, 50, 0, champion_latency_p95=10.0, challenger_latency_p95=99.0)
    d = evaluate_shadow(s, POLICY, stats=few)
    assert [g.passed for g in d.guardrails if g.name == LATENCY_P95] == [None]


def test_a_challenger_that_always_fails_is_rejected_without_labels() -> None:
    empty = paired_sample("classification", [], [], [])
    failing = ServingStats(champion_requests=500, champion_failures=1,
                           challenger_requests=500, challenger_failures=500)
    d = evaluate_shadow(empty, POLICY, stats=failing)
    assert d.decision == REJECT and ERROR_RATE in d.reason
    fine = ServingStats(500, 1, 500, 5)  # 1% vs 0.2% + 1% tolerance: holds
    assert evaluate_shadow(empty, POLICY, stats=fine).decision == CONTINUE


def test_regression_uses_wilcoxon_and_rmse_and_log_loss_work() -> None:
    s = _reg(1500, 1.0, 0.8)
    d = evaluate_shadow(s, POLICY)
    assert d.decision == PROMOTE and d.test is not None and "Wilcoxon" in d.test
    assert d.metric == "mae" and d.delta is not None and d.delta < 0
    rmse = evaluate_shadow(s, ShadowPolicy(metric="rmse", max_pairs=4000, n_boot=200))
    assert rmse.decision == PROMOTE and rmse.metric == "rmse"
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1500)
    sharp = np.clip(np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.05, 1500), 0.01, 0.99)
    vague = np.clip(np.where(y == 1, 0.6, 0.4) + rng.normal(0, 0.05, 1500), 0.01, 0.99)
    clf = paired_sample("classification", y, (vague > 0.5).astype(int),
                        (sharp > 0.5).astype(int), champion_proba=vague,
                        challenger_proba=sharp, classes=[0, 1])
    ll = evaluate_shadow(clf, ShadowPolicy(metric="log_loss", max_pairs=4000, n_boot=200))
    assert ll.decision == PROMOTE and ll.test is not None and "bootstrap" in ll.test


def test_look_bookkeeping() -> None:
    first = look_at(1000, [], POLICY)
    again = look_at(1000, [1000], POLICY)  # the same data looked at twice: the same level
    assert again == first
    second = look_at(2000, [1000, 500], POLICY)
    assert second.index == 3 and second.nominal_alpha == pytest.approx(
        nominal_alphas([0.125, 0.25, 0.5], 0.05)[-1])
    with pytest.raises(DataError, match="only accumulate"):
        look_at(900, [1000], POLICY)
    with pytest.raises(DataError, match="was final"):
        look_at(5000, [4000], POLICY)


def test_record_is_json_ready() -> None:
    d = evaluate_shadow(_clf(500, 0.8, 0.9), POLICY)
    text = json.dumps(d.record(), allow_nan=False)
    assert json.loads(text)["decision"] == d.decision
    assert json.loads(text)["guardrails"][0]["name"] == MIN_PAIRS


@pytest.mark.parametrize(
    ("field", "value"),
    [("metric", "precision"), ("alpha", 0.7), ("min_effect", -1.0), ("min_pairs", 5),
     ("max_pairs", 100), ("latency_ratio", 0.5), ("n_boot", 10), ("spending", "linear"),
     ("max_duration", timedelta(0)), ("power", 1.0)],
)
def test_policy_errors_name_the_key(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        ShadowPolicy(**{field: value})  # type: ignore[arg-type]


def test_serving_counters_are_checked() -> None:
    with pytest.raises(DataError, match="impossible"):
        ServingStats(10, 11, 10, 0)
    with pytest.raises(DataError, match="milliseconds"):
        ServingStats(10, 0, 10, 0, champion_latency_p95=float("nan"))

"""Hypothesis properties of the paired tests and the gate."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.evaluation import (
    ShadowPolicy,
    compare_paired,
    evaluate_shadow,
    mcnemar_exact,
    paired_bootstrap,
    paired_sample,
    wilcoxon_signed_rank,
)
from lifecycle.states import CONTINUE, PROMOTE, REJECT

labels = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
                  min_size=2, max_size=60)
errors = st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50), st.floats(-50, 50)),
                  min_size=2, max_size=60)


def _clf(rows: list[tuple[int, int, int]]):
    y, a, b = (list(col) for col in zip(*rows, strict=True))
    return paired_sample("classification", y, a, b, classes=[0, 1, 2])


def _reg(rows: list[tuple[float, float, float]]):
    y, a, b = (list(col) for col in zip(*rows, strict=True))
    return paired_sample("regression", y, a, b)


@settings(max_examples=60)
@given(labels)
def test_mcnemar_swap_flips_direction_and_p_values_are_probabilities(rows) -> None:
    s = _clf(rows)
    r = mcnemar_exact(s.champion_correct(), s.challenger_correct())
    t = mcnemar_exact(s.challenger_correct(), s.champion_correct())
    for p in (r.p_better, r.p_worse, r.p_two_sided):
        assert 0.0 <= p <= 1.0
    assert (t.p_better, t.p_worse) == (r.p_worse, r.p_better)
    assert t.p_two_sided == r.p_two_sided
    assert t.difference == -r.difference


@settings(max_examples=60)
@given(errors)
def test_wilcoxon_swap_flips_direction(rows) -> None:
    s = _reg(rows)
    r = wilcoxon_signed_rank(s.champion_abs_error(), s.challenger_abs_error())
    t = wilcoxon_signed_rank(s.challenger_abs_error(), s.champion_abs_error())
    for p in (r.p_better, r.p_worse, r.p_two_sided):
        assert 0.0 <= p <= 1.0
    assert abs(t.p_better - r.p_worse) < 1e-12 and abs(t.p_worse - r.p_better) < 1e-12


@settings(max_examples=40)
@given(labels, st.integers(0, 2**16))
def test_bootstrap_swap_flips_the_delta(rows, seed: int) -> None:
    s = _clf(rows)
    r = paired_bootstrap(s, "accuracy", n_boot=50, seed=seed)
    t = paired_bootstrap(s.swapped(), "accuracy", n_boot=50, seed=seed)
    assert t.delta == -r.delta
    # same indices, so the swapped replicates are the negated ones
    assert abs(t.ci_low + r.ci_high) < 1e-12 and abs(t.ci_high + r.ci_low) < 1e-12
    better, worse = r.z_test()
    assert t.z_test() == (worse, better) or r.se == 0


@settings(max_examples=40)
@given(labels, st.sampled_from(["accuracy", "f1_macro"]))
def test_compare_paired_swap_flips_the_one_sided_direction(rows, metric: str) -> None:
    s = _clf(rows)
    r = compare_paired(s, metric, n_boot=50)
    t = compare_paired(s.swapped(), metric, n_boot=50)
    assert abs(t.p_better - r.p_worse) < 1e-12 and abs(t.p_worse - r.p_better) < 1e-12
    assert t.bootstrap.delta == -r.bootstrap.delta


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=200, max_size=400),
       st.booleans(), st.integers(0, 3))
def test_identical_predictions_are_never_promoted(rows, degraded: bool, earlier: int) -> None:
    y, pred = (list(col) for col in zip(*rows, strict=True))
    s = paired_sample("classification", y, pred, pred, classes=[0, 1])
    policy = ShadowPolicy(min_pairs=50, max_pairs=1000, n_boot=100)
    looks = [50 * (k + 1) for k in range(earlier) if 50 * (k + 1) < s.n]
    d = evaluate_shadow(s, policy, looks=looks, champion_degraded=degraded)
    assert d.decision == CONTINUE
    assert d.p_better == 1.0 and d.p_worse == 1.0
    # more data, possibly at the horizon: REJECT there, CONTINUE before, never PROMOTE
    later = evaluate_shadow(paired_sample("classification", y * 3, pred * 3, pred * 3),
                            policy, champion_degraded=degraded)
    assert later.decision == (REJECT if later.n_pairs >= 1000 else CONTINUE)


@settings(max_examples=30)
@given(errors)
def test_regression_gate_outputs_are_well_formed(rows) -> None:
    s = _reg(rows * 5)
    d = evaluate_shadow(s, ShadowPolicy(min_pairs=10, max_pairs=1000, n_boot=100))
    assert d.decision in (PROMOTE, REJECT, CONTINUE)
    if d.p_value is not None:
        assert 0.0 <= d.p_value <= 1.0
    assert d.nominal_alpha is None or 0.0 <= d.nominal_alpha <= 0.05
    swapped = evaluate_shadow(s.swapped(), ShadowPolicy(min_pairs=10, max_pairs=1000,
                                                        n_boot=100))
    if d.decision == PROMOTE and not d.noninferiority:
        assert swapped.decision == REJECT

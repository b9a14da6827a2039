"""The demo's data generator: seeded, the covariate shift moves exactly the named features,
the concept change moves P(y | x) and nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from lifecycle.demo.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    ID_COLUMN,
    NUMERIC_FEATURES,
    SHIFTED_FEATURES,
    TARGET,
    World,
    default_probability,
    generate_day,
    generate_reference,
    hourly_weights,
    sample_applicants,
)
from lifecycle.errors import ConfigError

WORLD = World(seed=11, shift_day=5, concept_day=9)
N = 20_000


def test_same_seed_same_day_is_identical_and_independent_of_other_days() -> None:
    first = generate_day(WORLD, 6, 800)
    generate_day(WORLD, 3, 800)  # generating another day in between changes nothing
    again = generate_day(WORLD, 6, 800)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    np.testing.assert_array_equal(first.target, again.target)
    np.testing.assert_array_equal(first.label_delay, again.label_delay)
    np.testing.assert_array_equal(first.hour, again.hour)


def test_other_seed_or_other_day_differs() -> None:
    base = generate_day(WORLD, 6, 800).frame
    other_seed = generate_day(World(seed=12, shift_day=5, concept_day=9), 6, 800).frame
    other_day = generate_day(WORLD, 7, 800).frame
    assert not base["income"].equals(other_seed["income"])
    assert not base["income"].equals(other_day["income"])


def test_frame_shape_ids_and_types() -> None:
    day = generate_day(WORLD, 2, 1000)
    assert list(day.frame.columns) == [ID_COLUMN, *FEATURES]
    assert day.frame[ID_COLUMN].is_unique
    assert day.frame[ID_COLUMN].iloc[0] == "d002-00000"
    for name in NUMERIC_FEATURES:
        assert pd.api.types.is_float_dtype(day.frame[name]), name
    for name in CATEGORICAL_FEATURES:
        assert day.frame[name].map(type).eq(str).all(), name
    assert len(FEATURES) == 12 and set(SHIFTED_FEATURES) <= set(FEATURES)
    assert set(np.unique(day.target)) == {0, 1}
    # hours follow the daily cycle: every application lands in one hour, the sum is kept
    assert day.hour.min() >= 0 and day.hour.max() <= 23 and day.hour.size == 1000
    assert hourly_weights().sum() == pytest.approx(1.0)
    assert hourly_weights()[13] > 2 * hourly_weights()[3]


def test_labels_arrive_late_and_some_never() -> None:
    day = generate_day(WORLD, 1, 5000, label_rate=0.8)
    arrived = ~np.isnan(day.label_delay)
    assert arrived.mean() == pytest.approx(0.8, abs=0.03)
    assert day.label_delay[arrived].min() >= 86_400.0  # at least one day late
    assert np.median(day.label_delay[arrived]) / 86_400 == pytest.approx(1 + 2 * np.log(2),
                                                                          abs=0.2)


def _days(before: int, after: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = pd.concat([generate_day(WORLD, before, N // 2).frame,
                   generate_day(WORLD, before - 1, N // 2).frame])
    b = pd.concat([generate_day(WORLD, after, N // 2).frame,
                   generate_day(WORLD, after + 1, N // 2).frame])
    return a, b


def test_covariate_shift_moves_exactly_the_named_features() -> None:
    before, after = _days(WORLD.shift_day - 1, WORLD.shift_day)
    ratio = after["income"].median() / before["income"].median()
    assert 0.66 < ratio < 0.74
    assert before["credit_utilisation"].mean() - after["credit_utilisation"].mean() > 0.08
    salaried = [frame["employment_type"].eq("salaried").mean() for frame in (before, after)]
    assert salaried[1] - salaried[0] > 0.15
    for name in NUMERIC_FEATURES:
        stat = ks_2samp(before[name], after[name]).statistic
        if name in SHIFTED_FEATURES:
            assert stat > 0.15, name
        else:
            assert stat < 0.025, name
    for name in CATEGORICAL_FEATURES:
        p = before[name].value_counts(normalize=True)
        q = after[name].value_counts(normalize=True).reindex(p.index, fill_value=0.0)
        moved = 0.5 * float((p - q).abs().sum())  # total variation distance
        if name in SHIFTED_FEATURES:
            assert moved > 0.15, name
        else:
            assert moved < 0.02, name


def test_concept_change_moves_p_y_given_x_and_not_the_inputs() -> None:
    rng = np.random.default_rng(5)
    x = sample_applicants(rng, N, shifted=True)
    old = default_probability(x)
    new = default_probability(x, concept_changed=True)
    assert np.mean(np.abs(new - old)) > 0.05
    y_old = rng.random(N) < old
    y_new = rng.random(N) < new
    # the old rule ranks the new outcomes much worse than its own
    assert roc_auc_score(y_old, old) - roc_auc_score(y_new, old) > 0.05
    assert roc_auc_score(y_new, new) > roc_auc_score(y_new, old) + 0.1
    # inputs do not move at the concept day
    before, after = _days(WORLD.concept_day - 1, WORLD.concept_day)
    for name in NUMERIC_FEATURES:
        assert ks_2samp(before[name], after[name]).statistic < 0.025, name


def test_covariate_shift_keeps_the_risk_and_the_rule() -> None:
    """The shift moves inputs only, and its moves offset each other in risk: the default rate
    and the old rule's ranking stay put, so a retrain on the shifted applicants cannot beat
    the champion (the demo's rejected challenger rests on this)."""
    rng = np.random.default_rng(6)
    before = sample_applicants(rng, N)
    after = sample_applicants(rng, N, shifted=True)
    p_before, p_after = default_probability(before), default_probability(after)
    assert abs(p_after.mean() - p_before.mean()) < 0.015
    auc = [roc_auc_score(rng.random(N) < p, p) for p in (p_before, p_after)]
    assert abs(auc[0] - auc[1]) < 0.02


def test_the_world_applies_changes_from_their_day_on() -> None:
    assert not WORLD.shifted(4) and WORLD.shifted(5) and WORLD.shifted(30)
    assert not WORLD.concept_changed(8) and WORLD.concept_changed(9)
    never = World(shift_day=None, concept_day=None)
    assert not never.shifted(100) and not never.concept_changed(100)
    rate_before = generate_day(WORLD, 8, N).target.mean()
    rate_after = generate_day(WORLD, 9, N).target.mean()
    assert abs(rate_after - rate_before) > 0.01  # labels follow the new rule


def test_reference_is_the_original_world() -> None:
    ref = generate_reference(5000, seed=3)
    assert list(ref.columns) == [ID_COLUMN, *FEATURES, TARGET]
    assert ref[TARGET].mean() == pytest.approx(0.16, abs=0.02)
    pd.testing.assert_frame_equal(ref, generate_reference(5000, seed=3))
    live = generate_day(World(seed=3), 0, 5000).frame
    assert ks_2samp(ref["income"], live["income"]).statistic < 0.04


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: World(shift_day=-1), "shift_day"),
        (lambda: generate_day(WORLD, -1, 10), "day must be >= 0"),
        (lambda: generate_day(WORLD, 0, 0), "rows must be >= 1"),
        (lambda: generate_day(WORLD, 0, 10, label_rate=1.5), "label_rate"),
    ],
)
def test_bad_arguments_name_the_problem(call: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        call()  # type: ignore[operator]

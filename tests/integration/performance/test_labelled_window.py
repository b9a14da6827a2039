"""Label coverage and delay when labels arrive late, out of order, twice, or for unknown keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from _perf_data import T0, timestamps, write_outcomes, write_predictions
from sqlalchemy import Engine

from lifecycle.errors import DataError
from lifecycle.storage.labelled import load_labelled_window

H = timedelta(hours=1)


def test_coverage_and_delay_follow_the_documented_rules(engine: Engine) -> None:
    ts = timestamps(T0, 10, timedelta(hours=10))  # one prediction per hour
    keys = write_predictions(engine, "m", "classification", ts, {"x": list(range(10))},
                             labels=["a"] * 10, keys=[f"k{i}" for i in range(10)])
    # k0..k3 on time: two hours after their prediction
    write_outcomes(engine, "m", keys[:4], ["a", "b", "a", "a"], [t + 2 * H for t in ts[:4]])
    # k4 arrives three days late
    write_outcomes(engine, "m", [keys[4]], ["a"], ts[4] + 72 * H)
    # k5 labelled twice: the later receipt wins
    write_outcomes(engine, "m", [keys[5]], ["a"], ts[5] + 1 * H)
    write_outcomes(engine, "m", [keys[5]], ["b"], ts[5] + 4 * H)
    # k6: two labels delivered out of order; the one received later still wins
    write_outcomes(engine, "m", [keys[6]], ["b"], ts[6] + 5 * H)
    write_outcomes(engine, "m", [keys[6]], ["a"], ts[6] + 3 * H)
    # labels for keys that were never logged
    write_outcomes(engine, "m", ["ghost1", "ghost2"], ["a", "b"], T0 + 5 * H)

    early = load_labelled_window(engine, "m", T0, T0 + 10 * H, as_of=T0 + 24 * H)
    assert early.n_predictions == 10
    assert early.n_labelled == 6  # k0-k3, k5, k6 (k4 not yet received)
    assert early.coverage == pytest.approx(0.6)
    assert early.n_revised == 1  # k5 (k6's older label was not stored)
    assert early.n_orphan_outcomes == 2
    labels = dict(zip(early.labelled["join_key"], early.labelled["label"], strict=True))
    assert labels["k5"] == "b" and labels["k6"] == "b"
    assert early.delay_quantile(0.5) == pytest.approx(2 * 3600)
    assert early.delay_quantile(1.0) == pytest.approx(5 * 3600)

    late = load_labelled_window(engine, "m", T0, T0 + 10 * H, as_of=T0 + 100 * H)
    assert late.n_labelled == 7
    assert late.coverage == pytest.approx(0.7)
    assert late.delay_quantile(1.0) == pytest.approx(72 * 3600)
    summary = late.coverage_summary()
    assert summary["n_labelled"] == 7 and summary["n_orphan_outcomes"] == 2

    half = load_labelled_window(engine, "m", T0, T0 + 5 * H, as_of=T0 + 100 * H)
    assert (half.n_predictions, half.n_labelled) == (5, 5)


def test_shared_keys_all_take_the_label(engine: Engine) -> None:
    ts = timestamps(T0, 4, timedelta(hours=4))
    write_predictions(engine, "m", "classification", ts, {"x": [1, 2, 3, 4]},
                      labels=["a", "a", "b", "b"], keys=["same", "same", "k2", "k3"])
    write_outcomes(engine, "m", ["same"], ["a"], T0 + 10 * H)
    window = load_labelled_window(engine, "m", T0, T0 + 4 * H, as_of=T0 + 20 * H)
    assert window.n_labelled == 2 and window.n_shared_keys == 1
    assert window.coverage == pytest.approx(0.5)


def test_empty_window(engine: Engine) -> None:
    write_predictions(engine, "m", "classification", [T0], {"x": [1]}, labels=["a"])
    window = load_labelled_window(engine, "m", T0 + 10 * H, T0 + 20 * H)
    assert window.n_predictions == 0 and window.coverage is None
    assert window.delay_quantile(0.5) is None


def test_sample_orders_classes_with_the_positive_class_last(engine: Engine) -> None:
    ts = timestamps(T0, 4, timedelta(hours=4))
    keys = write_predictions(engine, "m", "classification", ts, {"x": [1, 2, 3, 4]},
                             labels=["yes", "no", "yes", "no"],
                             proba={"no": [0.2, 0.9, 0.4, 0.6], "yes": [0.8, 0.1, 0.6, 0.4]})
    write_outcomes(engine, "m", keys, ["yes", "no", "no", "no"], T0 + 10 * H)
    window = load_labelled_window(engine, "m", T0, T0 + 4 * H, as_of=T0 + 20 * H)
    default = window.sample("classification")
    assert default.classes == ("no", "yes")
    assert default.proba is not None and default.proba[0].tolist() == [0.2, 0.8]
    flipped = window.sample("classification", positive="no")
    assert flipped.classes == ("yes", "no")
    assert flipped.proba is not None and flipped.proba[0].tolist() == [0.8, 0.2]
    no_proba = load_labelled_window(engine, "m", T0, T0 + 4 * H, as_of=T0 + 20 * H,
                                    with_proba=False)
    assert no_proba.sample("classification", positive="no").classes == ("yes", "no")
    with pytest.raises(DataError, match="not a number"):
        window.sample("regression")

"""Rollups of known data merge to the counts of the data itself (SQLite and PostgreSQL); a
rerun replaces; stale hours and hours of another reference are reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from _rollup_data import HOUR, T0, frame, settings_for, write_hour, write_labels
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lifecycle.drift.summary import CategoricalSummary, NumericSummary
from lifecycle.drift_check import build_profile, categorical_sample
from lifecycle.rollup.run import hours_in, rollup_hours
from lifecycle.rollup.window import load_window_summary, merge_profiles
from lifecycle.storage.drift_repo import save_profile
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.profile_repo import load_profiles, prune_profiles
from lifecycle.storage.tables import WindowProfile


def _set_reference(engine: Engine, df: pd.DataFrame, kind: str = "data",
                   categorical: list[str] | None = None) -> object:
    profile = build_profile(df, categorical=categorical)
    with Session(engine) as session, session.begin():
        mid = get_or_create_model(session, "m", "classification").id
        save_profile(session, mid, profile, kind=kind, source="test")
    return profile


def _bins(values: np.ndarray, edges: np.ndarray) -> list[int]:
    return np.bincount(np.searchsorted(edges, values, side="right"),
                       minlength=edges.size + 1).tolist()


def test_rollups_merge_to_the_counts_of_the_data(db_url: str, engine: Engine,
                                                 tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    reference = _set_reference(engine, frame(rng, 4000), categorical=["plan"])
    hours = [frame(rng, 3000, shift=0.2 * i) for i in range(3)]
    for i, df in enumerate(hours):
        write_hour(engine, "m", T0 + i * HOUR, df)
    write_hour(engine, "m", T0, frame(rng, 500, shift=9.0), role="challenger")  # shadow: out
    settings = settings_for(tmp_path, db_url)

    result = rollup_hours(engine, settings, "m", hours_in(T0, T0 + 4 * HOUR))
    assert result.n_rows == 9000 and len(result.hours_done) == 3
    assert result.empty_hours == (T0 + 3 * HOUR,)

    window = load_window_summary(engine, settings, "m", T0, T0 + 4 * HOUR, reference)
    data = pd.concat(hours, ignore_index=True)
    assert window.n_rows == 9000 and window.hours == tuple(T0 + i * HOUR for i in range(3))
    assert window.missing_hours == () and window.other_reference_hours == ()
    for name in ("x", "y"):
        feat = window.features[name]
        assert isinstance(feat, NumericSummary)
        values = data[name].to_numpy()
        finite = values[np.isfinite(values)]
        assert (feat.n, feat.n_missing, feat.n_infinite) == (
            finite.size, int(np.isnan(values).sum()), int(np.isinf(values).sum()))
        assert feat.minimum == finite.min() and feat.maximum == finite.max()
        prof = reference.features[name]
        assert feat.exact_for(reference.digest())
        assert feat.bin_counts is not None
        assert feat.bin_counts.tolist() == _bins(finite, prof.bin_edges)
        assert feat.n_below == int((finite < prof.minimum).sum())
        assert feat.n_above == int((finite > prof.maximum).sum())
        assert np.isclose(feat.total, finite.sum()) and np.isclose(feat.total_sq,
                                                                   np.dot(finite, finite))
        exact = np.searchsorted(np.sort(finite), feat.points, side="right") / finite.size
        assert np.max(np.abs(exact - feat.cdf)) <= feat.rank_error
    plan = window.features["plan"]
    assert isinstance(plan, CategoricalSummary) and plan.count_error == 0
    truth = categorical_sample(data["plan"], "plan")
    assert dict(zip(plan.categories, plan.counts.tolist(), strict=True)) == dict(
        zip(truth.categories, np.asarray(truth.counts).tolist(), strict=True))
    assert plan.n_missing == truth.n_missing

    # predictions: a classifier's prediction is categorical; counts of the served rows only
    pred = load_window_summary(engine, settings, "m", T0, T0 + 4 * HOUR, None,
                               kind="prediction").features["prediction"]
    assert isinstance(pred, CategoricalSummary)
    expected = pd.Series((np.nan_to_num(data["x"]) > 0).astype(int)).value_counts()
    assert dict(zip(pred.categories, pred.counts.tolist(), strict=True)) == {
        str(k): int(v) for k, v in expected.items()}

    # merging hours in any grouping gives the same counts
    with Session(engine) as session:
        rows = load_profiles(session, window_id(engine), "data", T0, T0 + 4 * HOUR)
    forward = merge_profiles(rows, reference)
    backward = merge_profiles(rows[::-1], reference)
    for name in ("x", "y"):
        a, b = forward.features[name], backward.features[name]
        assert isinstance(a, NumericSummary) and isinstance(b, NumericSummary)
        assert (a.n, a.n_missing, a.n_infinite, a.minimum, a.maximum) == (
            b.n, b.n_missing, b.n_infinite, b.minimum, b.maximum)
        assert a.bin_counts is not None and b.bin_counts is not None
        assert a.bin_counts.tolist() == b.bin_counts.tolist()


def window_id(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(WindowProfile.model_id).limit(1)) or 0)


def test_a_rerun_replaces_and_late_rows_make_an_hour_stale(db_url: str, engine: Engine,
                                                           tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    reference = _set_reference(engine, frame(rng, 2000), categorical=["plan"])
    settings = settings_for(tmp_path, db_url)
    write_hour(engine, "m", T0, frame(rng, 1000))
    write_hour(engine, "m", T0 + HOUR, frame(rng, 1000))
    hours = hours_in(T0, T0 + 2 * HOUR)
    rollup_hours(engine, settings, "m", hours)
    with Session(engine) as session:
        first = dict(session.execute(select(WindowProfile.id, WindowProfile.n_rows)).all())
    rollup_hours(engine, settings, "m", hours)
    with Session(engine) as session:
        again = dict(session.execute(select(WindowProfile.id, WindowProfile.n_rows)).all())
    assert again == first and len(first) == 4  # 2 hours x (data, prediction), same rows

    write_hour(engine, "m", T0 + HOUR, frame(rng, 300), batches=1)  # a late batch
    stale = load_window_summary(engine, settings, "m", T0, T0 + 2 * HOUR, reference)
    assert stale.missing_hours == (T0 + HOUR,) and stale.hours == (T0,)
    assert stale.n_rows == 1000 and not stale.complete

    rollup_hours(engine, settings, "m", [T0 + HOUR])
    fresh = load_window_summary(engine, settings, "m", T0, T0 + 2 * HOUR, reference)
    assert fresh.missing_hours == () and fresh.n_rows == 2300
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(WindowProfile)) == 4

    with Session(engine) as session, session.begin():
        assert prune_profiles(session, window_id(engine), T0 + HOUR) == 2
    gone = load_window_summary(engine, settings, "m", T0, T0 + 2 * HOUR, reference)
    assert gone.missing_hours == (T0,)


def test_an_hour_of_another_reference_is_reported_and_loses_exact_bins(
        db_url: str, engine: Engine, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    settings = settings_for(tmp_path, db_url)
    old = _set_reference(engine, frame(rng, 2000), categorical=["plan"])
    write_hour(engine, "m", T0, frame(rng, 800))
    write_hour(engine, "m", T0 + HOUR, frame(rng, 800))
    rollup_hours(engine, settings, "m", [T0])
    new = _set_reference(engine, frame(rng, 2000, shift=0.5), categorical=["plan"])
    rollup_hours(engine, settings, "m", [T0 + HOUR])

    window = load_window_summary(engine, settings, "m", T0, T0 + 2 * HOUR, new)
    assert window.hours == (T0, T0 + HOUR) and window.missing_hours == ()
    assert window.other_reference_hours == (T0,)
    x = window.features["x"]
    assert isinstance(x, NumericSummary)
    assert x.bin_counts is None and not x.exact_for(new.digest())
    assert x.n + x.n_missing + x.n_infinite == 1600  # the sketch and counts still merge

    assert load_window_summary(engine, settings, "m", T0, T0 + HOUR, old
                               ).other_reference_hours == ()
    rollup_hours(engine, settings, "m", [T0])  # re-rolled against the active reference
    again = load_window_summary(engine, settings, "m", T0, T0 + 2 * HOUR, new)
    assert again.other_reference_hours == ()
    assert isinstance(again.features["x"], NumericSummary)
    assert again.features["x"].exact_for(new.digest())


def test_a_feature_of_another_kind_makes_the_hour_missing(db_url: str, engine: Engine,
                                                          tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    settings = settings_for(tmp_path, db_url)
    df = pd.DataFrame({"x": rng.normal(size=500), "code": rng.integers(0, 5, 500)})
    write_hour(engine, "m", T0, df)
    rollup_hours(engine, settings, "m", [T0])  # no reference: "code" is numeric
    reference = _set_reference(engine, df, categorical=["code"])
    window = load_window_summary(engine, settings, "m", T0, T0 + HOUR, reference)
    assert window.missing_hours == (T0,) and window.hours == ()
    rollup_hours(engine, settings, "m", [T0])
    window = load_window_summary(engine, settings, "m", T0, T0 + HOUR, reference)
    code = window.features["code"]
    assert window.hours == (T0,) and isinstance(code, CategoricalSummary)
    assert int(code.counts.sum()) == 500


def test_labels_known_at_rollup_time_with_their_coverage(db_url: str, engine: Engine,
                                                         tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    settings = settings_for(tmp_path, db_url)
    keys = write_hour(engine, "m", T0, frame(rng, 400))
    write_labels(engine, "m", keys[:100], [1] * 60 + [0] * 40, T0 + 2 * HOUR)
    rollup_hours(engine, settings, "m", [T0])
    labels = load_window_summary(engine, settings, "m", T0, T0 + HOUR, None, kind="label")
    assert labels.labels == {"n_predictions": 400, "n_labelled": 100, "coverage": 0.25}
    label = labels.features["label"]
    assert isinstance(label, CategoricalSummary)
    assert dict(zip(label.categories, label.counts.tolist(), strict=True)) == {"1": 60,
                                                                               "0": 40}
    write_labels(engine, "m", keys[100:200], [0] * 100, T0 + 3 * HOUR)  # late labels
    rollup_hours(engine, settings, "m", [T0])  # a rerun re-rolls them
    later = load_window_summary(engine, settings, "m", T0, T0 + HOUR, None, kind="label")
    assert later.labels["n_labelled"] == 200

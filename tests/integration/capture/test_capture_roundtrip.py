"""Round trips through a real database (SQLite and PostgreSQL), read back with load_window."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import func, select, text

import lifecycle
from lifecycle.capture.monitor import capture_context, last_prediction_ids
from lifecycle.errors import ConfigError
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.tables import PredictionBatch
from lifecycle.storage.window import load_window

FEATURES = ["a", "b", "c"]


@pytest.fixture
def fitted() -> tuple[LogisticRegression, pd.DataFrame]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=FEATURES)
    y = np.where(frame["a"] + rng.normal(scale=0.5, size=60) > 0, "yes", "no")
    return LogisticRegression().fit(frame, y), frame


def test_every_input_type_single_and_batch(db_url: str, capture_to: Callable[..., Any],
                                           engine_for: Callable[..., Any]) -> None:
    capture_to(db_url)

    @lifecycle.monitor("shapes", feature_names=FEATURES)
    def predict(features: Any) -> Any:
        n = len(features) if isinstance(features, pd.DataFrame | list) else (
            features.shape[0] if isinstance(features, np.ndarray) and features.ndim == 2
            else 1)
        return np.arange(n, dtype=float)

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "c": [5.0, 6.0]})
    calls: list[Any] = [
        frame,                                   # DataFrame batch (2)
        frame.iloc[0],                           # Series, one row (1)
        np.array([7.0, 8.0, 9.0]),               # numpy 1-D (1)
        np.array([[1.0, 1.5, 2.0], [3.0, 3.5, 4.0], [5.0, 5.5, 6.0]]),  # numpy 2-D (3)
        {"a": 10.0, "b": 11.0, "c": 12.0},       # dict (1)
        [{"a": 13.0, "b": 14.0, "c": 15.0}, {"a": 16.0, "b": 17.0}],  # list of dicts (2)
    ]
    with capture_context() as cap:
        for features in calls:
            predict(features)
    assert lifecycle.flush(30)
    window = load_window(engine_for(db_url), "shapes")
    assert len(window) == 10
    assert len(window.inputs) == len(window.outputs) == 10
    assert list(window.inputs.columns) == FEATURES
    assert window.inputs["a"].tolist() == [1.0, 2.0, 1.0, 7.0, 1.0, 3.0, 5.0, 10.0, 13.0, 16.0]
    assert np.isnan(window.inputs["c"].iloc[-1])
    assert window.outputs["prediction"].tolist() == [0, 1, 0, 0, 0, 1, 2, 0, 0, 1]
    assert window.meta["prediction_id"].tolist() == cap.prediction_ids
    assert window.meta["join_key"].tolist() == cap.prediction_ids  # no id_column
    assert set(window.meta["role"]) == {"unmanaged"}
    assert window.meta["ts"].is_monotonic_increasing
    assert (window.meta["latency_ms"] >= 0).all()
    stats = lifecycle.stats()
    assert stats["logged"] == stats["written"] == 10
    assert stats["errors"] == 0


@pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning")
def test_estimator_wrapper_behaves_like_the_estimator(
    db_url: str, capture_to: Callable[..., Any], engine_for: Callable[..., Any],
    fitted: tuple[LogisticRegression, pd.DataFrame],
) -> None:
    capture_to(db_url)
    clf, frame = fitted
    wrapped = lifecycle.monitor("churn", version="3")(clf)
    assert wrapped.classes_.tolist() == ["no", "yes"]
    assert wrapped.coef_ is clf.coef_
    assert wrapped.get_params() == clf.get_params()
    np.testing.assert_array_equal(wrapped.predict_proba(frame), clf.predict_proba(frame))
    np.testing.assert_array_equal(wrapped.predict(frame.iloc[:5]), clf.predict(frame.iloc[:5]))
    np.testing.assert_array_equal(wrapped.decision_function(frame.to_numpy()[:1]),
                                  clf.decision_function(frame.to_numpy()[:1]))
    ids = last_prediction_ids()
    assert len(ids) == 1 and len(ids[0]) == 32
    assert lifecycle.flush(30)
    window = load_window(engine_for(db_url), "churn")
    assert len(window) == 66
    proba = window.outputs.loc[:59, ["proba_no", "proba_yes"]].to_numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(frame))
    assert window.outputs["prediction"].iloc[:60].tolist() == clf.predict(frame).tolist()
    assert window.meta["model_version"].unique().tolist() == ["3"]
    # numpy rows are named after the estimator's feature_names_in_
    assert window.inputs.iloc[-1].tolist() == frame.iloc[0].tolist()
    assert window.meta["prediction_id"].iloc[-1] == ids[0]
    headline = load_window(engine_for(db_url), "churn", with_headline=True).meta
    assert headline["output_value"].iloc[0] == pytest.approx(
        clf.predict_proba(frame.iloc[:1])[0, 1])
    assert headline["output_label"].iloc[0] == clf.predict(frame.iloc[:1])[0]
    with engine_for(db_url).connect() as conn:
        ts_min = conn.execute(select(func.min(PredictionBatch.ts_min))).scalar()
    assert ts_min == window.meta["ts"].iloc[0].to_pydatetime()  # same instant on both backends


def test_outcomes_join_even_before_flush(db_url: str, capture_to: Callable[..., Any],
                                         engine_for: Callable[..., Any]) -> None:
    capture_to(db_url)

    @lifecycle.monitor("loans", id_column="loan_id")
    def score(features: pd.DataFrame) -> np.ndarray:
        return features["income"].to_numpy() / 100.0

    frame = pd.DataFrame({"loan_id": [101, 102, 103], "income": [10.0, 20.0, 30.0]})
    with capture_context() as cap:
        score(frame)
    assert cap.join_keys == ["101", "102", "103"]
    # labels arrive before the predictions are flushed
    assert lifecycle.log_outcomes("loans", [101, 102], [1, 0]) == 2
    assert lifecycle.log_outcomes("loans", 102, 1) == 1  # a correction: latest wins
    assert lifecycle.log_outcomes("loans", np.array([103.0]), ["late"]) == 1
    assert lifecycle.flush(30)
    joined = load_labelled_window(engine_for(db_url), "loans", None, None).frame
    assert joined["join_key"].tolist() == ["101", "102", "103"]
    assert joined["label"].tolist() == [1, 1, "late"]
    assert joined["label_value"].tolist()[:2] == [1.0, 1.0]
    assert pd.isna(joined["label_value"].iloc[2])
    assert joined["revisions"].tolist() == [0, 1, 0]


def test_outcomes_by_prediction_id_and_bad_input(db_url: str, capture_to: Callable[..., Any],
                                                 engine_for: Callable[..., Any]) -> None:
    capture_to(db_url)
    fn = lifecycle.monitor("ids")(lambda x: 1)
    fn({"x": 1})
    pid = last_prediction_ids()[0]
    assert lifecycle.log_outcomes("ids", [pid, pid], [True, False]) == 1
    with pytest.raises(ValueError, match="one label per key"):
        lifecycle.log_outcomes("ids", [1, 2], [1])
    with pytest.raises(ValueError, match="time zone"):
        lifecycle.log_outcomes("ids", [1], [1], timestamps=[pd.Timestamp("2026-01-01")
                                                            .to_pydatetime()])
    assert lifecycle.flush(30)
    joined = load_labelled_window(engine_for(db_url), "ids", None, None).frame
    assert joined["prediction_id"].tolist() == [pid]
    assert joined["label"].tolist() == [False] and joined["revisions"].tolist() == [1]


def test_redaction_and_hashing(db_url: str, capture_to: Callable[..., Any],
                               engine_for: Callable[..., Any]) -> None:
    capture_to(db_url)
    fn = lifecycle.monitor("private", redact=["ssn"], hash_columns="email", id_column="ssn",
                           hash_key="k3y")(lambda x: 0.5)
    fn({"ssn": "123-45", "email": "a@b.c", "age": 41})
    fn({"ssn": "678-90", "email": None, "age": 42})
    assert lifecycle.flush(30)
    window = load_window(engine_for(db_url), "private")
    assert "ssn" not in window.inputs.columns
    expected = hmac.new(b"k3y", b"a@b.c", hashlib.sha256).hexdigest()
    assert window.inputs["email"].tolist()[0] == expected
    assert window.inputs["email"].isna().tolist() == [False, True]
    assert window.meta["join_key"].tolist() == ["123-45", "678-90"]


def test_hash_columns_without_key_fails_at_decoration(capture_to: Callable[..., Any],
                                                      sqlite_url: str) -> None:
    capture_to(sqlite_url)
    with pytest.raises(ConfigError, match="LIFECYCLE_HASH_KEY"):
        lifecycle.monitor("m", hash_columns=["email"])


def test_sampling_is_seeded_and_counted(sqlite_url: str, capture_to: Callable[..., Any],
                                        engine_for: Callable[..., Any],
                                        count_rows: Callable[..., Any]) -> None:
    capture_to(sqlite_url)
    fn = lifecycle.monitor("sampled", sample_rate=0.3, seed=1)(lambda x: 0)
    for i in range(200):
        fn({"i": i})
    assert lifecycle.flush(30)
    stats = lifecycle.stats()
    assert stats["logged"] + stats["dropped_sampling"] == 200
    # seed=1 fixes every draw: random.Random(1) keeps exactly 62 of 200 calls at rate 0.3
    assert stats["logged"] == 62 and stats["dropped_sampling"] == 138
    assert count_rows(engine_for(sqlite_url))[0] == stats["logged"]


def test_durable_writes_before_returning(db_url: str, capture_to: Callable[..., Any],
                                         engine_for: Callable[..., Any],
                                         count_rows: Callable[..., Any]) -> None:
    capture_to(db_url, flush_interval_s=60.0)
    fn = lifecycle.monitor("durable", durable=True)(lambda x: 1)
    fn(np.array([1.0, 2.0]))
    fn(np.ones((3, 2)))
    assert count_rows(engine_for(db_url), "durable") == (4, 4)


def test_missing_schema_spills_then_replays(empty_sqlite_url: str,
                                            capture_to: Callable[..., Any],
                                            engine_for: Callable[..., Any],
                                            count_rows: Callable[..., Any],
                                            caplog: pytest.LogCaptureFixture) -> None:
    from lifecycle.storage.migrate import upgrade

    capture_to(empty_sqlite_url)
    fn = lifecycle.monitor("early")(lambda x: 1)
    for i in range(50):
        fn({"i": i})
    assert not lifecycle.flush(0.5)
    stats = lifecycle.stats()
    assert stats["spilled"] == 50 and stats["errors_by_kind"].get("schema_missing", 0) >= 1
    assert "lifecycle db upgrade" in caplog.text
    assert sum("lifecycle db upgrade" in r.getMessage() for r in caplog.records) == 1
    upgrade(empty_sqlite_url)
    assert lifecycle.flush(30)
    assert lifecycle.stats()["replayed"] == 50
    assert count_rows(engine_for(empty_sqlite_url), "early") == (50, 50)


def test_traffic_hourly_aggregates(sqlite_url: str, capture_to: Callable[..., Any],
                                   engine_for: Callable[..., Any]) -> None:
    capture_to(sqlite_url)
    fn = lifecycle.monitor("traffic", version="v1")(lambda x: 1)
    for _ in range(5):
        fn(np.ones((4, 2)))
    assert lifecycle.flush(30)
    with engine_for(sqlite_url).connect() as conn:
        n, version = conn.execute(text(
            "SELECT SUM(n_predictions), MAX(model_version) FROM traffic_hourly")).one()
    assert (n, version) == (20, "v1")


def test_fork_child_starts_its_own_writer(sqlite_url: str, capture_to: Callable[..., Any],
                                          engine_for: Callable[..., Any],
                                          count_rows: Callable[..., Any]) -> None:
    import os

    capture_to(sqlite_url)
    fn = lifecycle.monitor("forked")(lambda x: 1)
    fn({"who": "parent-before"})
    pid = os.fork()
    if pid == 0:  # child: log, flush, leave without running the parent's test teardown
        code = 1
        try:
            for i in range(20):
                fn({"who": "child", "i": i})
            code = 0 if lifecycle.flush(20) else 2
        finally:
            os._exit(code)
    fn({"who": "parent-after"})
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert lifecycle.flush(30)
    assert count_rows(engine_for(sqlite_url), "forked") == (22, 22)


def test_reconfigure_redirects_existing_monitors(tmp_path: Any, sqlite_url: str,
                                                 capture_to: Callable[..., Any],
                                                 engine_for: Callable[..., Any],
                                                 count_rows: Callable[..., Any]) -> None:
    from lifecycle.storage.migrate import upgrade

    other = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other)
    capture_to(sqlite_url)
    fn = lifecycle.monitor("moved")(lambda x: 1)
    fn({"i": 1})
    capture_to(other)  # drains the first writer, then points capture elsewhere
    fn({"i": 2})
    fn({"i": 3})
    assert lifecycle.flush(30)
    assert count_rows(engine_for(sqlite_url), "moved") == (1, 1)
    assert count_rows(engine_for(other), "moved") == (2, 2)

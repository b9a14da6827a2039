"""The training window on real SQLite and PostgreSQL, from traffic logged by the real capture
layer (see conftest.py for the story): served rows only, labels latest wins, de-dup by key,
holdout = newest rows, loader rows only in train, too few rows refused with the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _churn_log import N_LABELLED, N_RESCORED, T0, Logged, customer, label_of, proba_yes

from lifecycle.config import ModelSettings
from lifecycle.errors import DataError, InsufficientDataError, TrainerError, UnknownModelError
from lifecycle.performance.compare import compute_metrics
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.training.holdout import holdout_metrics, infer_task, served_metrics
from lifecycle.training.window import build_training_window

UNTIL = T0 + timedelta(days=1)


def _ms(**retrain: Any) -> ModelSettings:
    return ModelSettings.parse("churn", {"id_column": "customer_id",
                                         "retrain": {"min_rows": 20, **retrain}})


def test_window_counts_dedup_and_latest_label(churn: Logged) -> None:
    w = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL)
    assert w.features == ("age", "plan") and w.target == "label"
    assert (w.n_logged, w.n_labelled, w.n_duplicates) == (65, 55, 5)
    assert (w.n_train, w.n_holdout, w.n_extra) == (40, 10, 0)
    assert list(w.train.columns) == ["age", "plan", "label"] == list(w.holdout.columns)
    # the challenger's shadow rows (age -1) are never training data
    assert (pd.concat([w.train, w.holdout])["age"] >= 0).all()
    # a re-scored key is one row, with its latest inputs
    rows = pd.concat([w.train, w.holdout], ignore_index=True)
    assert sorted(rows["age"]) == sorted(churn.ages[customer(i)] for i in range(N_LABELLED))
    assert rows["age"].max() == 100.0 + N_RESCORED - 1
    # labels: latest received wins (c000 was revised from "yes" to "no")
    by_age = dict(zip(rows["age"], rows["label"], strict=True))
    assert by_age[100.0] == "no"
    assert all(by_age[churn.ages[customer(i)]] == label_of(i) for i in range(1, N_LABELLED))
    assert w.model_task is None and infer_task(w) == "classification"


def test_holdout_is_the_newest_rows(churn: Logged) -> None:
    w = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL)
    served = w.served
    assert len(served) == len(w.holdout) == 10
    assert served["join_key"].tolist() == [customer(i) for i in range(45, 50)] + [
        customer(i) for i in range(N_RESCORED)]
    assert served["ts"].is_monotonic_increasing
    assert w.holdout_since == T0 + timedelta(minutes=45)
    assert set(served["role"]) == {"unmanaged"}
    # served is row-aligned with holdout: the champion's probabilities of those very inputs
    assert np.allclose(served["proba_yes"], [proba_yes(a) for a in w.holdout["age"]])
    assert served["output_label"].tolist() == [
        "yes" if proba_yes(a) > 0.5 else "no" for a in w.holdout["age"]]
    assert {"model_version", "output_value", "proba_no"} <= set(served.columns)


def test_holdout_share_rounds_up(churn: Logged) -> None:
    w = build_training_window(churn.engine, _ms(holdout=0.33), since=T0, until=UNTIL)
    assert (w.n_train, w.n_holdout) == (33, 17)  # ceil(50 * 0.33) = 17


def test_loader_rows_are_only_trained_on(churn: Logged) -> None:
    extra = pd.DataFrame({"label": ["no", "yes", "no"], "plan": ["pro", "team", "basic"],
                          "age": [500.0, 501.0, 502.0], "unused": [1, 2, 3]})
    w = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL, extra=extra)
    assert (w.n_extra, w.n_train, w.n_holdout) == (3, 43, 10)
    assert w.train["age"].iloc[:3].tolist() == [500.0, 501.0, 502.0]
    assert list(w.train.columns) == ["age", "plan", "label"]
    assert (w.holdout["age"] < 500).all()
    plain = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL)
    assert w.content_hash != plain.content_hash


def test_loader_rows_missing_a_feature_are_refused(churn: Logged) -> None:
    extra = pd.DataFrame({"age": [30.0], "label": ["no"]})
    with pytest.raises(TrainerError, match=r"data_loader\) returned rows without the "
                                           r"column\(s\) \['plan'\]"):
        build_training_window(churn.engine, _ms(), since=T0, until=UNTIL, extra=extra)


def test_too_few_rows_say_how_many_and_the_fix(churn: Logged) -> None:
    with pytest.raises(InsufficientDataError) as info:
        build_training_window(churn.engine, _ms(min_rows=51, window="10d"), since=T0,
                              until=UNTIL)
    text = str(info.value)
    assert "50 labelled logged prediction(s)" in text and "min_rows = 51" in text
    assert "55 labelled of 65 served, 5 duplicate key(s) dropped" in text
    assert T0.isoformat() in text and "widen window (now '10d')" in text
    assert "Wait for more labels" in text and "data_loader" in text


def test_labels_received_after_as_of_are_ignored(churn: Logged) -> None:
    with pytest.raises(InsufficientDataError, match=r"^model 'churn': 0 labelled"):
        build_training_window(churn.engine, _ms(), since=T0, until=UNTIL,
                              as_of=T0 + timedelta(hours=4))
    w = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL,
                              as_of=T0 + timedelta(hours=5, minutes=30))
    # only the latest revision is stored: c000's label, revised at 6:00, is not known yet
    assert (w.n_labelled, w.n_duplicates, w.n_train + w.n_holdout) == (53, 4, 49)
    assert 100.0 not in set(w.holdout["age"]) | set(w.train["age"])


def test_the_window_bounds_apply(churn: Logged) -> None:
    w = build_training_window(churn.engine, _ms(), since=T0 + timedelta(minutes=20),
                              until=T0 + timedelta(minutes=50))
    assert (w.n_logged, w.n_labelled, w.n_duplicates) == (30, 30, 0)
    assert w.holdout_since == T0 + timedelta(minutes=44)


def test_configured_features_and_a_clashing_target(churn: Logged) -> None:
    ms = ModelSettings.parse("churn", {"id_column": "customer_id", "features": ["plan"],
                                       "retrain": {"min_rows": 20, "target": "churned"}})
    w = build_training_window(churn.engine, ms, since=T0, until=UNTIL)
    assert w.features == ("plan",) and list(w.train.columns) == ["plan", "churned"]
    with pytest.raises(DataError, match=r"logs an input column named 'age', the name of "
                                        r"\[models.churn.retrain\] target"):
        build_training_window(churn.engine, _ms(target="age"), since=T0, until=UNTIL)
    missing = ModelSettings.parse("churn", {"features": ["age", "tenure"]})
    with pytest.raises(DataError, match=r"lack configured feature\(s\) \['tenure'\]"):
        build_training_window(churn.engine, missing, since=T0, until=UNTIL)


def test_an_unknown_model_is_named(churn: Logged) -> None:
    with pytest.raises(UnknownModelError, match="chrun"):
        build_training_window(churn.engine, ModelSettings(name="chrun"), since=T0, until=UNTIL)


def test_the_hash_is_reproducible(churn: Logged) -> None:
    a = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL)
    b = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL,
                              as_of=datetime.now(UTC))
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    assert a.schema == {"age": "float64", "plan": a.schema["plan"], "label": a.schema["label"]}
    assert a.schema["plan"] in ("str", "object") and a.schema["label"] in ("str", "object")


def test_served_metrics_are_the_performance_jobs_numbers(churn: Logged) -> None:
    """The champion's holdout score equals the performance job's sample of the same rows."""
    w = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL)
    mine = served_metrics(w, "classification", positive="yes")
    labelled = load_labelled_window(churn.engine, "churn", T0, UNTIL).labelled
    rows = labelled.set_index("prediction_id").loc[w.served["prediction_id"]].reset_index()
    from lifecycle.storage.labelled import labelled_sample

    expected = compute_metrics(labelled_sample(rows, ("proba_no", "proba_yes"),
                                               "classification", "yes", model="churn"))
    assert mine.n == 10 and mine.source == "served" and mine.task == "classification"
    assert mine.metrics == pytest.approx(expected, nan_ok=True)
    assert {"accuracy", "f1", "roc_auc", "log_loss"} <= set(mine.metrics)


def test_a_model_fitted_on_train_scores_on_holdout(churn: Logged) -> None:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    w = build_training_window(churn.engine, _ms(), since=T0, until=UNTIL)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                                ("passthrough", ["age"])),
        LogisticRegression(max_iter=500)).fit(w.train[list(w.features)], w.train[w.target])
    result = holdout_metrics(model, w, "classification", positive="yes")
    assert result.n == 10 and result.source == "model"
    assert result.metrics["accuracy"] == pytest.approx(
        float(np.mean(model.predict(w.holdout[list(w.features)]) == w.holdout["label"])))
    assert 0.0 <= result.metrics["roc_auc"] <= 1.0 and result.metrics["log_loss"] > 0

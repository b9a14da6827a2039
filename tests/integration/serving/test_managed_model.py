"""ManagedModel against real capture into real SQLite and PostgreSQL: the champion served and
logged, the challenger logged in shadow under the same request ids, the drop policy, a bad
challenger, alias moves, failed loads and predict_proba's availability."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from serving_support import COLUMNS, DictRegistry

import lifecycle
from lifecycle.states import CHALLENGER, CHAMPION
from lifecycle.storage.engine import make_engine

NAME = "churn"


def _rows(window: Any, role: str) -> pd.DataFrame:
    meta = window.meta
    return meta[meta["role"] == role].reset_index(drop=True)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_champion_and_challenger_rows_share_request_ids_and_join_keys(
    db_url: str, capture_into: Any, logged: Any, managed: Any, classifiers: Any,
    frame: pd.DataFrame,
) -> None:
    champion, challenger = classifiers
    capture_into(db_url)
    registry = DictRegistry(NAME)
    registry.add("1", champion, CHAMPION)
    registry.add("2", challenger, CHALLENGER)
    model = managed(NAME, registry=registry, poll_seconds=3600)

    answers = [model.predict(frame.iloc[:10]), model.predict_proba(frame.iloc[10:13]),
               model.predict(frame.iloc[13].to_dict()),
               model.predict(frame.iloc[14:16].to_dict("records")),
               model.predict(frame.iloc[16].to_numpy())]
    np.testing.assert_array_equal(answers[0], champion.predict(frame.iloc[:10]))
    np.testing.assert_allclose(answers[1], champion.predict_proba(frame.iloc[10:13]))
    np.testing.assert_array_equal(answers[2], champion.predict(frame.iloc[13:14]))
    np.testing.assert_array_equal(answers[3], champion.predict(frame.iloc[14:16]))
    np.testing.assert_array_equal(answers[4], champion.predict(frame.iloc[16:17].to_numpy()))
    assert model.flush(30)

    window = logged(db_url, NAME)
    served, shadow = _rows(window, CHAMPION), _rows(window, CHALLENGER)
    assert len(served) == len(shadow) == 17
    assert set(served["model_version"]) == {"1"} and set(shadow["model_version"]) == {"2"}
    # a served row's request id is its own prediction id; the shadow row answers it
    assert (served["request_id"] == served["prediction_id"]).all()
    pairs = served.merge(shadow, on="request_id", suffixes=("", "_shadow"))
    assert len(pairs) == 17
    assert (pairs["join_key"] == pairs["join_key_shadow"]).all()
    assert (pairs["ts"] == pairs["ts_shadow"]).all()  # one window holds both
    assert not set(pairs["prediction_id"]) & set(pairs["prediction_id_shadow"])
    # the challenger's own answers were logged, by the method the caller used
    outputs = window.outputs.loc[window.meta["role"] == CHALLENGER].reset_index(drop=True)
    first = outputs.iloc[:10]["prediction"].to_numpy()
    np.testing.assert_array_equal(first, challenger.predict(frame.iloc[:10]))
    assert outputs.iloc[10:13]["proba_1"].notna().all()
    stats = model.stats
    assert (stats.served, stats.shadowed, stats.shadow_errors, stats.shadow_dropped) == (
        5, 5, 0, 0)


def _keyed_models() -> tuple[Any, Any, pd.DataFrame]:
    """Two classifiers that take a frame with a ``customer`` column and ignore it."""
    from serving_support import training_data
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    x, y = training_data()
    x = x.assign(customer=[f"c{i}" for i in range(len(x))])
    models = [make_pipeline(ColumnTransformer([("keep", "passthrough", COLUMNS)]),
                            LogisticRegression(C=c)).fit(x, y) for c in (1.0, 0.001)]
    return models[0], models[1], x


@pytest.mark.parametrize("id_column", [None, "customer"])
def test_a_label_logged_for_the_request_labels_both_rows(
    sqlite_url: str, capture_into: Any, managed: Any, id_column: str | None,
) -> None:
    from lifecycle.storage.labelled import load_labelled_window

    champion, challenger, x = _keyed_models()
    capture_into(sqlite_url)
    registry = DictRegistry(NAME)
    registry.add("1", champion, CHAMPION)
    registry.add("2", challenger, CHALLENGER)
    model = managed(NAME, registry=registry, poll_seconds=3600, id_column=id_column)
    with lifecycle.capture_context() as cap:
        model.predict(x.iloc[:4])
        model.predict(x.iloc[4:7])
    keys = cap.join_keys
    assert keys == (list(x["customer"].iloc[:7]) if id_column else cap.prediction_ids)
    assert model.flush(30)
    lifecycle.log_outcomes(NAME, keys[:5], [1, 0, 1, 1, 0])
    engine = make_engine(sqlite_url)
    try:
        both = load_labelled_window(engine, NAME, None, None, roles=(CHAMPION, CHALLENGER))
    finally:
        engine.dispose()
    labelled = both.frame[both.frame["has_label"]]
    assert labelled["role"].value_counts().to_dict() == {CHAMPION: 5, CHALLENGER: 5}
    by_role = labelled.pivot(index="join_key", columns="role", values="label")
    assert (by_role[CHAMPION] == by_role[CHALLENGER]).all()

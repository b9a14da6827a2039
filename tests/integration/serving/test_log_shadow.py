"""Unmanaged predictors: a team serving its own model with ``@monitor`` shadows a challenger
with ``lifecycle.log_shadow`` under the served rows' prediction ids."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import lifecycle
from lifecycle.errors import DataError
from lifecycle.states import CHALLENGER, UNMANAGED

NAME = "fraud"


def test_log_shadow_rows_share_the_served_rows_request_ids(
    db_url: str, capture_into: Any, logged: Any, classifiers: Any, frame: pd.DataFrame,
) -> None:
    champion, challenger = classifiers
    capture_into(db_url)
    served = lifecycle.monitor(NAME, version="11")(champion)

    served.predict_proba(frame.iloc[:6])
    ids = lifecycle.last_prediction_ids()
    assert lifecycle.log_shadow(NAME, frame.iloc[:6], challenger.predict_proba(frame.iloc[:6]),
                                request_ids=ids, version="12", classes=[0, 1],
                                latency_ms=0.5) == 6
    with lifecycle.capture_context() as cap:
        served.predict(frame.iloc[6:9])
    lifecycle.log_shadow(NAME, frame.iloc[6:9], challenger.predict(frame.iloc[6:9]),
                         request_ids=cap.prediction_ids, version="12")
    assert lifecycle.flush(30)

    window = logged(db_url, NAME)
    meta = window.meta
    mine, shadow = meta[meta["role"] == UNMANAGED], meta[meta["role"] == CHALLENGER]
    assert len(mine) == len(shadow) == 9
    assert mine["request_id"].isna().all()  # a served row's request id is its prediction id
    assert sorted(shadow["request_id"]) == sorted(mine["prediction_id"])
    pairs = mine.merge(shadow, left_on="prediction_id", right_on="request_id",
                       suffixes=("", "_shadow"))
    assert (pairs["join_key_shadow"] == pairs["join_key"]).all()
    assert set(shadow["model_version"]) == {"12"}
    outputs = window.outputs[meta["role"] == CHALLENGER].reset_index(drop=True)
    np.testing.assert_allclose(outputs["proba_1"].iloc[:6],
                               challenger.predict_proba(frame.iloc[:6])[:, 1])
    np.testing.assert_allclose(shadow["latency_ms"].iloc[:6], 0.5)
    assert shadow["latency_ms"].iloc[6:].isna().all()  # not measured: stored as unknown


def test_log_shadow_needs_one_request_id_per_row(
    sqlite_url: str, capture_into: Any, frame: pd.DataFrame,
) -> None:
    capture_into(sqlite_url)
    with pytest.raises(DataError, match="one request id per row"):
        lifecycle.log_shadow(NAME, frame.iloc[:3], np.zeros(3), request_ids=["a", "b"],
                             version="2")

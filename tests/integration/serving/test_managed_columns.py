"""A served frame carries more than the model's features (the id column that joins late
labels): the whole frame is logged, the model is given exactly the columns it was fitted on,
in its order, champion and live challenger alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from serving_support import DictRegistry

import lifecycle
from lifecycle.states import CHALLENGER, CHAMPION


def test_the_id_column_is_logged_and_not_given_to_the_model(
        sqlite_url: str, capture_into: Callable[[str], str], managed: Callable[..., Any],
        logged: Callable[..., Any], classifiers: tuple[Any, Any], frame: pd.DataFrame,
        ) -> None:
    capture_into(sqlite_url)
    champion, challenger = classifiers
    registry = DictRegistry("m")
    registry.add("1", champion, CHAMPION)
    registry.add("2", challenger, CHALLENGER)
    served = frame.iloc[:, ::-1].assign(customer_id=[f"c{i}" for i in range(len(frame))])
    model = managed("m", registry=registry, id_column="customer_id", poll_seconds=3600)

    answer = model.predict_proba(served)           # reversed columns plus an id column
    assert np.allclose(answer, champion.predict_proba(frame))
    assert model.flush(30) and lifecycle.flush(30)

    window = logged(sqlite_url, "m")
    assert "customer_id" in window.inputs.columns  # the whole frame is logged ...
    roles = window.meta.groupby("role")["join_key"].apply(set)
    # ... and the id column is the join key of both roles' rows
    assert roles[CHAMPION] == roles[CHALLENGER] == set(served["customer_id"])
    assert model.stats.shadow_errors == 0

"""A regression model's training window: numeric labels stay numbers, and the champion's
served values are scored with the performance job's metric code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _churn_log import T0
from sqlalchemy import Engine

import lifecycle
from lifecycle.config import ModelSettings
from lifecycle.performance import regression_sample
from lifecycle.performance.compare import compute_metrics
from lifecycle.training.holdout import holdout_metrics, infer_task, served_metrics
from lifecycle.training.window import build_training_window


def test_regression_window_and_scores(capture: str,
                                      engine_for: Callable[[str], Engine]) -> None:
    clock = [T0]

    @lifecycle.monitor("price", clock=lambda: clock[0], version="3")
    def predict(features: pd.DataFrame) -> np.ndarray:
        return 10.0 * features["rooms"].to_numpy() + 0.5

    rng = np.random.default_rng(5)
    rooms = rng.integers(1, 6, 40)
    keys: list[str] = []
    for i, r in enumerate(rooms):
        clock[0] = T0 + timedelta(minutes=i)
        with lifecycle.capture_context() as cap:
            predict(pd.DataFrame({"rooms": [int(r)], "area": [float(r) * 20.5]}))
        keys += cap.join_keys
    assert lifecycle.flush(30)
    labels: list[Any] = [int(10 * r) if i % 2 else 10.0 * r + 1.25 for i, r in enumerate(rooms)]
    lifecycle.log_outcomes("price", keys, labels)

    ms = ModelSettings.parse("price", {"retrain": {"min_rows": 10, "target": "price",
                                                   "holdout": "25%"}})
    w = build_training_window(engine_for(capture), ms, since=T0, until=T0 + timedelta(days=1))
    assert w.features == ("rooms", "area") and (w.n_train, w.n_holdout) == (30, 10)
    assert w.train["price"].dtype == np.float64 and w.schema["price"] == "float64"
    assert w.holdout["price"].tolist() == labels[30:]
    assert infer_task(w) == "regression"
    assert set(w.served["model_version"]) == {"3"}

    served = served_metrics(w, "regression")
    assert served.metrics == pytest.approx(compute_metrics(regression_sample(
        labels[30:], (10.0 * rooms[30:] + 0.5).tolist())))

    class Exact:
        def predict(self, x: pd.DataFrame) -> np.ndarray:
            return np.array(labels[30:], dtype=float)

    perfect = holdout_metrics(Exact(), w, "regression")
    assert perfect.metrics["mae"] == 0.0 and perfect.metrics["rmse"] == 0.0

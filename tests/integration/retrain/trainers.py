"""Trainers the retrain tests name in lifecycle.toml (``tests.integration.retrain.trainers:*``),
written the way a team writes one: ``(train, target, params) -> fitted model``."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

#: the last object each trainer returned (the tests compare the registered model with it)
FITTED: dict[str, Any] = {}


def forest(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Any:
    features = [c for c in train.columns if c != target]
    model = Pipeline([
        ("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["c"])],
                                   remainder="passthrough")),
        ("rf", RandomForestClassifier(n_estimators=int(params.get("n_estimators", 20)),
                                      random_state=0)),
    ]) if "c" in features else RandomForestClassifier(n_estimators=20, random_state=0)
    model.fit(train[features], train[target])
    FITTED["forest"] = model
    return model


def boosted(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Any:
    features = [c for c in train.columns if c not in (target, "c")]
    model = Pipeline([
        ("drop", ColumnTransformer([("num", "passthrough", features)])),
        ("hgb", HistGradientBoostingClassifier(max_iter=30, random_state=0)),
    ])
    model.fit(train, train[target])
    FITTED["boosted"] = model
    return model


def explode(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Any:
    raise RuntimeError("trainer exploded")


class _Locked:
    """Predicts, but holds a lock: nothing can serialise it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def predict(self, frame: pd.DataFrame) -> Any:
        return [0] * len(frame)


def unloggable(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Any:
    return _Locked()


def no_predict(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Any:
    return {"weights": [1, 2, 3]}


def slow_once(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Any:
    """Sleeps for ten minutes the first time (marker file absent), then trains at once."""
    marker = Path(os.environ["RETRAIN_TEST_MARKER"])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(600)
    return forest(train, target, params)


def wrong_signature(train: pd.DataFrame) -> Any:
    return None

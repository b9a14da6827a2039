"""Fixtures of the retrain tests: a served classifier whose predictions and late labels are in
a real database (SQLite or PostgreSQL), settings naming a trainer, and a real MLflow store
(SQLite-backed, in the test's folder) holding the champion."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # trainers are imported as tests.integration.retrain.trainers
    sys.path.insert(0, str(ROOT))

import lifecycle  # noqa: E402
from lifecycle.capture import runtime  # noqa: E402
from lifecycle.capture.monitor import capture_context, configure  # noqa: E402
from lifecycle.config import Settings, load_settings  # noqa: E402
from lifecycle.states import CHAMPION  # noqa: E402

MODEL = "credit"
TRAINERS = "tests.integration.retrain.trainers"


def world(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame({
        "id": [f"k{i}" for i in rng.integers(0, 10**12, n)],
        "a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n),
        "c": rng.choice(["x", "y", "z"], n),
    })
    logit = 2.0 * frame["a"] - frame["b"] + (frame["c"] == "z") * 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y.to_numpy()


def retrain_toml(db_url: str, home: Path, trainer: str = "forest", extra: str = "") -> str:
    return f"""
database_url = "{db_url}"
home = "{home}"
mlflow_tracking_uri = "sqlite:///{home / 'mlflow.db'}"
[models.{MODEL}]
task = "classification"
id_column = "id"
features = ["a", "b", "c"]
categorical = ["c"]
[models.{MODEL}.retrain]
trainer = "{TRAINERS}:{trainer}"
min_rows = 200
holdout = "25%"
params = {{ n_estimators = 15 }}
{extra}"""


@dataclass
class Served:
    """What the fixture built: the database, its settings writer, the champion's version."""

    db_url: str
    engine: Engine
    home: Path
    champion_version: str
    n_labelled: int

    def settings(self, trainer: str = "forest", extra: str = "",
                 env: dict[str, str] | None = None) -> Settings:
        path = self.home / "lifecycle.toml"
        path.write_text(retrain_toml(self.db_url, self.home, trainer, extra))
        return load_settings(path, env=env or {}, cwd=self.home)


FEATURES = ["a", "b", "c"]


def champion_model(x: pd.DataFrame, y: np.ndarray) -> Any:
    """The model in production: a logistic regression on the numeric columns only."""
    return Pipeline([("num", ColumnTransformer([("ab", "passthrough", ["a", "b"])])),
                     ("lr", LogisticRegression())]).fit(x[FEATURES], y)


@pytest.fixture
def served(db_url: str, engine_for: Callable[[str], Engine], tmp_home: Path,
           tmp_path: Path) -> Iterator[Served]:
    """1,200 predictions of a monitored champion (800 labelled) and that champion registered
    in MLflow under alias ``champion``."""
    from lifecycle.registry.mlflow_store import registry_for

    rng = np.random.default_rng(7)
    train_x, train_y = world(rng, 1500)
    champion = champion_model(train_x, train_y)
    configure(database_url=db_url, spill_dir=str(tmp_path / "spill"), flush_interval_s=0.02,
              db_timeout_s=1.0, shutdown_timeout_s=5.0, handle_sigterm=False)
    try:
        @lifecycle.monitor(MODEL, id_column="id", classes=[0, 1], version="1")
        def predict(frame: pd.DataFrame) -> Any:
            return champion.predict_proba(frame[FEATURES])

        live_x, live_y = world(rng, 1200)
        with capture_context() as cap:
            for start in range(0, 1200, 100):
                predict(live_x.iloc[start:start + 100])
        assert lifecycle.flush(30)
        lifecycle.log_outcomes(MODEL, cap.join_keys[:800], live_y[:800].tolist())
    finally:
        runtime.reset()
    settings_home = tmp_home
    stub = Served(db_url, engine_for(db_url), settings_home, "", 800)
    registry = registry_for(stub.settings())
    with registry.start_run("lifecycle/credit", "initial") as run:
        uri = run.log_model(champion, input_example=train_x[FEATURES].head(5))
    info = registry.register(MODEL, uri, run_id=run.run_id)
    registry.set_alias(MODEL, CHAMPION, info.version)
    stub.champion_version = info.version
    yield stub

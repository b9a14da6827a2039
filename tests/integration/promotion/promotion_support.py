"""Helpers of the shadow-evaluation and promotion tests: a world with a known truth, fitted
models that see some of its columns, and the :class:`Lab` a test serves and evaluates in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sqlalchemy import Engine

import lifecycle
from lifecycle.config import Settings, load_settings
from lifecycle.states import CHALLENGER, CHAMPION
from lifecycle.storage.types import utcnow

MODEL = "churn"
COLUMNS = ["f0", "f1", "f2", "f3"]


def world(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The truth: y = 1 when f0 + f1 + noise > 0 (f2, f3 carry nothing)."""
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=COLUMNS)
    frame.insert(0, "id", [f"r{i}" for i in rng.integers(0, 10**12, n)])
    y = (frame["f0"] + frame["f1"] + rng.normal(0, 0.3, n) > 0).astype(int).to_numpy()
    return frame, y


def fitted(columns: list[str], seed: int = 0) -> Pipeline:
    """A logistic regression that sees only ``columns`` (the others are dropped)."""
    x, y = world(np.random.default_rng(seed), 2000)
    return Pipeline([("pick", ColumnTransformer([("keep", "passthrough", columns)])),
                     ("lr", LogisticRegression())]).fit(x, y)


def toml(db_url: str, home: Path, extra: str = "") -> str:
    return f"""
database_url = "{db_url}"
home = "{home}"
mlflow_tracking_uri = "sqlite:///{home / 'mlflow.db'}"
[models.{MODEL}]
task = "classification"
id_column = "id"
[models.{MODEL}.shadow]
min_pairs = 50
max_pairs = 600
n_boot = 200
{extra}"""


@dataclass
class Lab:
    """One test's world: database, registry, settings and a clock ahead of registration."""

    db_url: str
    engine: Engine
    home: Path
    registry: Any
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(17))
    #: requests are served at this time: after registration plus the shadow grace
    served_at: datetime = field(default_factory=lambda: utcnow() + timedelta(minutes=15))

    def settings(self, extra: str = "") -> Settings:
        path = self.home / "lifecycle.toml"
        path.write_text(toml(self.db_url, self.home, extra))
        return load_settings(path, env={}, cwd=self.home)

    def register(self, model: Any, alias: str | None, example: pd.DataFrame | None = None,
                 tags: dict[str, str] | None = None) -> str:
        example = world(np.random.default_rng(0), 5)[0] if example is None else example
        with self.registry.start_run("promotion-tests", f"{alias or 'version'}") as run:
            uri = run.log_model(model, input_example=example)
        version = self.registry.register(MODEL, uri, run_id=run.run_id, tags=tags).version
        if alias is not None:
            self.registry.set_alias(MODEL, alias, version)
        return str(version)

    def managed(self, **kwargs: Any) -> Any:
        from lifecycle.serving.managed import ManagedModel

        return ManagedModel(MODEL, registry=self.registry, poll_seconds=3600,
                            id_column="id", clock=lambda: self.served_at, **kwargs)

    def serve(self, served: Any, n: int, *, label: bool = True, batch: int = 1) -> np.ndarray:
        """Serve ``n`` fresh requests (``batch`` rows per call), flush, log their labels."""
        frame, y = world(self.rng, n)
        answers = [served.predict(frame.iloc[i:i + batch]) for i in range(0, n, batch)]
        assert served.flush(60)
        if label:
            lifecycle.log_outcomes(MODEL, frame["id"].tolist(), y.tolist(),
                                   received_at=self.served_at)
            assert lifecycle.flush(30)
        return np.concatenate(answers)

    def aliases(self) -> dict[str, str | None]:
        out = {}
        for alias in (CHAMPION, CHALLENGER, "previous"):
            found = self.registry.by_alias(MODEL, alias)
            out[alias] = None if found is None else found.version
        return out

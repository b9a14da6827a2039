"""Serving fixtures: capture configured into a real database, a small in-process registry,
fitted scikit-learn models on generated data, and a reader of what was logged."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from lifecycle.capture import runtime
from lifecycle.capture.monitor import configure
from lifecycle.registry.base import VersionInfo
from lifecycle.storage.engine import make_engine
from lifecycle.storage.window import LoadedWindow, load_window

FAST = {"flush_interval_s": 0.02, "db_timeout_s": 2.0, "shutdown_timeout_s": 5.0,
        "handle_sigterm": False}
N_FEATURES = 4
COLUMNS = [f"f{i}" for i in range(N_FEATURES)]


class DictRegistry:
    """The part of the registry protocol ManagedModel uses, over plain dicts: versions are
    model objects, ``fail`` holds versions whose load raises, ``loads`` counts loads."""

    tracking_uri = "memory://tests"

    def __init__(self, name: str) -> None:
        self.name = name
        self.models: dict[str, Any] = {}
        self.aliases: dict[str, str] = {}
        self.fail: set[str] = set()
        self.loads: list[str] = []
        self._lock = threading.Lock()

    def add(self, version: str, model: Any, *aliases: str) -> None:
        with self._lock:
            self.models[version] = model
            for alias in aliases:
                self.aliases[alias] = version

    def set_alias(self, name: str, alias: str, version: str) -> None:
        with self._lock:
            self.aliases[alias] = version

    def delete_alias(self, name: str, alias: str) -> None:
        with self._lock:
            self.aliases.pop(alias, None)

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        with self._lock:
            version = self.aliases.get(alias) if name == self.name else None
        if version is None:
            return None
        return VersionInfo(name=name, version=version, run_id=None, source=None,
                           aliases=(alias,))

    def load_model(self, uri: str) -> Any:
        version = uri.rsplit("/", 1)[1]
        self.loads.append(version)
        if version in self.fail:
            raise OSError(f"artifact of version {version} is missing")
        return self.models[version]


def training_data(seed: int = 0, n: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, N_FEATURES)), columns=COLUMNS)
    y = (x["f0"] + 0.5 * x["f1"] > 0).astype(int).to_numpy()
    return x, y


@pytest.fixture
def frame() -> pd.DataFrame:
    return training_data(seed=1, n=50)[0]


@pytest.fixture
def classifiers() -> tuple[LogisticRegression, LogisticRegression]:
    """Two different fitted classifiers (champion, challenger) on named columns."""
    x, y = training_data()
    first = LogisticRegression().fit(x, y)
    second = LogisticRegression(C=0.001).fit(x, y)
    return first, second


@pytest.fixture
def regressor() -> LinearRegression:
    x, y = training_data()
    return LinearRegression().fit(x, y.astype(float))


@pytest.fixture
def capture_into(tmp_home: Path, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``capture_into(url)`` configures capture into ``url``; reset after the test."""

    def setup(url: str) -> str:
        configure(database_url=url, spill_dir=str(tmp_path / "spill"), **FAST)
        return url

    yield setup
    runtime.reset()


@pytest.fixture
def logged() -> Iterator[Callable[[str, str], LoadedWindow]]:
    """``logged(url, model)``: everything logged for ``model``, as a window."""
    engines = []

    def read(url: str, model: str) -> LoadedWindow:
        engine = make_engine(url)
        engines.append(engine)
        return load_window(engine, model)

    yield read
    for engine in engines:
        engine.dispose()


@pytest.fixture
def managed() -> Iterator[Callable[..., Any]]:
    """``managed(name, **kwargs)``: a ManagedModel closed after the test."""
    from lifecycle.serving.managed import ManagedModel

    made: list[ManagedModel] = []

    def make(name: str, **kwargs: Any) -> ManagedModel:
        model = ManagedModel(name, **kwargs)
        made.append(model)
        return model

    yield make
    for model in made:
        model.close(timeout=10)

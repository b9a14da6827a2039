"""Serving fixtures: capture configured into a real database, a small in-process registry,
fitted scikit-learn models on generated data, and a reader of what was logged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from serving_support import training_data
from sklearn.linear_model import LinearRegression, LogisticRegression

from lifecycle.capture import runtime
from lifecycle.capture.monitor import configure
from lifecycle.storage.engine import make_engine
from lifecycle.storage.window import LoadedWindow, load_window

FAST = {"flush_interval_s": 0.02, "db_timeout_s": 2.0, "shutdown_timeout_s": 5.0,
        "handle_sigterm": False}


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
    """``managed(name, **kwargs)``: a ManagedModel closed after the test. These tests are
    about the live shadow, so ``shadow`` defaults to ``"live"`` here (the class's default is
    ``"batch"``: ``test_shadow_modes.py``)."""
    from lifecycle.serving.managed import ManagedModel

    made: list[ManagedModel] = []

    def make(name: str, **kwargs: Any) -> ManagedModel:
        kwargs.setdefault("shadow", "live")
        model = ManagedModel(name, **kwargs)
        made.append(model)
        return model

    yield make
    for model in made:
        model.close(timeout=10)

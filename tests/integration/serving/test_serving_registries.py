"""ManagedModel on the library's registries: the in-memory fake and a real MLflow store
(SQLite-backed, in a temporary folder), from registration to a promotion picked up live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.states import CHALLENGER, CHAMPION

NAME = "churn"


def _register(registry: Any, model: Any, example: pd.DataFrame, alias: str) -> str:
    with registry.start_run("serving-tests", f"{alias}-run") as run:
        uri = run.log_model(model, input_example=example)
    version = registry.register(NAME, uri, run_id=run.run_id).version
    registry.set_alias(NAME, alias, version)
    return str(version)


def _serve_and_promote(registry: Any, url: str, managed: Any, logged: Any,
                       classifiers: Any, frame: pd.DataFrame) -> None:
    champion, challenger = classifiers
    first = _register(registry, champion, frame.head(5), CHAMPION)
    second = _register(registry, challenger, frame.head(5), CHALLENGER)
    model = managed(NAME, registry=registry, poll_seconds=3600)
    np.testing.assert_allclose(model.predict_proba(frame.iloc[:20]),
                               champion.predict_proba(frame.iloc[:20]))
    assert model.versions == (first, second)
    registry.set_alias(NAME, CHAMPION, second)  # promotion, as the promote job does it
    registry.delete_alias(NAME, CHALLENGER)
    model.refresh()
    np.testing.assert_array_equal(model.predict(frame.iloc[20:30]),
                                  challenger.predict(frame.iloc[20:30]))
    assert model.flush(30)
    meta = logged(url, NAME).meta
    counts = meta.groupby(["role", "model_version"]).size().to_dict()
    assert counts == {(CHAMPION, first): 20, (CHALLENGER, second): 20, (CHAMPION, second): 10}


def test_in_memory_registry(sqlite_url: str, capture_into: Any, managed: Any, logged: Any,
                            classifiers: Any, frame: pd.DataFrame) -> None:
    from lifecycle.testing import InMemoryRegistry

    capture_into(sqlite_url)
    _serve_and_promote(InMemoryRegistry(), sqlite_url, managed, logged, classifiers, frame)


@pytest.mark.slow
def test_real_mlflow_registry(sqlite_url: str, capture_into: Any, managed: Any, logged: Any,
                              classifiers: Any, frame: pd.DataFrame, tmp_path: Path) -> None:
    from lifecycle.registry.mlflow_store import MlflowRegistry

    capture_into(sqlite_url)
    registry = MlflowRegistry(f"sqlite:///{tmp_path}/mlflow.db", artifact_root=tmp_path / "art")
    _serve_and_promote(registry, sqlite_url, managed, logged, classifiers, frame)
    # the registry hands back the native scikit-learn object (faster than pyfunc: RESULTS.md)
    model = managed(NAME, registry=registry, poll_seconds=3600)
    assert type(model.champion).__name__ == "LogisticRegression"

"""Fixtures of the shadow-evaluation and promotion tests: a real database (SQLite or
PostgreSQL) that capture writes into, a real MLflow store (SQLite, in the test's folder) and
settings naming both (helpers in ``promotion_support.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from promotion_support import Lab
from sqlalchemy import Engine

from lifecycle.capture import runtime
from lifecycle.capture.monitor import configure


@pytest.fixture
def lab(db_url: str, engine_for: Callable[[str], Engine], tmp_home: Path,
        tmp_path: Path) -> Iterator[Lab]:
    from lifecycle.registry.mlflow_store import MlflowRegistry

    configure(database_url=db_url, spill_dir=str(tmp_path / "spill"), flush_interval_s=0.02,
              db_timeout_s=2.0, shutdown_timeout_s=5.0, handle_sigterm=False)
    registry = MlflowRegistry(f"sqlite:///{tmp_home / 'mlflow.db'}")  # = registry_for
    made = Lab(db_url, engine_for(db_url), tmp_home, registry)
    try:
        yield made
    finally:
        runtime.reset()

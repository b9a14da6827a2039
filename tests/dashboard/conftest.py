"""Fixtures of the dashboard tests: seeded databases and the dashboard pointed at them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_support import MLFLOW_DB, NOW, seed


@pytest.fixture(autouse=True)
def dashboard_clock(tmp_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's clock is :data:`dashboard_support.NOW` in every dashboard test (after
    ``tmp_home`` cleared the inherited ``LIFECYCLE_*`` variables)."""
    monkeypatch.setenv("LIFECYCLE_DASHBOARD_NOW", NOW.isoformat())


@pytest.fixture
def use_db(tmp_home: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the dashboard (settings read per run) at a database URL."""

    def point(url: str) -> None:
        monkeypatch.setenv("LIFECYCLE_DATABASE_URL", url)

    return point


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded SQLite file per test session (seeding takes seconds; copying does not),
    with its registry in a local MLflow store beside it (``mlflow.db``: versions, runs,
    aliases)."""
    from lifecycle.registry.mlflow_store import MlflowRegistry
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("seeded") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    seed(url, registry=MlflowRegistry(f"sqlite:///{path.with_name(MLFLOW_DB)}"))
    engine = make_engine(url)
    with engine.connect() as conn:  # fold the WAL into the main file before copying it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def seeded_sqlite(seeded_template: Path, tmp_path: Path, use_db: Callable[[str], None],
                  monkeypatch: pytest.MonkeyPatch) -> str:
    """A private copy of the seeded database and of its MLflow store, and the dashboard
    pointed at both (the store's artifacts stay in the template's folder)."""
    path = tmp_path / "seeded.db"
    shutil.copyfile(seeded_template, path)
    store = tmp_path / MLFLOW_DB
    shutil.copyfile(seeded_template.with_name(MLFLOW_DB), store)
    monkeypatch.setenv("LIFECYCLE_MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    url = f"sqlite:///{path}"
    use_db(url)
    return url



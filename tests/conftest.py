"""Shared fixtures: real SQLite and real PostgreSQL databases, migrated to head.

PostgreSQL: ``LIFECYCLE_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) names an admin connection; each test that asks
for ``pg_url`` gets its own throwaway database, created and dropped around it. When the server
is unreachable the test is skipped locally, and FAILS when ``CI=true`` (CI must run them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis: deterministic (seeded from the test) and no per-example deadline, because these
# machines are noisy and a timing-dependent failure is not a property failure.
hypothesis_settings.register_profile(
    "lifecycle",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("lifecycle")

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def _admin_url() -> str:
    return os.environ.get("LIFECYCLE_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def _psycopg_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


_pg_state: dict[str, object] = {}


def _pg_available() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        try:
            engine = create_engine(_psycopg_url(_admin_url()),
                                   connect_args={"connect_timeout": 5})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["ok"], _pg_state["why"] = True, ""
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            _pg_state["ok"], _pg_state["why"] = False, str(exc).splitlines()[0]
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def require_postgres() -> str:
    """Admin URL of the test server; skip (locally) or fail (CI) when it is down."""
    ok, why = _pg_available()
    if not ok:
        message = f"PostgreSQL not reachable at {_admin_url()}: {why}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return _admin_url()


def create_pg_database(prefix: str = "lc_test") -> tuple[str, Callable[[], None]]:
    """Create an empty throwaway database; returns its URL and a function that drops it."""
    admin = require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(_psycopg_url(admin), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()

    return url, drop


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated LIFECYCLE_HOME with no config file and no inherited LIFECYCLE_* env."""
    for key in list(os.environ):
        if key.startswith("LIFECYCLE_") and key != "LIFECYCLE_TEST_POSTGRES_URL":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LIFECYCLE_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet (no schema)."""
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file database migrated to head."""
    from lifecycle.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'lifecycle.db'}"
    upgrade(url)
    return url


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A fresh, empty throwaway PostgreSQL database (no schema)."""
    url, drop = create_pg_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def pg_url(empty_pg_url: str) -> str:
    """A fresh throwaway PostgreSQL database migrated to head."""
    from lifecycle.storage.migrate import upgrade

    upgrade(empty_pg_url)
    return empty_pg_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest) -> str:
    """Parametrised over real SQLite and real PostgreSQL, empty (for migration tests)."""
    name = "empty_sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Parametrised over real SQLite and real PostgreSQL, migrated to head."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine_for() -> Iterator[Callable[[str], Engine]]:
    """Make engines through lifecycle's factory; all are disposed after the test."""
    from lifecycle.storage.engine import make_engine

    engines: list[Engine] = []

    def factory(url: str) -> Engine:
        engine = make_engine(url)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.dispose()


@pytest.fixture
def engine(db_url: str, engine_for: Callable[[str], Engine]) -> Engine:
    """An engine on ``db_url`` (SQLite and PostgreSQL)."""
    return engine_for(db_url)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A real 2-worker ``distributed.LocalCluster`` for the module (processes, one thread each,
    no dashboard; workers import lifecycle by name and open the test database by URL).

    ``distributed`` is a dev dependency: without it the test is skipped locally and FAILS when
    ``CI=true``, like PostgreSQL.
    """
    try:
        import distributed
    except ImportError as exc:
        message = f"dask[distributed] is not installed: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: the Dask tests must run)")
        pytest.skip(message)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as lc:
        yield lc

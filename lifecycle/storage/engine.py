"""The one place that makes engines.

SQLite (embedded default): WAL journal, foreign keys on, a busy timeout so concurrent writers
wait instead of failing. PostgreSQL (production): psycopg 3 with a connection pool and
pre-ping so a restarted server does not surface as an error on the first query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from lifecycle.errors import DatabaseURLError

#: How long a SQLite writer waits for a lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000

SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def parse_database_url(url: str) -> URL:
    """Parse and validate a database URL, normalising PostgreSQL to the psycopg 3 driver.

    Raises
    ------
    DatabaseURLError
        When the URL cannot be parsed or names an unsupported backend.
    """
    if not isinstance(url, str) or not url.strip():
        raise DatabaseURLError(
            "database URL is empty; set LIFECYCLE_DATABASE_URL (e.g. "
            "'sqlite:///./.lifecycle/lifecycle.db' or "
            "'postgresql://user@host:5432/db')"
        )
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(
            f"cannot parse database URL {redact_url(url)!r}: {exc}. Expected "
            "'sqlite:///path/to/file.db' or 'postgresql://user:password@host:5432/dbname'"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseURLError(
            f"unsupported database backend {backend!r} in {redact_url(url)!r}; "
            f"lifecycle supports {', '.join(SUPPORTED_BACKENDS)}"
        )
    if backend == "postgresql":
        driver = parsed.get_driver_name()
        if driver not in ("psycopg", "psycopg2") or parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if not parsed.database:
            raise DatabaseURLError(
                f"database URL {redact_url(url)!r} names no database; add '/dbname' at the end"
            )
    return parsed


def redact_url(url: str | URL) -> str:
    """The URL with its password hidden, safe to print."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``. Connects lazily: nothing is opened until first use."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    options: dict[str, Any] = {
        "pool_size": 5,
        "max_overflow": 10,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "connect_args": {"connect_timeout": 10, "application_name": "lifecycle"},
    }
    options.update(kwargs)
    return create_engine(parsed, **options)


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    if url.database not in (None, "", ":memory:"):
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    options.update(kwargs)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine

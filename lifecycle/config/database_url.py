"""Database URLs: validated when settings load, printed only with the password hidden.

Lives with the settings (they validate ``database_url`` at start); the engine factory in
:mod:`lifecycle.storage.engine` uses the same functions.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from lifecycle.errors import DatabaseURLError

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


#: Query parameters of a database URL that hold a secret (libpq reads ``password`` there too).
SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})


def redact_url(url: str | URL) -> str:
    """The URL with its password hidden (in the user part and in the query), safe to print."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable URL>"
    secret = SECRET_QUERY_KEYS & {key.lower() for key in parsed.query}
    if secret:
        parsed = parsed.set(query={
            key: ("***" if key.lower() in secret else value)
            for key, value in parsed.query.items()})
    # the mask is escaped in a query value; show it as in the user part
    return parsed.render_as_string(hide_password=True).replace("=%2A%2A%2A", "=***")

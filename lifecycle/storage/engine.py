"""The one place that makes engines.

SQLite (embedded default): a new database file is owner-only (0600, so are its -wal and
-shm files), WAL journal, foreign keys on, a busy timeout so concurrent writers wait instead
of failing; a new database file gets 64 KiB pages and every connection
checkpoints the WAL each time it passes 8 MiB (see ``SQLITE_PAGE_SIZE``). PostgreSQL
(production): psycopg 3 with a connection pool and pre-ping so a restarted server does not
surface as an error on the first query.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL

from lifecycle.config.database_url import (  # re-exported: the storage layer's names
    SUPPORTED_BACKENDS,
    parse_database_url,
    redact_url,
)
from lifecycle.files import create_private_file, make_private_dir

#: How long a SQLite writer waits for a lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Page size of a NEW SQLite file (an existing file keeps its own: SQLite cannot change it
#: in WAL mode). Most of what lifecycle writes is megabyte-sized batch blobs; with 4 KiB
#: pages each 10,000-row batch was ~450 WAL frames, two ``pwrite`` calls each, and the same
#: again to checkpoint them, and on this project's VMs a system call costs several µs.
#: 64 KiB pages cut the capture writer's commit + checkpoint CPU from ~7 to 3.2-3.5 ms per
#: 10,000 rows (``benchmarks/capture_writer.py stages``; benchmarks/RESULTS.md, Capture).
SQLITE_PAGE_SIZE = 65_536
#: WAL size (bytes) past which a committing connection copies the WAL back into the database
#: file. SQLite counts it in pages, so it is converted with each file's page size. 8 MiB
#: keeps one checkpoint short (the writer's longest batch: 28-29 ms of CPU instead of 117 ms
#: with 40 MiB, a pause every call served meanwhile would feel) at the same mean CPU.
SQLITE_CHECKPOINT_BYTES = 8 * 1024 * 1024

__all__ = ["SUPPORTED_BACKENDS", "make_engine", "parse_database_url", "redact_url"]

def make_engine(
    url: str,
    *,
    timeout_s: float | None = None,
    application_name: str = "lifecycle",
    sqlite_pragmas: Mapping[str, int] | None = None,
    **kwargs: Any,
) -> Engine:
    """Create an engine for ``url``. Connects lazily: nothing is opened until first use.

    ``timeout_s`` is how long to wait for the database: SQLite's busy timeout (default
    30 s), PostgreSQL's connect timeout (default 10 s). ``sqlite_pragmas`` are extra
    ``PRAGMA name=value`` run on every new SQLite connection (tuning for one workload).

    Engines are made with ``hide_parameters=True``: a failed statement's message then
    never carries the bound values (predictions, join keys, anything a user logged) into
    logs and error messages.
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        busy = SQLITE_BUSY_TIMEOUT_MS / 1000 if timeout_s is None else timeout_s
        return _sqlite_engine(parsed, busy, dict(sqlite_pragmas or {}), **kwargs)
    connect_timeout = 10 if timeout_s is None else max(1, int(timeout_s))
    options: dict[str, Any] = {
        "hide_parameters": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "connect_args": {"connect_timeout": connect_timeout,
                         "application_name": application_name},
    }
    options.update(kwargs)
    return create_engine(parsed, **options)


def _create_file_privately(engine: Engine, path: Path) -> None:
    @event.listens_for(engine, "do_connect")
    def _create(*_args: Any) -> None:
        # right before SQLite would create a missing file with the umask's mode
        create_private_file(path)


def _sqlite_engine(url: URL, busy_s: float, pragmas: dict[str, int], **kwargs: Any) -> Engine:
    if url.database not in (None, "", ":memory:") and not str(url.database).startswith(
            "file:"):
        # a new database file is created owner-only (0600) on first connect, in owner-only
        # folders (0700) where they are missing; SQLite gives its -wal and -shm files the
        # mode of the database file. An existing file or folder keeps its mode
        # (lifecycle/files.py).
        path: Path | None = Path(str(url.database))
        make_private_dir(Path(str(url.database)).parent)
    else:
        path = None
    options: dict[str, Any] = {"connect_args": {"timeout": busy_s}, "hide_parameters": True}
    options.update(kwargs)
    engine = create_engine(url, **options)

    if path is not None:
        _create_file_privately(engine, path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if url.database not in (None, "", ":memory:"):
                # page_size first: it only takes effect on a file with nothing in it yet,
                # and setting WAL mode writes the file's header
                cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                page = int(cursor.execute("PRAGMA page_size").fetchone()[0])
                cursor.execute(
                    f"PRAGMA wal_autocheckpoint={max(1, SQLITE_CHECKPOINT_BYTES // page)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_s * 1000)}")
            for name, value in pragmas.items():
                cursor.execute(f"PRAGMA {name}={int(value)}")
        finally:
            cursor.close()

    return engine

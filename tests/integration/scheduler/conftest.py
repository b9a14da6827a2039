"""Fixtures for the scheduler integration tests: settings from TOML text, a local webhook,
and ``db_url`` overridden so that the PostgreSQL side reuses ONE migrated throwaway database
per session, emptied (TRUNCATE ... RESTART IDENTITY) before each test: creating and migrating
a database per test cost ~2 s each and dominated this area's run time."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # job functions are imported as tests.integration.scheduler.*
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from lifecycle.config import Settings, load_settings  # noqa: E402

JOBFNS = "tests.integration.scheduler.jobfns"


def _root_conftest() -> Any:
    spec = importlib.util.spec_from_file_location("_lc_root_conftest",
                                                  ROOT / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shared_pg_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole session (skips/fails like ``pg_url``)."""
    from lifecycle.storage.migrate import upgrade

    url, drop = _root_conftest().create_pg_database("lc_sched")
    try:
        upgrade(url)
        yield url
    finally:
        drop()


def _empty(url: str) -> None:
    from lifecycle.storage.tables import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS sched_test_runs"))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Real SQLite (fresh per test) and real PostgreSQL (shared, emptied per test)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("shared_pg_url"))
    _empty(url)
    return url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def factory(db_url: str, body: str = "", env: dict[str, str] | None = None) -> Settings:
        path = tmp_path / "lifecycle.toml"
        path.write_text(f'database_url = "{db_url}"\nhome = "{tmp_path / "home"}"\n{body}')
        return load_settings(path, env=env or {}, cwd=tmp_path)

    return factory


class Sink:
    """A local HTTP server that records JSON POSTs; ``statuses`` scripts the answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.location: str | None = None  # sent with a scripted 3xx answer
        self.delay_s = 0.0
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if sink.delay_s:
                    threading.Event().wait(sink.delay_s)
                with sink.lock:
                    status = sink.statuses.pop(0) if sink.statuses else 200
                    sink.received.append({"status": status, "path": self.path,
                                          "json": json.loads(body)})
                sink.arrived.set()
                self.send_response(status)
                if 300 <= status < 400 and sink.location:
                    self.send_header("Location", sink.location)
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self) -> None:  # noqa: N802 - what a followed 301/302/303 becomes
                with sink.lock:
                    sink.received.append({"status": 200, "path": self.path, "json": None,
                                          "method": "GET"})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0/s3cr3tTOKEN"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.close()

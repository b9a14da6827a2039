"""Fault tests: every one ends with the exact row count and no duplicate prediction id."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

import lifecycle
from lifecycle.capture import runtime
from lifecycle.storage.capture_repo import logged_keys

ROOT = Path(__file__).resolve().parents[3]


class TcpProxy:
    """A tiny TCP proxy on 127.0.0.1 that a test can cut and restore (threads)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.enabled = True
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.enabled:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.enabled = False
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.open.clear()

    def restore(self) -> None:
        self.enabled = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.mark.postgres
def test_postgres_outage_through_proxy(pg_url: str, capture_to: Callable[..., Any],
                                       engine_for: Callable[..., Any],
                                       count_rows: Callable[..., Any]) -> None:
    target = make_url(pg_url)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    try:
        proxied = target.set(port=proxy.port).render_as_string(hide_password=False)
        capture_to(proxied)
        fn = lifecycle.monitor("outage")(lambda x: 1.0)
        for i in range(30):
            fn([{"i": i, "j": k} for k in range(10)])
        assert lifecycle.flush(30)
        proxy.cut()
        for i in range(50):
            fn([{"i": i, "j": k} for k in range(10)])
        assert not lifecycle.flush(1.0)
        stats = lifecycle.stats()
        assert stats["degraded"] and stats["spilled"] == 500
        assert stats["errors_by_kind"]["database_unavailable"] >= 1
        proxy.restore()
        assert lifecycle.flush(60)
        stats = lifecycle.stats()
        assert stats["replayed"] == 500 and stats["written"] == 300
        assert count_rows(engine_for(pg_url), "outage") == (800, 800)
    finally:
        runtime.reset()
        proxy.close()


def test_sqlite_locked_then_released(sqlite_url: str, capture_to: Callable[..., Any],
                                     engine_for: Callable[..., Any],
                                     count_rows: Callable[..., Any]) -> None:
    capture_to(sqlite_url, db_timeout_s=0.2)
    fn = lifecycle.monitor("locked")(lambda x: 0)
    fn({"i": -1})
    assert lifecycle.flush(30)
    path = make_url(sqlite_url).database
    assert path is not None
    blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(200):
            fn({"i": i})
        assert not lifecycle.flush(1.0)
        assert lifecycle.stats()["spilled"] == 200
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert lifecycle.flush(60)
    assert lifecycle.stats()["replayed"] == 200
    assert count_rows(engine_for(sqlite_url), "locked") == (201, 201)


def test_full_queue_goes_to_spill(sqlite_url: str, capture_to: Callable[..., Any],
                                  engine_for: Callable[..., Any],
                                  count_rows: Callable[..., Any]) -> None:
    capture_to(sqlite_url, queue_size=20, batch_size=5)
    fn = lifecycle.monitor("full")(lambda x: 0)
    fn({"i": -1})
    assert lifecycle.flush(30)
    writer = runtime.writer_for(None)
    with writer._write_lock:  # the writer cannot write: the queue fills up
        for i in range(300):
            fn({"i": i})
        stats = lifecycle.stats()
        assert stats["overflow"] >= 300 - 20 - 5
        assert stats["spilled"] == stats["overflow"]
    assert lifecycle.flush(60)
    stats = lifecycle.stats()
    assert stats["logged"] == 301
    # an overflow is not an outage: what was queued is written directly, only the rows that
    # overflowed take the spill file, replayed once the queue is empty
    assert stats["spilled"] == stats["overflow"] == stats["replayed"]
    assert stats["written"] == 301 - stats["overflow"]
    assert not stats["degraded"] and stats["spill_pending_rows"] == 0
    assert count_rows(engine_for(sqlite_url), "full") == (301, 301)


_REPLAY_CHILD = """
import sys, time
from lifecycle.capture import runtime, writer as w
from lifecycle.capture.monitor import configure
original = w.Writer._write_group
def slow(self, batches):
    done = original(self, batches)
    print("W", flush=True)
    time.sleep(0.05)
    return done
w.Writer._write_group = slow
# replay groups of 20 rows: two spilled 10-row frames per transaction
configure(database_url=sys.argv[1], spill_dir=sys.argv[2], flush_interval_s=0.02,
          batch_size=20, handle_sigterm=False)
runtime.writer_for(None)
time.sleep(60)
"""


def test_crash_during_replay(sqlite_url: str, capture_to: Callable[..., Any],
                             tmp_path: Path, engine_for: Callable[..., Any],
                             count_rows: Callable[..., Any]) -> None:
    spill = capture_to(sqlite_url, db_timeout_s=0.1, batch_size=10)
    fn = lifecycle.monitor("replayed")(lambda x: 0)
    path = make_url(sqlite_url).database
    assert path is not None
    blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(400):
            fn({"i": i})
        runtime.shutdown()  # drains into the spill file (database locked)
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert count_rows(engine_for(sqlite_url), "replayed") == (0, 0)
    assert list(spill.glob("*.spill"))

    child = subprocess.Popen(
        [sys.executable, "-c", _REPLAY_CHILD, sqlite_url, str(spill)],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    for _ in range(5):  # let it replay a few groups, then kill it mid-replay
        assert child.stdout.readline().strip() == "W"
    child.kill()
    child.wait(30)
    partial = count_rows(engine_for(sqlite_url), "replayed")[0]
    assert 0 < partial < 400 and partial % 20 == 0  # whole groups only
    assert list(spill.glob("*.spill"))  # not deleted: replay was not complete

    capture_to(sqlite_url)  # a new writer finds the spill file and replays it again
    runtime.writer_for(None)
    assert lifecycle.flush(60)
    stats = lifecycle.stats()
    assert stats["duplicates_skipped"] == partial
    assert count_rows(engine_for(sqlite_url), "replayed") == (400, 400)
    assert not list(spill.glob("*.spill"))


_BURST_CHILD = """
import sys
import lifecycle
from lifecycle.capture.monitor import configure
configure(database_url=sys.argv[1], spill_dir=sys.argv[2], flush_interval_s=0.2)
fn = lifecycle.monitor("burst", id_column="i")(lambda x: 1)
i = 0
while True:
    fn({"i": i, "x": i * 0.5})
    i += 1
    if i == 3000:
        print("ready", flush=True)
"""


def test_sigterm_during_burst_keeps_every_row(sqlite_url: str, tmp_path: Path,
                                              capture_to: Callable[..., Any],
                                              engine_for: Callable[..., Any]) -> None:
    spill = tmp_path / "spill"
    child = subprocess.Popen(
        [sys.executable, "-c", _BURST_CHILD, sqlite_url, str(spill)],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    child.send_signal(signal.SIGTERM)
    assert child.wait(60) == -signal.SIGTERM
    # what the child could not write before dying is in its spill file: replay it here
    assert capture_to(sqlite_url) == spill
    runtime.writer_for(None)
    assert lifecycle.flush(60)
    with engine_for(sqlite_url).connect() as conn:
        keys = [int(k) for k in logged_keys(conn)]
    assert len(keys) >= 3000
    assert len(set(keys)) == len(keys)
    assert sorted(keys) == list(range(len(keys)))  # every call that returned is stored
    assert not list(spill.glob("*.spill"))

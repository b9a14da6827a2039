"""Files only the owner can read: LIFECYCLE_HOME, the SQLite database (and its -wal/-shm),
spill folders and files and ``rejected/`` are created 0700/0600 under a permissive umask."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.capture.writer import Writer
from lifecycle.config import CaptureSettings, load_settings
from lifecycle.storage.engine import make_engine
from lifecycle.storage.migrate import upgrade


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)  # files 0644 and folders 0755 unless lifecycle says otherwise
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _batch(n: int) -> object:
    spec = CaptureSpec(name="private")
    rec = (spec, np.arange(n * 2.0).reshape(n, 2), np.zeros(n), 1.7e9, 0.001, 7, "call", None)
    return encode(build_batch([rec], lambda kind, msg: None))


def test_home_and_sqlite_database_are_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "a" / "home"  # neither exists yet
    settings = load_settings(env={"LIFECYCLE_HOME": str(home)}, cwd=tmp_path)
    upgrade(settings.database_url)
    db = home / "lifecycle.db"
    assert _mode(tmp_path / "a") == 0o700 and _mode(home) == 0o700
    assert _mode(db) == 0o600
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:  # the WAL and shared-memory files exist while open
            conn.execute(text("INSERT INTO models (name, created_at, details) "
                              "VALUES ('m', '2025-01-01 00:00:00', '{}')"))
            assert _mode(Path(f"{db}-wal")) == 0o600
            assert _mode(Path(f"{db}-shm")) == 0o600
    finally:
        engine.dispose()


def test_existing_folder_and_database_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    db = shared / "chosen.db"
    sqlite3.connect(db).close()  # made by someone else, with the umask's 0644
    upgrade(f"sqlite:///{db}")
    assert _mode(shared) == 0o755 and _mode(db) == 0o644
    upgrade(f"sqlite:///{shared / 'new.db'}")  # a new file in a chosen folder: owner-only
    assert _mode(shared / "new.db") == 0o600


def test_spill_and_rejected_are_owner_only(sqlite_url: str, tmp_path: Path) -> None:
    spill = tmp_path / "deep" / "spill"
    writer = Writer(sqlite_url, CaptureSettings(), spill)
    try:
        writer._spill(_batch(3))  # type: ignore[arg-type]
        writer._reject(_batch(2), ValueError("refused"))  # type: ignore[arg-type]
        (spilled,) = spill.glob("*.spill")
        (rejected,) = (spill / "rejected").glob("*.spill")
        assert _mode(tmp_path / "deep") == _mode(spill) == 0o700
        assert _mode(spill / "rejected") == 0o700
        assert _mode(spilled) == _mode(rejected) == 0o600
        writer.spill.close()
        data = bytearray(spilled.read_bytes())
        data[len(data) // 2] ^= 0xFF  # unreadable bytes, copied to rejected/ by replay
        spilled.write_bytes(bytes(data))
        assert writer.flush(30)
    finally:
        writer.close()
    (unreadable,) = (spill / "rejected").glob("*.unreadable")
    assert _mode(unreadable) == 0o600
    assert not list(spill.glob("*.spill"))

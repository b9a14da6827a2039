"""The writer thread hands the GIL over between the steps of a batch; callers never wait.

Real SQLite and PostgreSQL, the real writer thread: every batch it writes sleeps
``HANDOFF_S`` after building, after encoding and after each statement, and a ``durable=True``
write on the caller's thread (which encodes and writes the same way) does not sleep.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from lifecycle.capture import writer as writer_module
from lifecycle.capture.records import CaptureSpec
from lifecycle.capture.writer import Writer
from lifecycle.config import CaptureSettings
from lifecycle.storage.engine import make_engine

WALL = 1_772_359_200.0  # 2026-03-01 10:00 UTC


def _record(spec: CaptureSpec, rows: int, seed: int) -> tuple:
    x = np.random.default_rng(seed).normal(size=(rows, 4))
    return (spec, x, np.tile([0.3, 0.7], (rows, 1)), WALL + seed, 0.002, seed, "predict_proba",
            None)


@pytest.fixture
def handoffs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    seen: list[tuple[str, float]] = []

    def sleep(seconds: float) -> None:
        seen.append((threading.current_thread().name, seconds))

    monkeypatch.setattr(writer_module, "_sleep", sleep)
    return seen


def _stored(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT COALESCE(SUM(n_rows), 0) FROM prediction_batches"))
        total = int(n.scalar_one())
    engine.dispose()
    return total


def test_the_writer_thread_hands_off_between_steps(db_url: str, tmp_path: Path,
                                                   handoffs: list[tuple[str, float]]) -> None:
    spec = CaptureSpec(name="handoff", role="unmanaged")
    writer = Writer(db_url, CaptureSettings(batch_size=1_000), tmp_path)
    writer.start()
    try:
        for seed in range(3):  # 3 x 1,000 rows: three batches of one model
            writer.submit(_record(spec, 1_000, seed))
        assert writer.flush(30)
    finally:
        writer.close(10)
    assert _stored(db_url) == 3_000
    # per batch: after build, after encode, after the batch row, the keys, the traffic
    assert handoffs == [("lifecycle-capture-writer", writer_module.HANDOFF_S)] * 15


def test_a_durable_write_on_the_callers_thread_does_not_sleep(
        db_url: str, tmp_path: Path, handoffs: list[tuple[str, float]]) -> None:
    spec = CaptureSpec(name="handoff", role="unmanaged", durable=True)
    writer = Writer(db_url, CaptureSettings(), tmp_path)
    writer.start()
    try:
        writer.write_sync(_record(spec, 500, 7))
        assert _stored(db_url) == 500
    finally:
        writer.close(10)
    assert handoffs == []

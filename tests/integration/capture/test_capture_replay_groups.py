"""Replay writes several spilled batches per transaction; a refused batch is isolated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import text

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.capture.spill import SpillWriter, spill_files
from lifecycle.capture.writer import Writer
from lifecycle.config import CaptureSettings
from lifecycle.storage.capture_repo import StoredBatch, logged_keys
from lifecycle.storage.codec import encode_table
from lifecycle.storage.engine import make_engine


def _batch(n: int, model: str = "grouped") -> StoredBatch:
    spec = CaptureSpec(name=model)
    rec = (spec, np.arange(n * 2.0).reshape(n, 2), np.zeros(n), 1.7e9, 0.001, 7, "call", None)
    return encode(build_batch([rec], lambda kind, msg: None))


def _refused(n: int) -> StoredBatch:
    """A batch PostgreSQL refuses for its content: a join key longer than the column."""
    batch = _batch(n)
    outputs = batch.outputs()
    idx = outputs.column_names.index("_join_key")
    outputs = outputs.set_column(idx, "_join_key", pa.array(["k" * 300] * n))
    batch.outputs_table, batch.outputs_blob = outputs, encode_table(outputs)
    return batch


@pytest.mark.postgres
def test_group_with_a_refused_batch_writes_the_others(pg_url: str, tmp_path: Path) -> None:
    writer = Writer(pg_url, CaptureSettings(batch_size=100), tmp_path)
    good = [_batch(10), _batch(20), _batch(30, model="other")]
    bad = _refused(5)
    try:
        assert writer._write_group([good[0], bad, good[1], good[2]]) == [True] * 4
        # the same group again: every good batch is already there (idempotent)
        assert writer._write_group(good) == [False, False, False]
    finally:
        writer.close()
    snap = writer.snapshot()
    assert snap["rejected"] == 5
    assert list((tmp_path / "rejected").glob("*.spill"))
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT SUM(n_rows) FROM prediction_batches")).scalar()
        keys = len(logged_keys(conn))
    engine.dispose()
    assert stored == keys == 60


def test_replay_groups_frames_into_few_transactions(sqlite_url: str, tmp_path: Path) -> None:
    spill = SpillWriter(tmp_path, Writer(sqlite_url, CaptureSettings(), tmp_path).tag)
    frames = [_batch(1_000) for _ in range(25)]
    for frame in frames:
        spill.append(frame)
    spill.close()
    writer = Writer(sqlite_url, CaptureSettings(batch_size=10_000), tmp_path)
    groups: list[int] = []
    original = writer._write_group

    def counting(batches: list[StoredBatch]) -> list[bool]:
        groups.append(len(batches))
        return original(batches)

    writer._write_group = counting  # type: ignore[method-assign]
    try:
        assert writer.flush(30)  # degraded at start (spill files exist): replays them
    finally:
        writer.close()
    assert groups == [10, 10, 5]
    assert writer.snapshot()["replayed"] == 25_000
    assert not spill_files(tmp_path, writer.tag)


def test_group_mixing_models_and_present_batches(db_url: str, tmp_path: Path) -> None:
    writer = Writer(db_url, CaptureSettings(batch_size=100), tmp_path)
    first, again = _batch(10), _batch(20, model="other")
    try:
        assert writer._write_group([first]) == [True]
        fresh = [_batch(5), _batch(7, model="other")]
        assert writer._write_group([first, fresh[0], again, fresh[1]]) == [False, True,
                                                                             True, True]
        assert writer._write_group([again, *fresh]) == [False, False, False]
    finally:
        writer.close()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        per_model = {name: len(logged_keys(conn, model_id)) for model_id, name in
                     conn.execute(text("SELECT id, name FROM models")).all()}
        traffic = dict(conn.execute(text(
            "SELECT m.name, SUM(t.n_predictions) FROM traffic_hourly t "
            "JOIN models m ON m.id = t.model_id GROUP BY m.name")).all())
    engine.dispose()
    assert per_model == {"grouped": 15, "other": 27}
    assert {k: int(v) for k, v in traffic.items()} == {"grouped": 15, "other": 27}

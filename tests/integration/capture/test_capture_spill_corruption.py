"""Replay never loses silently: a damaged spill frame costs that frame only.

A spill file of six frames is damaged in one place (a flipped byte in the middle of a frame's
blobs, in a length field, in the CRC, in the magic; a torn tail), then replayed by a real
writer into SQLite: every other frame lands exactly once, the unreadable bytes are in
``rejected/``, ``lifecycle.stats()`` counts them and a log line says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

import lifecycle
from lifecycle.capture import runtime
from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.capture.spill import SpillWriter, spill_files, url_tag
from lifecycle.storage.capture_repo import StoredBatch

ROWS = (3, 5, 7, 11, 13, 17)  # rows per frame: any lost or doubled frame shows in the sum
DAMAGED = 2


def _batch(n: int, seed: int) -> StoredBatch:
    spec = CaptureSpec(name="spilled")
    rng = np.random.default_rng(seed)
    rec = (spec, rng.normal(size=(n, 3)), rng.integers(0, 2, n), 1.7e9 + seed, 0.001,
           1000 + seed, "call", None)
    return encode(build_batch([rec], lambda kind, msg: None))


def _spill_file(folder: Path, url: str) -> tuple[Path, list[StoredBatch], list[int]]:
    """Six frames in one spill file; returns the file, the batches and frame offsets."""
    batches = [_batch(n, seed) for seed, n in enumerate(ROWS)]
    writer = SpillWriter(folder, url_tag(url))
    offsets = []
    for batch in batches:
        offsets.append(writer.path.stat().st_size if writer.path else 0)
        writer.append(batch)
    path = writer.path
    assert path is not None
    writer.close()
    offsets.append(path.stat().st_size)
    return path, batches, offsets


def _stored_batch_ids(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM prediction_batches")).scalars())


# where in frame DAMAGED the byte is flipped: (name, offset from the frame's start or None
# for the middle of the frame)
PLACES = [("middle", None), ("magic", 1), ("header_length", 4), ("inputs_length", 9),
          ("crc", 25), ("json_header", 30)]


@pytest.mark.parametrize(("place", "at"), PLACES, ids=[p for p, _ in PLACES])
def test_a_flipped_byte_costs_one_frame_only(
        place: str, at: int | None, sqlite_url: str, capture_to: Callable[..., Path],
        engine_for: Callable[..., Any], count_rows: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lifecycle.capture")
    spill = capture_to(sqlite_url)
    path, batches, offsets = _spill_file(spill, sqlite_url)
    start, end = offsets[DAMAGED], offsets[DAMAGED + 1]
    pos = start + (at if at is not None else (end - start) // 2)
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x5A
    path.write_bytes(bytes(data))
    damaged = bytes(data[start:end])

    runtime.writer_for(None)
    assert lifecycle.flush(60)

    engine = engine_for(sqlite_url)
    expected = sum(n for i, n in enumerate(ROWS) if i != DAMAGED)
    assert count_rows(engine, "spilled") == (expected, expected)  # each frame exactly once
    assert sorted(_stored_batch_ids(engine)) == sorted(
        b.batch_id for i, b in enumerate(batches) if i != DAMAGED)
    assert not spill_files(spill, url_tag(sqlite_url))  # replayed, then deleted
    (saved,) = (spill / "rejected").glob("*.unreadable")
    assert saved.name == f"{path.name}.{start:012d}.unreadable"
    assert saved.read_bytes() == damaged  # exactly the damaged frame, nothing more
    stats = lifecycle.stats()
    assert stats["errors_by_kind"].get("spill_corrupt") == 1
    assert stats["replayed"] == expected
    assert f"{len(damaged)} bytes at offset {start} could not be replayed" in caplog.text
    assert "[spill_corrupt]" in caplog.text


def test_two_damaged_frames_and_a_torn_tail(
        sqlite_url: str, capture_to: Callable[..., Path], engine_for: Callable[..., Any],
        count_rows: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lifecycle.capture")
    spill = capture_to(sqlite_url)
    path, _, offsets = _spill_file(spill, sqlite_url)
    data = bytearray(path.read_bytes())
    for frame in (0, 3):  # the first frame too: nothing before it to synchronise on
        data[(offsets[frame] + offsets[frame + 1]) // 2] ^= 0x01
    tail = offsets[5] + (offsets[6] - offsets[5]) // 3  # the last frame cut short
    path.write_bytes(bytes(data[:tail]))

    runtime.writer_for(None)
    assert lifecycle.flush(60)
    expected = ROWS[1] + ROWS[2] + ROWS[4]
    assert count_rows(engine_for(sqlite_url), "spilled") == (expected, expected)
    saved = sorted((spill / "rejected").glob("*.unreadable"))
    assert [p.name.split(".")[-2] for p in saved] == [
        f"{offsets[0]:012d}", f"{offsets[3]:012d}", f"{offsets[5]:012d}"]
    assert saved[2].read_bytes() == bytes(data[offsets[5]:tail])
    kinds = lifecycle.stats()["errors_by_kind"]
    assert kinds.get("spill_corrupt") == 2 and kinds.get("spill_torn_tail") == 1
    assert "[spill_torn_tail]" in caplog.text and "cut short" in caplog.text


def test_a_torn_tail_alone_still_replays_the_rest(
        sqlite_url: str, capture_to: Callable[..., Path], engine_for: Callable[..., Any],
        count_rows: Callable[..., Any]) -> None:
    spill = capture_to(sqlite_url)
    path, _, offsets = _spill_file(spill, sqlite_url)
    with open(path, "ab") as fh:  # a crash while appending: a header and no more
        fh.write(b"LCS1\x10\x00")
    runtime.writer_for(None)
    assert lifecycle.flush(60)
    assert count_rows(engine_for(sqlite_url), "spilled") == (sum(ROWS), sum(ROWS))
    (saved,) = (spill / "rejected").glob("*.unreadable")
    assert saved.read_bytes() == b"LCS1\x10\x00"
    assert saved.name.endswith(f".{offsets[-1]:012d}.unreadable")
    kinds = lifecycle.stats()["errors_by_kind"]
    assert kinds == {"spill_torn_tail": 1}

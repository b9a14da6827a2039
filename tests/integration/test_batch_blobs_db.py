"""The batch blobs as stored on SQLite and PostgreSQL: exactly the encoded bytes (a
multi-megabyte blob over many of SQLite's 64 KiB pages, and a tiny one), a replay of the same
batch id leaves them alone, and a transaction that fails after the write keeps nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sqlalchemy import Engine, select

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.storage.capture_repo import StoredBatch, model_id_for, write_batches
from lifecycle.storage.tables import PredictionBatch

WALL = 1_772_359_200.0  # 2026-03-01 10:00 UTC


def _fail(kind: str, message: str) -> None:
    raise AssertionError(f"{kind}: {message}")


def _batch(batch_id: str, rows: int, seed: int) -> StoredBatch:
    spec = CaptureSpec(name="blobs", role="champion")
    x = np.random.default_rng(seed).normal(size=(rows, 20))
    record = (spec, x, np.tile([0.3, 0.7], (rows, 1)), WALL, 0.002, seed, "predict_proba", None)
    return encode(build_batch([record], _fail), batch_id)


def _stored(engine: Engine) -> dict[str, tuple[bytes, bytes | None]]:
    t = PredictionBatch
    with engine.connect() as conn:
        return {row.id: (bytes(row.inputs), None if row.outputs is None else bytes(row.outputs))
                for row in conn.execute(select(t.id, t.inputs, t.outputs))}


def test_stored_blobs_are_the_encoded_bytes(engine: Engine) -> None:
    # a 10,000-row blob spans many pages; a one-row blob fits in the row
    big, small = _batch("a" * 32, 10_000, 1), _batch("b" * 32, 1, 2)
    assert len(big.inputs_blob) > 1_000_000
    with engine.begin() as conn:
        model_id = model_id_for(conn, "blobs")
        assert write_batches(conn, [(model_id, big), (model_id, small)]) == [True, True]
    expected = {b.batch_id: (b.inputs_blob, b.outputs_blob) for b in (big, small)}
    assert _stored(engine) == expected
    # a replay of the same id with other bytes writes nothing: the first bytes stay
    other = dataclasses.replace(_batch("a" * 32, 10_000, 3), batch_id=big.batch_id)
    assert other.inputs_blob != big.inputs_blob
    with engine.begin() as conn:
        assert write_batches(conn, [(model_id, other)]) == [False]
    assert _stored(engine) == expected


def test_a_failed_transaction_keeps_no_blob(engine: Engine) -> None:
    batch = _batch("c" * 32, 5_000, 4)
    with engine.begin() as conn:
        model_id = model_id_for(conn, "blobs")
    with pytest.raises(RuntimeError, match="after the write"), engine.begin() as conn:
        assert write_batches(conn, [(model_id, batch)]) == [True]
        raise RuntimeError("after the write")
    assert _stored(engine) == {}
    with engine.begin() as conn:  # and the same batch can then be written whole
        assert write_batches(conn, [(model_id, batch)]) == [True]
    assert _stored(engine) == {batch.batch_id: (batch.inputs_blob, batch.outputs_blob)}

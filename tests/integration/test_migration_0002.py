"""Revision 0002 moves per-row predictions into the batch blobs and back, losing nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import Engine, inspect, text

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec, ids_of
from lifecycle.storage.migrate import downgrade, upgrade


def _fail(kind: str, message: str) -> None:
    raise AssertionError(f"{kind}: {message}")


def test_upgrade_keeps_keys_and_downgrade_refills_predictions(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    spec = CaptureSpec(name="m", version="7", role="champion")
    wall = datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC).timestamp()
    records = [
        (spec, np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.3, 0.7], [0.9, 0.1]]), wall,
         0.002, 11, "predict_proba", None),
        (spec, np.array([[5.0, 6.0]]), np.array([[0.4, 0.6]]), wall + 1, 0.003, 12,
         "predict_proba", "req-9"),
    ]
    batch = encode(build_batch(records, _fail))
    ids = ids_of(records[0]) + ids_of(records[1])
    engine = engine_for(blank_url)
    upgrade(blank_url, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO models (id, name, created_at, details) "
                          "VALUES (1, 'm', :now, '{}')"), {"now": datetime.now(UTC)})
        conn.execute(text(
            "INSERT INTO prediction_batches (id, model_id, created_at, ts_min, ts_max, n_rows,"
            " format, inputs, outputs) VALUES (:id, 1, :now, :now, :now, 3, 'v1', :i, :o)"),
            {"id": batch.batch_id, "now": datetime.now(UTC), "i": batch.inputs_blob,
             "o": batch.outputs_blob})
        for i, pid in enumerate(ids):
            conn.execute(text(
                "INSERT INTO predictions (prediction_id, model_id, role, join_key, ts, "
                "batch_id, row_index) VALUES (:p, 1, 'champion', :p, :ts, :b, :i)"),
                {"p": pid, "ts": datetime.now(UTC), "b": batch.batch_id, "i": i})

    upgrade(blank_url)
    engine.dispose()
    assert "predictions" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT join_key FROM prediction_keys ORDER BY join_key"))
        assert [k for (k,) in keys] == sorted(ids)

    downgrade(blank_url, "0001")
    engine.dispose()
    assert "prediction_keys" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT prediction_id, join_key, role, model_version, request_id, row_index, "
            "latency_ms, output_value, output_label, batch_id FROM predictions "
            "ORDER BY row_index")).all()
        stamps = [r[0] for r in conn.execute(text(
            "SELECT ts FROM predictions ORDER BY row_index"))]
    assert [tuple(r) for r in rows] == [
        (ids[0], ids[0], "champion", "7", None, 0, pytest.approx(2.0), pytest.approx(0.7),
         "1", batch.batch_id),
        (ids[1], ids[1], "champion", "7", None, 1, pytest.approx(2.0), pytest.approx(0.1),
         "0", batch.batch_id),
        (ids[2], ids[2], "champion", "7", "req-9", 2, pytest.approx(3.0), pytest.approx(0.6),
         "1", batch.batch_id),
    ]
    first = stamps[0] if isinstance(stamps[0], datetime) else datetime.fromisoformat(stamps[0])
    assert first.replace(tzinfo=first.tzinfo or UTC) == datetime.fromtimestamp(wall, UTC)


@pytest.mark.postgres
def test_postgres_key_collation_and_blob_storage(
    empty_pg_url: str, engine_for: Callable[[str], Engine]
) -> None:
    """Keys compare byte by byte; zstd blobs are not compressed a second time by TOAST."""
    upgrade(empty_pg_url)
    engine = engine_for(empty_pg_url)

    def facts() -> dict[str, tuple[str | None, str]]:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT c.relname || '.' || a.attname, co.collname, a.attstorage "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0 "
                "WHERE c.relname IN ('prediction_keys', 'outcomes', 'prediction_batches') "
                "AND a.attname IN ('join_key', 'inputs', 'outputs')")).all()
        return {name: (coll, storage) for name, coll, storage in rows}

    assert facts() == {"prediction_keys.join_key": ("C", "x"),
                       "outcomes.join_key": ("C", "x"),
                       "prediction_batches.inputs": (None, "e"),
                       "prediction_batches.outputs": (None, "e")}
    downgrade(empty_pg_url, "0001")
    engine.dispose()
    assert facts() == {"outcomes.join_key": ("default", "x"),
                       "prediction_batches.inputs": (None, "x"),
                       "prediction_batches.outputs": (None, "x")}

"""Bulk writes of the capture layer: one writer batch per transaction, and outcome upserts.

A batch is written in ONE transaction: its ``prediction_batches`` row, its ``predictions``
rows (SQLite: DBAPI ``executemany``; PostgreSQL: ``COPY ... FROM STDIN``) and the
``traffic_hourly`` upserts. The batch row is inserted first with ``ON CONFLICT DO NOTHING``:
when the batch id already exists (a spilled batch replayed twice) nothing else is written,
so replay is idempotent.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv
from sqlalchemy import Connection, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifecycle.storage.codec import FORMAT
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import Outcome, PredictionBatch, TrafficHourly
from lifecycle.storage.types import utcnow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US = 3_600_000_000

PREDICTION_COLUMNS = (
    "prediction_id", "model_id", "model_version", "role", "join_key", "request_id", "ts",
    "batch_id", "row_index", "latency_ms", "output_value", "output_label",
)


@dataclass
class StoredBatch:
    """One writer batch as stored (and as spilled): blobs plus what the batch row needs."""

    batch_id: str
    model: str
    n_rows: int
    ts_min_us: int
    ts_max_us: int
    inputs_blob: bytes
    outputs_blob: bytes
    request_ids: list[str | None] | None = None
    outputs_table: Any = None  # decoded outputs, kept in memory to avoid a decode


def us_to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def model_id_for(conn: Connection, name: str) -> int:
    """Id of model ``name``, created if missing."""
    with Session(bind=conn) as session:
        return int(get_or_create_model(session, name).id)


def write_batch(conn: Connection, model_id: int, batch: StoredBatch, rows: pa.Table) -> bool:
    """Write ``batch`` inside the caller's transaction; False when it already exists.

    ``rows`` has one row per prediction: prediction_id, join_key, ts (timestamp[us, UTC]),
    role, model_version, latency_ms, output_value, output_label, request_id.
    """
    insert = _insert(conn)
    stmt = insert(PredictionBatch).values(
        id=batch.batch_id, model_id=model_id, created_at=utcnow(),
        ts_min=us_to_datetime(batch.ts_min_us), ts_max=us_to_datetime(batch.ts_max_us),
        n_rows=batch.n_rows, format=FORMAT, inputs=batch.inputs_blob,
        outputs=batch.outputs_blob,
    ).on_conflict_do_nothing(index_elements=["id"])
    if conn.execute(stmt).rowcount == 0:
        return False
    table = _prediction_table(model_id, batch.batch_id, rows)
    if conn.dialect.name == "postgresql":
        _copy_predictions(conn, table)
    else:
        _executemany_predictions(conn, table)
    _upsert_traffic(conn, model_id, rows)
    return True


def _prediction_table(model_id: int, batch_id: str, rows: pa.Table) -> pa.Table:
    n = rows.num_rows
    return pa.table({
        "prediction_id": rows.column("prediction_id"),
        "model_id": pa.repeat(pa.scalar(model_id, pa.int64()), n),
        "model_version": rows.column("model_version"),
        "role": rows.column("role"),
        "join_key": rows.column("join_key"),
        "request_id": rows.column("request_id"),
        # SQLAlchemy's SQLite DATETIME text format; PostgreSQL parses it as UTC below
        "ts": pc.strftime(rows.column("ts"), format="%Y-%m-%d %H:%M:%S"),
        "batch_id": pa.repeat(pa.scalar(batch_id, pa.string()), n),
        "row_index": pa.array(np.arange(n, dtype=np.int64)),
        "latency_ms": rows.column("latency_ms"),
        "output_value": rows.column("output_value"),
        "output_label": rows.column("output_label"),
    })


def _executemany_predictions(conn: Connection, table: pa.Table) -> None:
    sql = (f"INSERT INTO predictions ({', '.join(PREDICTION_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(PREDICTION_COLUMNS))})")
    columns = [table.column(name).to_pylist() for name in PREDICTION_COLUMNS]
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _copy_predictions(conn: Connection, table: pa.Table) -> None:
    """``COPY ... FROM STDIN (FORMAT csv)`` fed by Arrow's CSV writer (no per-row Python)."""
    sink = io.BytesIO()
    csv.write_csv(table, sink, csv.WriteOptions(include_header=False))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute("SET LOCAL timezone = 'UTC'")
        with cur.copy(f"COPY predictions ({', '.join(PREDICTION_COLUMNS)}) "
                      "FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(sink.getvalue())


def _upsert_traffic(conn: Connection, model_id: int, rows: pa.Table) -> None:
    ts = rows.column("ts").cast(pa.int64()).to_numpy()
    bucket = ts - ts % _HOUR_US
    grouped = pa.table({
        "bucket": bucket,
        "role": rows.column("role"),
        "version": pc.fill_null(rows.column("model_version"), ""),
        "latency": pc.fill_null(rows.column("latency_ms"), 0.0),
    }).group_by(["bucket", "role", "version"]).aggregate(
        [("latency", "count"), ("latency", "sum"), ("latency", "max")]
    )
    insert = _insert(conn)
    greatest = func.greatest if conn.dialect.name == "postgresql" else func.max
    for item in grouped.to_pylist():
        stmt = insert(TrafficHourly).values(
            model_id=model_id, bucket_start=us_to_datetime(item["bucket"]),
            role=item["role"], model_version=item["version"],
            n_predictions=int(item["latency_count"]),
            latency_sum_ms=float(item["latency_sum"]),
            latency_max_ms=float(item["latency_max"]),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["model_id", "bucket_start", "role", "model_version"],
            set_={
                "n_predictions": TrafficHourly.n_predictions + stmt.excluded.n_predictions,
                "latency_sum_ms": TrafficHourly.latency_sum_ms + stmt.excluded.latency_sum_ms,
                "latency_max_ms": greatest(TrafficHourly.latency_max_ms,
                                           stmt.excluded.latency_max_ms),
            },
        )
        conn.execute(stmt)


@dataclass(frozen=True)
class OutcomeRow:
    join_key: str
    label: str  # JSON text
    label_value: float | None
    ts: datetime


def upsert_outcomes(conn: Connection, model_id: int, items: Sequence[OutcomeRow],
                    received_at: datetime | None = None) -> int:
    """Insert or replace outcomes by ``(model_id, join_key)``: the latest received wins.

    Each replacement increments ``revisions``; a key repeated inside ``items`` counts as
    replacements too (the last occurrence is kept). Returns the number of distinct keys.
    """
    last: dict[str, OutcomeRow] = {}
    seen: dict[str, int] = defaultdict(int)
    for item in items:
        last[item.join_key] = item
        seen[item.join_key] += 1
    if not last:
        return 0
    now = received_at if received_at is not None else utcnow()
    values = [
        {"model_id": model_id, "join_key": key, "label": row.label,
         "label_value": row.label_value, "ts": row.ts, "received_at": now,
         "revisions": seen[key] - 1}
        for key, row in last.items()
    ]
    insert = _insert(conn)
    stmt = insert(Outcome)
    stmt = stmt.on_conflict_do_update(
        index_elements=["model_id", "join_key"],
        set_={
            "label": stmt.excluded.label,
            "label_value": stmt.excluded.label_value,
            "ts": stmt.excluded.ts,
            "received_at": stmt.excluded.received_at,
            "revisions": Outcome.revisions + stmt.excluded.revisions + 1,
        },
    )
    for start in range(0, len(values), 5000):
        conn.execute(stmt, values[start:start + 5000])
    return len(values)

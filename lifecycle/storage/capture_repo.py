"""Bulk writes of the capture layer: one writer batch per transaction, and outcome upserts.

A batch is written in ONE transaction: its ``prediction_batches`` row (the blobs hold every
stored field of every prediction), its join keys in ``prediction_keys`` (as ranges: one row
per call for the ids lifecycle assigns, one per key otherwise, see ``key_ranges.py``; SQLite:
``INSERT ... SELECT`` over ``json_each``; PostgreSQL: ``COPY ... FROM STDIN``) and the
``traffic_hourly`` upserts. The
batch row is inserted first with ``ON CONFLICT DO NOTHING``: when the batch id already exists
(a spilled batch replayed twice) nothing else is written, so replay is idempotent.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv
from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifecycle.storage.codec import FORMAT, decode_table
from lifecycle.storage.key_ranges import (
    ID_LENGTH,
    expand,
    key_ranges,
    string_array,
    string_offsets,
)
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import (
    ModelRow,
    Outcome,
    PredictionBatch,
    TrafficHourly,
    prediction_keys,
)
from lifecycle.storage.types import utcnow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US = 3_600_000_000


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
    outputs_table: pa.Table | None = None  # decoded outputs, kept in memory to avoid a decode

    def outputs(self) -> pa.Table:
        """The outputs table (output columns + meta columns), decoded once if needed."""
        if self.outputs_table is None:
            self.outputs_table = decode_table(self.outputs_blob)
        return self.outputs_table


def us_to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def model_id_for(conn: Connection, name: str) -> int:
    """Id of model ``name``, created if missing."""
    with Session(bind=conn) as session:
        return int(get_or_create_model(session, name).id)


def existing_model_id(conn: Connection, name: str) -> int | None:
    """Id of model ``name``, or None when no such model exists (nothing is created)."""
    found = conn.execute(select(ModelRow.id).where(ModelRow.name == name)).scalar()
    return None if found is None else int(found)


def merge_model_details(conn: Connection, model_id: int, values: dict[str, Any]) -> None:
    """Set ``values`` in the model's ``details`` JSON inside the caller's transaction; other
    keys are kept (the row is locked while read and written on PostgreSQL)."""
    current = conn.execute(select(ModelRow.details).where(ModelRow.id == model_id)
                           .with_for_update()).scalar()
    merged = {**(current or {}), **values}
    conn.execute(update(ModelRow).where(ModelRow.id == model_id).values(details=merged))


def write_batch(conn: Connection, model_id: int, batch: StoredBatch) -> bool:
    """Write ``batch`` inside the caller's transaction; False when it already exists."""
    return write_batches(conn, [(model_id, batch)])[0]


_KEY_META = ("_join_key", "_ts", "_role", "_model_version", "_latency_ms", "_prediction_id")


def _no_pause() -> None:
    return None


def write_batches(conn: Connection, items: Sequence[tuple[int, StoredBatch]], *,
                  between: Callable[[], None] = _no_pause) -> list[bool]:
    """Write several ``(model_id, batch)`` in the caller's transaction; per batch, False when
    it already exists. The keys and traffic of all new batches of a model go in one
    statement each (replay hands over groups of small spilled frames). ``between`` is called
    after each statement (the capture writer lets serving threads have the GIL there)."""
    insert = _insert(conn)
    written: list[bool] = []
    new: dict[int, list[pa.Table]] = defaultdict(list)
    for model_id, batch in items:
        stmt = insert(PredictionBatch).values(
            id=batch.batch_id, model_id=model_id, created_at=utcnow(),
            ts_min=us_to_datetime(batch.ts_min_us), ts_max=us_to_datetime(batch.ts_max_us),
            n_rows=batch.n_rows, format=FORMAT, inputs=batch.inputs_blob,
            outputs=batch.outputs_blob,
        ).on_conflict_do_nothing(index_elements=["id"]).returning(PredictionBatch.id)
        # RETURNING, not rowcount: psycopg reports rowcount -1 for this statement, which
        # once made a replayed batch look new and write its keys and traffic a second time
        is_new = conn.execute(stmt).first() is not None
        between()
        written.append(is_new)
        if is_new:
            new[model_id].append(batch.outputs().select(list(_KEY_META)))
    for model_id, tables in new.items():
        meta = (tables[0] if len(tables) == 1
                else pa.concat_tables(tables, promote_options="permissive"))
        starts, lasts = key_ranges(meta.column("_join_key"))
        if conn.dialect.name == "postgresql":
            _copy_keys(conn, model_id, starts, lasts)
        else:
            _insert_keys(conn, model_id, starts, lasts)
        between()
        _upsert_traffic(conn, model_id, meta)
        between()
    return written


def _insert_keys(conn: Connection, model_id: int, starts: pa.StringArray,
                 lasts: pa.StringArray) -> None:
    """SQLite: points in one statement and ranges in another, each reading one JSON text
    with ``json_each`` (2.5x cheaper than ``executemany``)."""
    is_range = pc.is_valid(lasts)
    points = starts.filter(pc.invert(is_range))
    if len(points):
        conn.exec_driver_sql(
            "INSERT INTO prediction_keys (model_id, join_key) SELECT ?, value FROM json_each(?)",
            (model_id, keys_json(points)),
        )
    if len(points) < len(starts):
        firsts, ends = starts.filter(is_range), lasts.filter(is_range)
        if _needs_escape(firsts):  # ``id_column`` values that look like consecutive ids
            pairs_json = json.dumps([list(p) for p in zip(firsts.to_pylist(), ends.to_pylist(),
                                                          strict=True)])
        else:  # a range end shares its start's prefix and ends in hex digits
            pairs = pc.binary_join_element_wise(firsts, ends, '","')
            pairs_json = '[["' + _join(pairs, '"],["') + '"]]'
        conn.exec_driver_sql(
            "INSERT INTO prediction_keys (model_id, join_key, last_key) "
            "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]') "
            "FROM json_each(?)",
            (model_id, pairs_json),
        )


def logged_keys(conn: Connection, model_id: int | None = None) -> list[str]:
    """Every join key stored in ``prediction_keys`` (ranges expanded; a key logged twice
    appears twice), optionally of one model. For checks and tools: it reads every key row."""
    stmt = select(prediction_keys.c.join_key, prediction_keys.c.last_key)
    if model_id is not None:
        stmt = stmt.where(prediction_keys.c.model_id == model_id)
    return [key for first, last in conn.execute(stmt) for key in expand(first, last)]


def keys_json(keys: pa.Array | pa.ChunkedArray) -> str:
    """The keys as a JSON array of strings, built by Arrow (``json.dumps`` of the Python list
    cost ~3 ms per 10,000 keys, all of it holding the GIL the caller's threads need).

    Keys with a quote, a backslash or a control character (possible in ``id_column`` values)
    take ``json.dumps``, which escapes them."""
    arr = string_array(keys)
    if len(arr) == 0:
        return "[]"
    if arr.null_count or _needs_escape(arr):
        return json.dumps(arr.to_pylist())
    return '["' + _join(arr, '","') + '"]'


def _join(arr: pa.StringArray, separator: str) -> str:
    lists = pa.ListArray.from_arrays(pa.array([0, len(arr)], pa.int32()), arr)
    return str(pc.binary_join(lists, separator)[0].as_py())


def _needs_escape(arr: pa.StringArray) -> bool:
    offsets = string_offsets(arr)
    data = arr.buffers()[2]
    if data is None:  # only empty strings
        return False
    text = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]
    return bool(((text < 0x20) | (text == 0x22) | (text == 0x5C)).any())


def _copy_keys(conn: Connection, model_id: int, starts: pa.StringArray,
               lasts: pa.StringArray) -> None:
    """``COPY ... FROM STDIN (FORMAT csv)`` fed by Arrow's CSV writer (no per-row Python;
    a null ``last_key`` is written as an unquoted empty field, which CSV reads as NULL)."""
    table = pa.table({"model_id": pa.repeat(pa.scalar(model_id, pa.int64()), len(starts)),
                      "join_key": starts, "last_key": lasts})
    sink = io.BytesIO()
    csv.write_csv(table, sink, csv.WriteOptions(include_header=False))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(
        "COPY prediction_keys (model_id, join_key, last_key) FROM STDIN WITH (FORMAT csv)"
    ) as copy:
        copy.write(sink.getvalue())


def _upsert_traffic(conn: Connection, model_id: int, outputs: pa.Table) -> None:
    """Add the batch's rows to ``traffic_hourly`` (count, latency sum and max per hour, role
    and version; and the calls with their latency counted once each, see
    :func:`call_starts`): one pre-built upsert, executed once per group."""
    ts = outputs.column("_ts").cast(pa.int64()).to_numpy()
    bucket = ts - ts % _HOUR_US
    role = outputs.column("_role")
    version = pc.fill_null(outputs.column("_model_version").cast(pa.string()), "")
    latency = pc.fill_null(outputs.column("_latency_ms").cast(pa.float64()), 0.0)
    lat = latency.to_numpy()
    starts = call_starts(outputs.column("_prediction_id"), ts, lat)
    if (bucket == bucket[0]).all() and _single(role) and _single(version):
        # the usual batch: one hour, one role, one version - no group-by needed
        groups = [(int(bucket[0]), role[0].as_py(), version[0].as_py(), len(lat),
                   float(lat.sum()), float(lat.max()), int(starts.sum()),
                   float(lat[starts].sum()))]
    else:
        table = pa.table({"bucket": bucket, "role": role, "version": version,
                          "latency": latency, "call": starts.astype(np.int64),
                          "call_latency": np.where(starts, lat, 0.0)}
                         ).group_by(["bucket", "role", "version"])
        groups = [(g["bucket"], g["role"], g["version"], g["latency_count"],
                   g["latency_sum"], g["latency_max"], g["call_sum"], g["call_latency_sum"])
                  for g in table.aggregate([("latency", "count"), ("latency", "sum"),
                                            ("latency", "max"), ("call", "sum"),
                                            ("call_latency", "sum")]).to_pylist()]
    conn.execute(_traffic_upsert(conn.dialect.name), [
        {"model_id": model_id, "bucket_start": us_to_datetime(b), "role": r,
         "model_version": v, "n_predictions": int(n), "latency_sum_ms": float(total),
         "latency_max_ms": float(top), "n_calls": int(calls),
         "call_latency_sum_ms": float(call_total)}
        for b, r, v, n, total, top, calls, call_total in groups
    ])


def call_starts(ids: pa.ChunkedArray | pa.Array, ts_us: np.ndarray,
                latency: np.ndarray) -> np.ndarray:
    """``starts[i]``: row ``i`` is the first row of a call in this batch.

    The rows of one call sit next to each other and share the 24-character prefix of their
    assigned ids (``capture/ids.py``: call start time and 48 random bits), so a call starts
    where the prefix changes. Ids of another shape (never written by the capture layer) fall
    back to a change of timestamp or latency, which every row of a call shares.
    """
    n = len(ts_us)
    starts = np.ones(n, dtype=bool)
    if n < 2:
        return starts
    if isinstance(ids, pa.ChunkedArray) and ids.num_chunks == 1:
        ids = ids.chunk(0)  # no copy (combining one chunk would copy 32 bytes a row)
    arr = string_array(ids)
    offsets = string_offsets(arr)
    data = arr.buffers()[2]
    if (data is not None and not arr.null_count and offsets[-1] - offsets[0] == n * ID_LENGTH
            and bool((np.diff(offsets) == ID_LENGTH).all())):
        # each id as four 64-bit words, read in place: the first three are the call prefix
        words = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]].view(
            np.uint64).reshape(n, ID_LENGTH // 8)
        starts[1:] = ((words[1:, 0] != words[:-1, 0]) | (words[1:, 1] != words[:-1, 1])
                      | (words[1:, 2] != words[:-1, 2]))
    else:
        starts[1:] = (ts_us[1:] != ts_us[:-1]) | (latency[1:] != latency[:-1])
    return starts


def _single(values: pa.ChunkedArray) -> bool:
    return bool(pc.all(pc.equal(values, values[0])).as_py())


_TRAFFIC_UPSERTS: dict[str, Any] = {}


def _traffic_upsert(dialect: str) -> Any:
    """The ``traffic_hourly`` upsert for a dialect, built once (building it per batch cost
    more than executing it)."""
    stmt = _TRAFFIC_UPSERTS.get(dialect)
    if stmt is None:
        base = (pg_insert if dialect == "postgresql" else sqlite_insert)(TrafficHourly)
        greatest = func.greatest if dialect == "postgresql" else func.max
        stmt = _TRAFFIC_UPSERTS[dialect] = base.on_conflict_do_update(
            index_elements=["model_id", "bucket_start", "role", "model_version"],
            set_={
                "n_predictions": TrafficHourly.n_predictions + base.excluded.n_predictions,
                "latency_sum_ms": TrafficHourly.latency_sum_ms + base.excluded.latency_sum_ms,
                "latency_max_ms": greatest(TrafficHourly.latency_max_ms,
                                           base.excluded.latency_max_ms),
                "n_calls": TrafficHourly.n_calls + base.excluded.n_calls,
                "call_latency_sum_ms": (TrafficHourly.call_latency_sum_ms
                                        + base.excluded.call_latency_sum_ms),
            },
        )
    return stmt


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

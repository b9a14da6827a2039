"""Columnar encoding of a writer batch: Arrow IPC stream, zstd-compressed.

A batch is stored as two blobs on ``prediction_batches``:

* ``inputs``  - one column per feature, one row per prediction (row order = ``row_index``);
* ``outputs`` - the model outputs (``prediction``, ``proba_<class>``...) followed by the meta
  columns below: everything stored about a prediction besides its inputs (the only per-row
  table, ``prediction_keys``, repeats the join key for lookups).

Meta columns (reserved names, all prefixed with ``_``): ``_prediction_id`` (str),
``_join_key`` (str), ``_ts`` (timestamp[us, UTC]), ``_role`` (str), ``_model_version`` (str or
null), ``_latency_ms`` (float or null), and ``_request_id`` (str; present only in batches where
some row was served under a request id, e.g. champion and challenger of one request).

Values Arrow cannot type (mixed objects in one column, nested objects of varying shape) are
stored as their ``repr``-free string form (``str(value)``) so a batch is never rejected.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

FORMAT = "arrow-ipc-zstd-v1"
META_COLUMNS = ("_prediction_id", "_join_key", "_ts", "_role", "_model_version", "_latency_ms",
                "_request_id")
_WRITE_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


def _column_to_arrow(values: pd.Series) -> pa.Array:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        # Convert explicitly: pyarrow's own path reads Series.values, deprecated for tz-aware
        # data in pandas 3.1. Store UTC instants with the zone in the Arrow type.
        unit = values.dtype.unit
        naive_utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        return pa.array(naive_utc, type=pa.timestamp(unit, tz=str(values.dtype.tz)),
                        from_pandas=True)
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError,
            ValueError, OverflowError):
        return pa.array(
            [None if _is_missing(v) else str(v) for v in values], type=pa.string()
        )


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def frame_to_table(df: pd.DataFrame) -> pa.Table:
    """Convert a DataFrame to an Arrow table, column by column, never failing on odd values."""
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate column names after conversion to str: {names}")
    arrays = [_column_to_arrow(df.iloc[:, i]) for i in range(df.shape[1])]
    return pa.Table.from_arrays(arrays, names=names) if names else pa.table(
        {"_empty": pa.nulls(len(df))}
    ).drop_columns(["_empty"])


def encode_table(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def encode_frame(df: pd.DataFrame) -> bytes:
    """Encode a DataFrame as a compressed Arrow IPC stream."""
    return encode_table(frame_to_table(df))


def decode_table(blob: bytes) -> pa.Table:
    with pa.ipc.open_stream(pa.py_buffer(blob)) as reader:
        return reader.read_all()

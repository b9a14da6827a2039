"""Encode a built batch into what is stored: two Arrow blobs plus per-row columns.

The per-row columns of ``predictions`` are derived from the *outputs* table (output columns
and the reserved meta columns), so a batch read back from the spill file produces exactly
the rows the first attempt would have written.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.capture.build import BuiltBatch
from lifecycle.capture.ids import new_id
from lifecycle.storage.capture_repo import StoredBatch
from lifecycle.storage.codec import META_COLUMNS, decode_table, encode_table

_LABEL_MAX = 255


def encode(built: BuiltBatch, batch_id: str | None = None) -> StoredBatch:
    """Encode ``built`` (keeps the Arrow outputs table for deriving rows without a decode)."""
    outputs = built.outputs
    ts = outputs.column("_ts").cast(pa.int64()).to_numpy()
    return StoredBatch(
        batch_id=batch_id or new_id(),
        model=built.model,
        n_rows=outputs.num_rows,
        ts_min_us=int(ts.min()),
        ts_max_us=int(ts.max()),
        inputs_blob=encode_table(built.inputs),
        outputs_blob=encode_table(outputs),
        request_ids=built.request_ids,
        outputs_table=outputs,
    )


def derive_rows(batch: StoredBatch) -> pa.Table:
    """Per-row columns of ``predictions`` for ``batch`` as an Arrow table (decoding its
    outputs blob if needed): prediction_id, join_key, ts, role, model_version, latency_ms,
    output_value, output_label, request_id."""
    table = batch.outputs_table
    if table is None:
        table = decode_table(batch.outputs_blob)
    n = table.num_rows
    value, label = headline(table.drop_columns([c for c in META_COLUMNS
                                                if c in table.column_names]))
    request = (pa.array(batch.request_ids, type=pa.string()) if batch.request_ids is not None
               else pa.nulls(n, type=pa.string()))
    return pa.table({
        "prediction_id": table.column("_prediction_id"),
        "join_key": table.column("_join_key"),
        "ts": table.column("_ts"),
        "role": table.column("_role"),
        "model_version": table.column("_model_version").cast(pa.string()),
        "latency_ms": table.column("_latency_ms").cast(pa.float64()),
        "output_value": value,
        "output_label": label,
        "request_id": request,
    })


def _numeric(arr: pa.ChunkedArray) -> bool:
    t = arr.type
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def _floats(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """As float64; NaN becomes null (SQLite stores NaN as NULL, so both backends agree)."""
    values = arr.cast(pa.float64())
    return pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)


def _labels(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        text = arr.cast(pa.string())
    else:
        text = pa.chunked_array([pa.array(
            [None if v is None else str(v) for v in arr.to_pylist()], type=pa.string())])
    return pc.utf8_slice_codeunits(text, 0, _LABEL_MAX)


def headline(outputs: pa.Table) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """The headline output of each row: ``output_value`` (float) and ``output_label`` (text).

    * ``proba_<class>`` columns: value = probability of the last class when there are two
      (the positive class), else the largest probability; label = ``prediction`` (the argmax).
    * ``prediction``: numeric -> value (and label too when integer/boolean, i.e. a class);
      text -> label.
    * ``score``: value. Otherwise the first numeric column gives the value.
    """
    n = outputs.num_rows
    names = outputs.column_names
    proba = [c for c in names if c.startswith("proba_") and _numeric(outputs.column(c))]
    value = pa.chunked_array([pa.nulls(n, type=pa.float64())])
    label = pa.chunked_array([pa.nulls(n, type=pa.string())])
    if proba:
        if len(proba) == 2:
            value = _floats(outputs.column(proba[1]))
        else:
            value = pc.max_element_wise(*[_floats(outputs.column(c)) for c in proba],
                                        skip_nulls=True)
        if "prediction" in names:
            label = _labels(outputs.column("prediction"))
        return value, label
    if "prediction" in names:
        col = outputs.column("prediction")
        if _numeric(col):
            value = _floats(col)
            if not pa.types.is_floating(col.type):
                label = _labels(col)
        else:
            label = _labels(col)
        return value, label
    for name in ["score", *names]:
        if name in names and _numeric(outputs.column(name)):
            return _floats(outputs.column(name)), label
    return value, label

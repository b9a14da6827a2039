"""The Parquet form of archived batches, and the content hash that proves an archive exact.

One archive part holds whole stored batches of one model and one UTC day that share one
schema (inputs and outputs): ONE Parquet row group per batch, in the order the batches are
listed in the part's manifest row (``archive_parts.batch_ids``). Columns are the batch's
outputs table (model outputs and the meta columns ``_prediction_id``, ``_join_key``, ``_ts``,
``_role``...) prefixed ``out:`` and its inputs table prefixed ``in:``; the file's key-value
metadata keeps both original Arrow schemas, so a batch read back is the very table the hot
reader decodes (column order, types and metadata included), and a batch whose inputs table
has no column still has its rows.

:func:`content_hash` is a SHA-256 over a canonical serialisation of a sequence of batches
(id, then per table and column: name, type, validity and values, independent of chunking,
of buffer padding and of what a null slot holds). The retention job computes it from the hot
batches while writing and again from the file read back; equal hashes and row counts are
what allows the hot rows to be deleted.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ArchivedBatch", "combine", "content_hash", "group_key", "part_metadata",
           "split"]

OUT, IN = "out:", "in:"
_META_OUTPUTS = b"lifecycle.outputs_schema"
_META_INPUTS = b"lifecycle.inputs_schema"
_META_FORMAT = b"lifecycle.archive_format"
FORMAT = b"lifecycle-archive-v1"


@dataclass(frozen=True)
class ArchivedBatch:
    """One stored batch, decoded: its id, outputs (with meta columns) and inputs."""

    batch_id: str
    outputs: pa.Table
    inputs: pa.Table | None

    @property
    def num_rows(self) -> int:
        return int(self.outputs.num_rows)


def _schema_bytes(schema: pa.Schema) -> bytes:
    return bytes(schema.serialize().to_pybytes())


def group_key(batch: ArchivedBatch) -> bytes:
    """Batches with equal keys share one part file (same outputs and inputs schemas)."""
    inputs = b"" if batch.inputs is None else _schema_bytes(batch.inputs.schema)
    return _schema_bytes(batch.outputs.schema) + b"|" + inputs


def combine(batch: ArchivedBatch) -> pa.Table:
    """The batch as one table of ``out:`` and ``in:`` columns (the row group written)."""
    names = [OUT + n for n in batch.outputs.column_names]
    columns = list(batch.outputs.columns)
    if batch.inputs is not None:
        names += [IN + n for n in batch.inputs.column_names]
        columns += list(batch.inputs.columns)
    return pa.Table.from_arrays(columns, names=names)


def part_metadata(batch: ArchivedBatch) -> dict[bytes, bytes]:
    """Key-value metadata of a part file whose batches share ``batch``'s schemas."""
    meta = {_META_FORMAT: FORMAT,
            _META_OUTPUTS: base64.b64encode(_schema_bytes(batch.outputs.schema))}
    if batch.inputs is not None:
        meta[_META_INPUTS] = base64.b64encode(_schema_bytes(batch.inputs.schema))
    return meta


def _read_schema(meta: dict[bytes, bytes], key: bytes) -> pa.Schema | None:
    raw = meta.get(key)
    if raw is None:
        return None
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(raw)))


def _restore(table: pa.Table, prefix: str, schema: pa.Schema) -> pa.Table:
    columns = []
    for f in schema:
        col = table.column(prefix + f.name)
        # list field names ("element" in Parquet, "item" in Arrow) compare equal: use the text
        columns.append(col if str(col.type) == str(f.type) else col.cast(f.type))
    if not columns:  # a table without columns keeps its row count (select, not rebuild)
        return table.select([]) if not schema.metadata else \
            pa.table({"_rows": pa.nulls(table.num_rows)}, metadata=schema.metadata) \
            .drop_columns(["_rows"])
    return pa.Table.from_arrays(columns, schema=schema)


def split(batch_id: str, group: pa.Table, file_meta: dict[bytes, bytes] | None, *,
          with_inputs: bool = True) -> ArchivedBatch:
    """Inverse of :func:`combine`: the batch's outputs and inputs tables as stored hot."""
    meta = file_meta or {}
    if meta.get(_META_FORMAT) != FORMAT:
        raise ValueError(f"not a lifecycle archive part (format {meta.get(_META_FORMAT)!r})")
    out_schema = _read_schema(meta, _META_OUTPUTS)
    assert out_schema is not None
    in_schema = _read_schema(meta, _META_INPUTS)
    outputs = _restore(group, OUT, out_schema)
    inputs = None if in_schema is None or not with_inputs else _restore(group, IN, in_schema)
    return ArchivedBatch(batch_id, outputs, inputs)


# --------------------------------------------------------------------------- content hash


def _update_column(h: hashlib._Hash, name: str, column: pa.ChunkedArray) -> None:
    h.update(f"\x00col:{name}:{column.type}:{len(column)}\x00".encode())
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_null(arr.type) or len(arr) == 0:
        return
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    h.update(np.packbits(valid).tobytes())
    t = arr.type
    if (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t)
            or pa.types.is_boolean(t)):
        storage = arr.cast(_storage_type(t)) if not pa.types.is_boolean(t) else arr
        values = storage.to_numpy(zero_copy_only=False)
        if pa.types.is_floating(t):
            values = np.where(valid, values, 0.0)
        elif pa.types.is_boolean(t):
            values = np.where(valid, values.astype(bool), False)
        else:
            values = np.where(valid, values, 0)
        h.update(np.ascontiguousarray(values).tobytes())
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
            or pa.types.is_large_binary(t):
        filled = pc.fill_null(arr, pa.scalar(b"" if "binary" in str(t) else "", t))
        lengths = pc.binary_length(filled).to_numpy(zero_copy_only=False)
        h.update(np.ascontiguousarray(lengths.astype(np.int64)).tobytes())
        large = filled.cast(pa.large_binary())
        offsets = np.frombuffer(large.buffers()[1], dtype=np.int64)[
            large.offset:large.offset + len(large) + 1]
        data = large.buffers()[2]
        if data is not None:
            h.update(memoryview(data)[int(offsets[0]):int(offsets[-1])])
    else:  # nested, decimal, dictionary...: rare; their Python values spell them exactly
        h.update(repr(arr.to_pylist()).encode())


def _storage_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return t
    width = t.bit_width
    return pa.int64() if width == 64 else pa.int32()


def _update_table(h: hashlib._Hash, label: str, table: pa.Table | None) -> None:
    if table is None:
        h.update(f"\x00{label}:none\x00".encode())
        return
    h.update(f"\x00{label}:{table.num_rows}:{table.num_columns}\x00".encode())
    for name, column in zip(table.column_names, table.columns, strict=True):
        _update_column(h, name, column)


class ContentHash:
    """Running SHA-256 over batches, in order (see the module docstring)."""

    def __init__(self) -> None:
        self._h = hashlib.sha256(b"lifecycle-archive-content-v1")
        self.n_rows = 0
        self.n_batches = 0

    def add(self, batch: ArchivedBatch) -> None:
        self._h.update(f"\x00batch:{batch.batch_id}\x00".encode())
        _update_table(self._h, "outputs", batch.outputs)
        _update_table(self._h, "inputs", batch.inputs)
        self.n_rows += batch.num_rows
        self.n_batches += 1

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def content_hash(batches: list[ArchivedBatch]) -> str:
    """The content hash of ``batches`` in order (one-shot form of :class:`ContentHash`)."""
    h = ContentHash()
    for batch in batches:
        h.add(batch)
    return h.hexdigest()

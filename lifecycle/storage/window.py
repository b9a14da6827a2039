"""Load a window of logged predictions (inputs, outputs, meta) into DataFrames.

Reads only ``prediction_batches`` blobs that overlap the window, decodes them (Arrow, zero
copy where possible) and filters rows by timestamp, through the one batch reader
(``batch_source.read_parts``). The per-row ``predictions`` table is not
scanned, so a 1,000,000-row window costs a few hundred blob reads, not a million rows.

Batches are merged with Arrow's permissive promotion (int and float become float, a column
missing from a batch is null there). When one column has types that cannot be merged - a
batch whose column held a value Arrow could not type is stored as text (see ``codec.py``), a
batch of only booleans or dates in a numeric column - the column is loaded as ``object``:
every value that reads as a number becomes a float, every other value keeps its text form
(``"abc"``, ``"true"``, ``"2026-03-01 00:00:00.000000Z"``), nulls stay missing. What counts as
numeric is then decided by the caller (``lifecycle.drift_check`` counts the text values of a
numeric feature as non-numeric, a signal of their own), never by failing the whole window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.storage.batch_source import WindowPart, read_parts
from lifecycle.storage.codec import META_COLUMNS
from lifecycle.storage.headline import headline
from lifecycle.storage.models_repo import get_model

_HEADLINE_COLUMNS = ("_output_value", "_output_label")
_META_RENAME = {c: c[1:] for c in META_COLUMNS + _HEADLINE_COLUMNS}


@dataclass(frozen=True)
class LoadedWindow:
    """A window of logged predictions, aligned row by row and ordered by timestamp.

    ``inputs`` has one column per feature; ``outputs`` has ``prediction`` and any
    ``proba_<class>`` columns; ``meta`` has prediction_id, join_key, ts, role,
    model_version, latency_ms, request_id (when logged), and output_value / output_label
    when loaded ``with_headline=True``.
    """

    model: str
    since: datetime | None
    until: datetime | None
    inputs: pd.DataFrame
    outputs: pd.DataFrame
    meta: pd.DataFrame

    def __len__(self) -> int:
        return len(self.meta)


def _merge(tables: list[pa.Table]) -> pd.DataFrame:
    """Concatenate decoded batches into one DataFrame, never failing on a type conflict."""
    try:
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    types: dict[str, set[pa.DataType]] = {}
    for table in tables:
        for field in table.schema:
            if not pa.types.is_null(field.type):
                types.setdefault(field.name, set()).add(field.type)
    mixed = [name for name, found in types.items() if not _mergeable(found)]
    as_text = [_text_columns(table, mixed) for table in tables]
    frame = pa.concat_tables(as_text, promote_options="permissive").to_pandas()
    for name in mixed:
        frame[name] = _numbers_or_text(frame[name])
    return frame


def _mergeable(found: set[pa.DataType]) -> bool:
    if len(found) <= 1:
        return True
    try:
        pa.unify_schemas([pa.schema([pa.field("c", t)]) for t in found],
                         promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _text_columns(table: pa.Table, names: list[str]) -> pa.Table:
    for name in names:
        if name in table.column_names:
            i = table.column_names.index(name)
            table = table.set_column(i, name, _to_text(table.column(i)))
    return table


def _to_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_floating(column.type):  # NaN is missing, not the text "nan"
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. nested values
        return pa.chunked_array([pa.array([None if v is None else str(v)
                                           for v in column.to_pylist()], pa.string())])


def _numbers_or_text(text: pd.Series) -> pd.Series:
    """``object`` column: floats where the text is a number, the text elsewhere, None for null."""
    numbers = pd.to_numeric(text, errors="coerce")
    out = text.astype(object).where(text.notna(), None)
    is_number = numbers.notna().to_numpy()
    values = out.to_numpy(dtype=object, copy=True)
    values[is_number] = numbers.to_numpy(dtype=float)[is_number]
    return pd.Series(values, index=text.index, dtype=object)


def _empty(model: str, since: datetime | None, until: datetime | None) -> LoadedWindow:
    meta = pd.DataFrame({name: pd.Series(dtype=object) for name in _META_RENAME.values()})
    meta["ts"] = pd.Series(dtype="datetime64[us, UTC]")
    return LoadedWindow(model, since, until, pd.DataFrame(), pd.DataFrame(), meta)


def load_window(
    engine: Engine,
    model: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    role: str | None = None,
    with_inputs: bool = True,
    with_headline: bool = False,
) -> LoadedWindow:
    """Load the half-open window ``[since, until)`` of ``model``'s logged predictions.

    ``with_inputs=False`` reads and decodes only the outputs blobs (``LoadedWindow.inputs`` is then
    empty): for callers that need predictions, not features. A batch's inputs are decoded only
    when at least one of its rows is in the window. ``with_headline=True`` adds each row's
    headline output to ``meta`` (``output_value``, ``output_label``; see ``storage/headline.py``),
    computed batch by batch from the stored outputs.

    Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown model.
    """
    with Session(engine) as session:
        model_id = get_model(session, model).id
    parts = read_parts(engine, model_id, since, until, role=role, with_inputs=with_inputs)
    return window_from_parts(model, since, until, parts, with_headline=with_headline)


def window_from_parts(model: str, since: datetime | None, until: datetime | None,
                      parts: Iterable[WindowPart], *, with_headline: bool = False,
                      ) -> LoadedWindow:
    """Merge the parts of :func:`~lifecycle.storage.batch_source.read_parts` (in its order)
    into a :class:`LoadedWindow`, as :func:`load_window` does (the partitioned passes of
    ``lifecycle.compute`` merge parts read by workers with it)."""
    input_tables: list[pa.Table] = []
    output_tables: list[pa.Table] = []
    for part in parts:
        outputs = part.outputs
        if with_headline:
            value, label = headline(outputs.drop_columns(
                [c for c in META_COLUMNS if c in outputs.column_names]))
            outputs = outputs.append_column("_output_value", value)
            outputs = outputs.append_column("_output_label", label)
        output_tables.append(outputs)
        if part.inputs is not None:
            input_tables.append(part.inputs)
    if not output_tables:
        return _empty(model, since, until)

    inputs_df = (
        _merge(input_tables)
        if input_tables else pd.DataFrame(index=range(sum(t.num_rows for t in output_tables)))
    )
    outputs_all = _merge(output_tables)
    meta_cols = [c for c in META_COLUMNS + _HEADLINE_COLUMNS if c in outputs_all.columns]
    meta = outputs_all[meta_cols].rename(columns=_META_RENAME)
    outputs_df = outputs_all.drop(columns=meta_cols)
    order = meta["ts"].argsort(kind="stable").to_numpy()
    if (order != range(len(order))).any():
        meta, inputs_df, outputs_df = (
            frame.iloc[order].reset_index(drop=True) for frame in (meta, inputs_df, outputs_df)
        )
    return LoadedWindow(model, since, until, inputs_df, outputs_df, meta.reset_index(drop=True))

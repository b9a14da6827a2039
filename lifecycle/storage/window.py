"""Load a window of logged predictions (inputs, outputs, meta) into DataFrames.

Reads only ``prediction_batches`` blobs that overlap the window, decodes them (Arrow, zero
copy where possible) and filters rows by timestamp. The per-row ``predictions`` table is not
scanned, so a 1,000,000-row window costs a few hundred blob reads, not a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, literal, select
from sqlalchemy.orm import Session

from lifecycle.storage.codec import META_COLUMNS, decode_table
from lifecycle.storage.headline import headline
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.tables import PredictionBatch

_HEADLINE_COLUMNS = ("_output_value", "_output_label")
_META_RENAME = {c: c[1:] for c in META_COLUMNS + _HEADLINE_COLUMNS}


@dataclass(frozen=True)
class Window:
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


def _empty(model: str, since: datetime | None, until: datetime | None) -> Window:
    meta = pd.DataFrame({name: pd.Series(dtype=object) for name in _META_RENAME.values()})
    meta["ts"] = pd.Series(dtype="datetime64[us, UTC]")
    return Window(model, since, until, pd.DataFrame(), pd.DataFrame(), meta)


def load_window(
    engine: Engine,
    model: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    role: str | None = None,
    with_inputs: bool = True,
    with_headline: bool = False,
) -> Window:
    """Load the half-open window ``[since, until)`` of ``model``'s logged predictions.

    ``with_inputs=False`` reads and decodes only the outputs blobs (``Window.inputs`` is then
    empty): for callers that need predictions, not features. A batch's inputs are decoded only
    when at least one of its rows is in the window. ``with_headline=True`` adds each row's
    headline output to ``meta`` (``output_value``, ``output_label``; see ``storage/headline.py``),
    computed batch by batch from the stored outputs.

    Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown model.
    """
    with Session(engine) as session:
        model_row = get_model(session, model)
        inputs_col = PredictionBatch.inputs if with_inputs else literal(None)
        stmt = select(inputs_col, PredictionBatch.outputs).where(
            PredictionBatch.model_id == model_row.id
        )
        if since is not None:
            stmt = stmt.where(PredictionBatch.ts_max >= since)
        if until is not None:
            stmt = stmt.where(PredictionBatch.ts_min < until)
        stmt = stmt.order_by(PredictionBatch.ts_min, PredictionBatch.id)
        blobs = session.execute(stmt).all()
    if not blobs:
        return _empty(model, since, until)

    input_tables: list[pa.Table] = []
    output_tables: list[pa.Table] = []
    for inputs_blob, outputs_blob in blobs:
        outputs = decode_table(outputs_blob) if outputs_blob is not None else None
        if outputs is None or "_ts" not in outputs.column_names:
            continue
        mask = None
        ts = outputs.column("_ts")
        if since is not None:
            mask = pc.greater_equal(ts, pa.scalar(since, type=ts.type))
        if until is not None:
            upper = pc.less(ts, pa.scalar(until, type=ts.type))
            mask = upper if mask is None else pc.and_(mask, upper)
        if role is not None:
            is_role = pc.equal(outputs.column("_role"), role)
            mask = is_role if mask is None else pc.and_(mask, is_role)
        if mask is not None:
            outputs = outputs.filter(mask)
        if not outputs.num_rows:
            continue  # no row of this batch is in the window: its inputs stay encoded
        if with_headline:
            value, label = headline(outputs.drop_columns(
                [c for c in META_COLUMNS if c in outputs.column_names]))
            outputs = outputs.append_column("_output_value", value)
            outputs = outputs.append_column("_output_label", label)
        output_tables.append(outputs)
        if inputs_blob is not None:
            inputs = decode_table(inputs_blob)
            input_tables.append(inputs.filter(mask) if mask is not None else inputs)
    if not output_tables:
        return _empty(model, since, until)

    inputs_df = (
        pa.concat_tables(input_tables, promote_options="permissive").to_pandas()
        if input_tables else pd.DataFrame(index=range(sum(t.num_rows for t in output_tables)))
    )
    outputs_all = pa.concat_tables(output_tables, promote_options="permissive").to_pandas()
    meta_cols = [c for c in META_COLUMNS + _HEADLINE_COLUMNS if c in outputs_all.columns]
    meta = outputs_all[meta_cols].rename(columns=_META_RENAME)
    outputs_df = outputs_all.drop(columns=meta_cols)
    order = meta["ts"].argsort(kind="stable").to_numpy()
    if (order != range(len(order))).any():
        meta, inputs_df, outputs_df = (
            frame.iloc[order].reset_index(drop=True) for frame in (meta, inputs_df, outputs_df)
        )
    return Window(model, since, until, inputs_df, outputs_df, meta.reset_index(drop=True))

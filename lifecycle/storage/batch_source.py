"""Where a window's logged rows come from: the one reader of stored prediction batches.

:func:`read_parts` yields a window's rows as decoded Arrow tables, one part per stored batch,
already filtered to the half-open window ``[since, until)`` (and to one role when asked). Every
reader of the prediction log goes through it: :func:`lifecycle.storage.window.load_window`
(which merges the parts into DataFrames), the rollup job (which never builds a DataFrame) and
the partitioned passes that run on a Dask cluster (docs/scale.md), so a new place rows can live
in (the Parquet archive of the retention job) is added here once.

A batch's inputs blob is decoded only when at least one of its rows is in the window.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, literal, select
from sqlalchemy.orm import Session

from lifecycle.storage.codec import decode_table
from lifecycle.storage.tables import PredictionBatch

__all__ = ["WindowPart", "read_parts", "window_mask"]


@dataclass(frozen=True)
class WindowPart:
    """The rows of one stored batch that fall in a window: ``outputs`` carries the model
    outputs and the meta columns (``_ts``, ``_role``...; see ``codec.py``); ``inputs`` is
    aligned with it row by row, or None when inputs were not asked for (or not stored)."""

    inputs: pa.Table | None
    outputs: pa.Table

    @property
    def num_rows(self) -> int:
        return int(self.outputs.num_rows)


def window_mask(outputs: pa.Table, since: datetime | None, until: datetime | None,
                role: str | None = None) -> pa.ChunkedArray | None:
    """Boolean mask of the rows of ``outputs`` in ``[since, until)`` (and of ``role``), or
    None when every row qualifies."""
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
    return mask


def read_parts(
    engine: Engine,
    model_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    role: str | None = None,
    with_inputs: bool = True,
    batch_ids: Sequence[str] | None = None,
) -> Iterator[WindowPart]:
    """The window's rows of model ``model_id``, batch by batch, ordered by batch start.

    ``batch_ids`` restricts the read to those batches (a partition of a distributed pass).
    Blobs are fetched in one query, then decoded lazily as the caller iterates.
    """
    with Session(engine) as session:
        inputs_col = PredictionBatch.inputs if with_inputs else literal(None)
        stmt = select(inputs_col, PredictionBatch.outputs).where(
            PredictionBatch.model_id == model_id
        )
        if since is not None:
            stmt = stmt.where(PredictionBatch.ts_max >= since)
        if until is not None:
            stmt = stmt.where(PredictionBatch.ts_min < until)
        if batch_ids is not None:
            stmt = stmt.where(PredictionBatch.id.in_(list(batch_ids)))
        stmt = stmt.order_by(PredictionBatch.ts_min, PredictionBatch.id)
        blobs = session.execute(stmt).all()
    for inputs_blob, outputs_blob in blobs:
        outputs = decode_table(outputs_blob) if outputs_blob is not None else None
        if outputs is None or "_ts" not in outputs.column_names:
            continue
        mask = window_mask(outputs, since, until, role)
        if mask is not None:
            outputs = outputs.filter(mask)
        if not outputs.num_rows:
            continue  # no row of this batch is in the window: its inputs stay encoded
        inputs = None
        if inputs_blob is not None:
            inputs = decode_table(inputs_blob)
            if mask is not None:
                inputs = inputs.filter(mask)
        yield WindowPart(inputs, outputs)

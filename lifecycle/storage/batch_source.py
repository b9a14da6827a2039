"""Where a window's logged rows come from: the one reader of stored prediction batches.

:func:`read_parts` yields a window's rows as decoded Arrow tables, one part per stored batch,
already filtered to the half-open window ``[since, until)`` (and to one role when asked). Every
reader of the prediction log goes through it: :func:`lifecycle.storage.window.load_window`
(which merges the parts into DataFrames), the rollup job (which never builds a DataFrame) and
the partitioned passes that run on a Dask cluster (docs/scale.md), so a new place rows can live
in (the Parquet archive of the retention job) is added here once.

A batch's inputs blob is decoded only when at least one of its rows is in the window.

Archived batches (the retention job, docs/retention.md) are read from their Parquet part
transparently: a batch is read hot while its ``prediction_batches`` row exists, and from its
part in state ``deleted`` otherwise. Hot rows are queried first and the manifest second, so
a retirement that commits in between (it deletes the rows and flips the part in one
transaction) is seen by the second query: every batch is read exactly once, in the same
order (batch start, id) as if it were hot.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, literal, select
from sqlalchemy.orm import Session

from lifecycle.storage.archive_repo import DELETED, PartRow, parts
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
    Blobs are fetched in one query, then decoded lazily as the caller iterates; archived
    batches are read from their Parquet part (one row group each) as the caller reaches them.
    """
    with Session(engine) as session:
        inputs_col = PredictionBatch.inputs if with_inputs else literal(None)
        stmt = select(PredictionBatch.ts_min, PredictionBatch.id, inputs_col,
                      PredictionBatch.outputs).where(PredictionBatch.model_id == model_id)
        if since is not None:
            stmt = stmt.where(PredictionBatch.ts_max >= since)
        if until is not None:
            stmt = stmt.where(PredictionBatch.ts_min < until)
        if batch_ids is not None:
            stmt = stmt.where(PredictionBatch.id.in_(list(batch_ids)))
        stmt = stmt.order_by(PredictionBatch.ts_min, PredictionBatch.id)
        blobs = session.execute(stmt).all()
        # second, never first: see the module docstring
        archived = parts(session.connection(), model_id, states=(DELETED,), since=since,
                         until=until)
    sources: Iterator[tuple[Any, ...]] = iter(blobs)
    if archived:
        hot = {row[1] for row in blobs}
        sources = heapq.merge(blobs, _archived(archived, hot, since, until, batch_ids),
                              key=lambda row: (row[0], row[1]))
    open_parts: dict[int, Any] = {}
    for _ts_min, batch_id, inputs_blob, outputs_blob in sources:
        if isinstance(inputs_blob, _Archived):
            part = _from_archive(open_parts, inputs_blob, batch_id, with_inputs, since, until,
                                 role)
            if part is not None:
                yield part
            continue
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


@dataclass(frozen=True)
class _Archived:
    part: PartRow
    index: int
    remaining: int  # batches of this part still to read after this one


def _archived(archived: list[PartRow], hot: set[str], since: datetime | None,
              until: datetime | None, batch_ids: Sequence[str] | None
              ) -> list[tuple[Any, ...]]:
    """The archived batches to read, as ``(ts_min, id, _Archived, None)`` sorted like the
    hot query (a batch present hot is read hot)."""
    wanted = None if batch_ids is None else set(batch_ids)
    chosen = [(part, entry) for part in archived for entry in part.batches
              if entry.batch_id not in hot
              and (wanted is None or entry.batch_id in wanted)
              and (since is None or entry.ts_max >= since)
              and (until is None or entry.ts_min < until)]
    counts: dict[int, int] = {}
    for part, _ in chosen:
        counts[part.id] = counts.get(part.id, 0) + 1
    rows = []
    for part, entry in sorted(chosen, key=lambda pe: (pe[1].ts_min, pe[1].batch_id)):
        counts[part.id] -= 1
        rows.append((entry.ts_min, entry.batch_id, _Archived(part, entry.index,
                                                             counts[part.id]), None))
    return rows


def _from_archive(open_parts: dict[int, Any], item: _Archived, batch_id: str,
                  with_inputs: bool, since: datetime | None, until: datetime | None,
                  role: str | None) -> WindowPart | None:
    from lifecycle.storage.archive_store import PartReader

    reader = open_parts.get(item.part.id)
    if reader is None:
        reader = open_parts[item.part.id] = PartReader(item.part.url, item.part.batch_ids)
    try:
        batch = reader.batch(item.index, with_inputs=with_inputs)
    finally:
        if item.remaining == 0:
            open_parts.pop(item.part.id).close()
    outputs, inputs = batch.outputs, batch.inputs
    if "_ts" not in outputs.column_names:
        return None
    mask = window_mask(outputs, since, until, role)
    if mask is not None:
        outputs = outputs.filter(mask)
        inputs = inputs.filter(mask) if inputs is not None else None
    if not outputs.num_rows:
        return None
    return WindowPart(inputs if with_inputs else None, outputs)

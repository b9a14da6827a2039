"""The archive manifest (``archive_parts``) and the one transaction that retires hot batches.

A part moves ``written`` -> ``verified`` -> ``deleted``. The last step is ONE transaction
(:func:`retire_batches`): delete the part's batches from ``prediction_batches``, delete their
key rows from ``prediction_keys`` (read from the batches' own ``_join_key`` columns, since
the key table has no time column), and flip the part to ``deleted``. The reading rule
(``batch_source.read_parts``) follows from it: a batch is read hot while its row exists, and
from a ``deleted`` part otherwise; the reader queries hot batches first and the manifest
second, so a retirement committed between the two queries is seen by the second and no batch
is lost, and a batch seen by both (hot, and in a deleted part) is read hot only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, any_, bindparam, column, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from lifecycle.storage.archive_store import WrittenPart
from lifecycle.storage.codec import decode_table
from lifecycle.storage.key_ranges import key_ranges
from lifecycle.storage.tables import ArchivePart, PredictionBatch, prediction_keys
from lifecycle.storage.types import utcnow

__all__ = ["DELETED", "VERIFIED", "WRITTEN", "BatchEntry", "PartRow", "entries_json", "parts",
           "record_written", "retire_batches", "set_state"]

WRITTEN, VERIFIED, DELETED = "written", "verified", "deleted"
_CHUNK = 20_000


@dataclass(frozen=True)
class BatchEntry:
    """One batch listed in a part (row group ``index`` of the file)."""

    batch_id: str
    ts_min: datetime
    ts_max: datetime
    n_rows: int
    index: int


@dataclass(frozen=True)
class PartRow:
    """A manifest row."""

    id: int
    model_id: int
    day: str
    url: str
    state: str
    n_rows: int
    content_sha256: str
    size_bytes: int
    batches: tuple[BatchEntry, ...]

    @property
    def batch_ids(self) -> list[str]:
        return [b.batch_id for b in self.batches]


def _entries(raw: Sequence[Sequence[object]]) -> tuple[BatchEntry, ...]:
    return tuple(BatchEntry(str(b[0]), datetime.fromisoformat(str(b[1])),
                            datetime.fromisoformat(str(b[2])), int(str(b[3])), i)
                 for i, b in enumerate(raw))


def entries_json(entries: Iterable[tuple[str, datetime, datetime, int]]) -> list[list[object]]:
    """``batch_ids`` as stored: ``[[id, ts_min, ts_max, n_rows], ...]`` (ISO times)."""
    return [[i, lo.isoformat(), hi.isoformat(), n] for i, lo, hi, n in entries]


_COLUMNS = (ArchivePart.id, ArchivePart.model_id, ArchivePart.day, ArchivePart.url,
            ArchivePart.state, ArchivePart.n_rows, ArchivePart.content_sha256,
            ArchivePart.size_bytes, ArchivePart.batch_ids)


def parts(conn: Connection, model_id: int | None = None, *, states: Sequence[str] | None = None,
          since: datetime | None = None, until: datetime | None = None) -> list[PartRow]:
    """Manifest rows (of a model, in ``states``, overlapping ``[since, until)``), by time."""
    stmt = select(*_COLUMNS)
    if model_id is not None:
        stmt = stmt.where(ArchivePart.model_id == model_id)
    if states is not None:
        stmt = stmt.where(ArchivePart.state.in_(list(states)))
    if since is not None:
        stmt = stmt.where(ArchivePart.ts_max >= since)
    if until is not None:
        stmt = stmt.where(ArchivePart.ts_min < until)
    stmt = stmt.order_by(ArchivePart.ts_min, ArchivePart.id)
    return [PartRow(int(r[0]), int(r[1]), r[2], r[3], r[4], int(r[5]), r[6], int(r[7]),
                    _entries(r[8] if not isinstance(r[8], str) else json.loads(r[8])))
            for r in conn.execute(stmt)]


def record_written(conn: Connection, model_id: int, day: str, written: WrittenPart,
                   entries: list[list[object]]) -> int:
    """Insert the part as ``written`` (or, for a part rewritten after a crash, update its row
    back to ``written``); returns its id."""
    lo = min(datetime.fromisoformat(str(e[1])) for e in entries)
    hi = max(datetime.fromisoformat(str(e[2])) for e in entries)
    values = dict(model_id=model_id, day=day, url=written.url, n_rows=written.n_rows,
                  n_batches=written.n_batches, size_bytes=written.size_bytes,
                  content_sha256=written.content_sha256, batch_ids=entries, state=WRITTEN,
                  updated_at=utcnow(), ts_min=lo, ts_max=hi)
    found = conn.execute(select(ArchivePart.id, ArchivePart.state)
                         .where(ArchivePart.url == written.url)).first()
    if found is None:
        return int(conn.execute(insert(ArchivePart).values(created_at=utcnow(), **values)
                                .returning(ArchivePart.id)).scalar_one())
    if found[1] == DELETED:
        raise RuntimeError(f"archive part {written.url} is already retired; it is never "
                           "rewritten")
    conn.execute(update(ArchivePart).where(ArchivePart.id == found[0]).values(**values))
    return int(found[0])


def set_state(conn: Connection, part_id: int, from_state: str, to_state: str) -> bool:
    """Move a part from ``from_state`` to ``to_state``; False when it was not in it."""
    stmt = (update(ArchivePart).where(ArchivePart.id == part_id, ArchivePart.state == from_state)
            .values(state=to_state, updated_at=utcnow()))
    return conn.execute(stmt).rowcount == 1


def _in(conn: Connection, col: Any, values: list[str]) -> Any:
    """``col IN values`` as one bound parameter (PostgreSQL array, SQLite JSON)."""
    if conn.dialect.name == "postgresql":
        return col == any_(bindparam("vals", values, type_=ARRAY(String)))
    each = select(column("value")).select_from(
        func.json_each(bindparam("vals", json.dumps(values)))).scalar_subquery()
    return col.in_(each)


def _batch_keys(conn: Connection, batch_ids: list[str]) -> Counter[tuple[str, str | None]]:
    """The key rows the batches wrote, ``(join_key, last_key)`` with their multiplicity:
    their keys in write order (batch start, id), compressed as the writer compresses them
    (a call split over two batches written together is one range row). A range the writer
    stored differently is left in place (a key row too many is harmless; one too few
    would not be), see docs/retention.md."""
    keys: list[pa.ChunkedArray] = []
    for start in range(0, len(batch_ids), 200):
        chunk = batch_ids[start:start + 200]
        stmt = (select(PredictionBatch.outputs).where(PredictionBatch.id.in_(chunk))
                .order_by(PredictionBatch.ts_min, PredictionBatch.id))
        for (blob,) in conn.execute(stmt):
            table = decode_table(blob) if blob is not None else None
            if table is not None and "_join_key" in table.column_names and table.num_rows:
                keys.append(table.column("_join_key").cast(pa.string()))
    wanted: Counter[tuple[str, str | None]] = Counter()
    if keys:
        starts, lasts = key_ranges(pa.chunked_array(keys))
        wanted.update(zip(starts.to_pylist(), lasts.to_pylist(), strict=True))
    return wanted


def _delete_keys(conn: Connection, model_id: int,
                 wanted: Counter[tuple[str, str | None]]) -> int:
    """Delete one key row per occurrence in ``wanted`` (a key logged again by a batch that
    stays hot keeps its own row): rows of those join keys are deleted, and the surplus of
    what the delete itself returned is written back. Returns the rows removed.

    The rows are counted from the DELETE's RETURNING, not by a SELECT before it: on
    PostgreSQL (READ COMMITTED) a capture write committed between the two statements would
    be deleted without being counted, and its hot batch's key row lost."""
    k = prediction_keys.c
    firsts = sorted({j for j, _ in wanted})
    existing: Counter[tuple[str, str | None]] = Counter()
    for start in range(0, len(firsts), _CHUNK):
        chunk = firsts[start:start + _CHUNK]
        stmt = (prediction_keys.delete()
                .where(k.model_id == model_id, _in(conn, k.join_key, chunk))
                .returning(k.join_key, k.last_key))
        existing.update((j, last) for j, last in conn.execute(stmt))
    keep = existing - wanted
    rows = [{"model_id": model_id, "join_key": j, "last_key": last}
            for (j, last), n in keep.items() for _ in range(n)]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(prediction_keys.insert(), rows[start:start + _CHUNK])
    return sum(existing.values()) - len(rows)


def retire_batches(conn: Connection, model_id: int, batch_ids: Sequence[str],
                   part_id: int | None = None) -> int:
    """In the caller's transaction: delete the hot batches and their key rows, and (when
    ``part_id`` is given) move that part from ``verified`` to ``deleted``. Raises
    RuntimeError (rolling the transaction back) when the part is not ``verified``.
    Returns the batches deleted."""
    ids = list(batch_ids)
    if part_id is not None and not set_state(conn, part_id, VERIFIED, DELETED):
        raise RuntimeError(f"archive part {part_id} is not verified; nothing was deleted")
    present = [r[0] for start in range(0, len(ids), _CHUNK) for r in conn.execute(
        select(PredictionBatch.id).where(PredictionBatch.model_id == model_id,
                                         PredictionBatch.id.in_(ids[start:start + _CHUNK]))
        .order_by(PredictionBatch.ts_min, PredictionBatch.id))]
    if not present:
        return 0
    _delete_keys(conn, model_id, _batch_keys(conn, present))
    deleted = 0
    for start in range(0, len(present), _CHUNK):
        deleted += conn.execute(delete(PredictionBatch).where(
            PredictionBatch.id.in_(present[start:start + _CHUNK]))).rowcount
    return deleted

"""Job kind ``retention``: move whole days of the prediction log to the Parquet archive.

For one model, every stored batch that ended before ``cutoff`` (midnight UTC of the window's
end day minus ``hot_days``) is archived by its start's UTC day, in three steps per part
(docs/retention.md):

1. **write**: the day's batches (one part per schema) stream into a Parquet file under a
   temporary name, moved to ``part-<hash of the batch ids>.parquet`` once complete; then the
   manifest row is inserted as ``written`` with the rows, batches and content hash computed
   from the hot batches while writing;
2. **verify**: the file is read back; row count and content hash equal -> ``verified``;
3. **retire**: ONE transaction deletes the batches and their key rows and flips the part to
   ``deleted``.

Every step is resumable: a rerun first finishes the model's ``written`` and ``verified`` parts
(a ``written`` part whose file is missing or differs is rewritten from its hot batches), and
a batch that is hot again although a ``deleted`` part holds it (a spilled batch replayed
after its day was archived) is retired without being archived twice. A kill at any point
loses nothing (hot rows go only after a verified archive, in the transaction that makes the
archive visible) and duplicates nothing (readers read a batch hot while it exists; see
``storage/batch_source.py``). ``traffic_hourly`` and ``outcomes`` are kept: labels of archived
predictions still join. Then ``job_runs``, final leases and (when ``profile_days`` is set)
hourly profiles past their horizon are pruned (``jobs/prune.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.errors import DataError
from lifecycle.jobs.prune import prune_job_runs, prune_leases, prune_profiles
from lifecycle.storage.archive_format import ArchivedBatch, group_key
from lifecycle.storage.archive_repo import (
    DELETED,
    VERIFIED,
    WRITTEN,
    PartRow,
    entries_json,
    parts,
    record_written,
    retire_batches,
    set_state,
)
from lifecycle.storage.archive_store import PartWriter, part_url, verify_part
from lifecycle.storage.codec import decode_table
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.tables import ModelRow, PredictionBatch
from lifecycle.storage.types import utcnow

__all__ = ["RetentionResult", "archive_model", "archive_url_for", "cutoff_for",
           "run_retention"]

logger = logging.getLogger("lifecycle.jobs")

#: Called with the step just completed ("written", "recorded", "verified", "retired"): the
#: tests' way to kill the process between two steps.
Checkpoint = Callable[[str], None]
_BLOB_CHUNK = 64


@dataclass(frozen=True)
class RetentionResult:
    """What one run did for one model."""

    model: str
    cutoff: datetime
    hot_days: int
    parts_written: int = 0
    parts_retired: int = 0
    batches_archived: int = 0
    rows_archived: int = 0
    replayed_batches_retired: int = 0
    job_runs_pruned: int = 0
    leases_pruned: int = 0
    profiles_pruned: int | None = None
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cutoff"] = self.cutoff.isoformat()
        return out


def archive_url_for(settings: Settings) -> str:
    """The archive's URL: ``[retention] archive_url`` (or ``LIFECYCLE_ARCHIVE_URL``), else
    ``<home>/archive``."""
    return settings.retention.archive_url or str(settings.home / "archive")


def cutoff_for(settings: Settings, model: str, at: datetime) -> datetime:
    """Batches that ended before this instant are archived: midnight UTC of ``at``'s day,
    ``hot_days`` days back."""
    hot = settings.retention.hot_days_for(settings.model(model).retention)
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=hot)


def _noop(step: str) -> None:
    return None


def _decoded(engine: Engine, ids: Sequence[str]) -> Iterator[ArchivedBatch]:
    """The batches ``ids`` as stored, in the order given, read a chunk of blobs at a time."""
    for start in range(0, len(ids), _BLOB_CHUNK):
        chunk = list(ids[start:start + _BLOB_CHUNK])
        with engine.connect() as conn:
            rows = {r[0]: r for r in conn.execute(
                select(PredictionBatch.id, PredictionBatch.inputs, PredictionBatch.outputs)
                .where(PredictionBatch.id.in_(chunk)))}
        for batch_id in chunk:
            if batch_id not in rows:
                raise DataError(f"batch {batch_id} disappeared while being archived; rerun "
                                "the retention job (it resumes where it stopped)")
            _, inputs, outputs = rows[batch_id]
            if outputs is None:
                raise DataError(f"batch {batch_id} has no outputs blob: it cannot be archived")
            yield ArchivedBatch(batch_id, decode_table(outputs),
                                decode_table(inputs) if inputs is not None else None)


def _finish(engine: Engine, model_id: int, part: PartRow, checkpoint: Checkpoint) -> int:
    """Take a ``written`` or ``verified`` part to ``deleted``; returns the rows archived."""
    ids = part.batch_ids
    if part.state == WRITTEN:
        expected = (part.n_rows, part.content_sha256)
        if verify_part(part.url, ids) != expected:  # missing or not what was written
            written = PartWriter.write(part.url, _decoded(engine, ids))
            if (written.n_rows, written.content_sha256) != expected:
                raise DataError(f"archive part {part.url}: the hot batches no longer match "
                                "the manifest (rows or content hash); investigate before "
                                "rerunning")
            if verify_part(part.url, ids) != expected:
                raise DataError(f"archive part {part.url} does not read back as written (rows "
                                "or content hash differ); check the archive storage and rerun")
        with engine.begin() as conn:
            set_state(conn, part.id, WRITTEN, VERIFIED)
        checkpoint("verified")
    with engine.begin() as conn:
        retire_batches(conn, model_id, ids, part.id)
    checkpoint("retired")
    return part.n_rows


def _eligible(engine: Engine, model_id: int, cutoff: datetime
              ) -> list[tuple[str, datetime, datetime, int]]:
    with engine.connect() as conn:
        return [(r[0], r[1], r[2], int(r[3])) for r in conn.execute(
            select(PredictionBatch.id, PredictionBatch.ts_min, PredictionBatch.ts_max,
                   PredictionBatch.n_rows)
            .where(PredictionBatch.model_id == model_id, PredictionBatch.ts_max < cutoff,
                   PredictionBatch.outputs.is_not(None))
            .order_by(PredictionBatch.ts_min, PredictionBatch.id))]


def _archive_day(engine: Engine, model: str, model_id: int, day: str,
                 batches: list[tuple[str, datetime, datetime, int]], archive_url: str,
                 checkpoint: Checkpoint) -> list[PartRow]:
    """Write the day's batches (one part per schema) and record them ``written``."""
    info = {b[0]: b for b in batches}
    writers: dict[bytes, PartWriter] = {}
    folder = part_url(archive_url, model, day, ["-"]).rsplit("/", 1)[0]
    try:
        for batch in _decoded(engine, [b[0] for b in batches]):
            if not batch.num_rows:
                continue  # nothing to read; it stays hot
            key = group_key(batch)
            if key not in writers:
                writers[key] = PartWriter(folder)
            writers[key].add(batch)
        committed = []
        for writer in writers.values():
            committed.append((writer.ids, writer.commit(
                part_url(archive_url, model, day, writer.ids))))
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    checkpoint("written")
    recorded = []
    for ids, written in committed:
        entries = entries_json(info[i] for i in ids)
        with engine.begin() as conn:
            part_id = record_written(conn, model_id, day, written, entries)
        recorded.append(PartRow(part_id, model_id, day, written.url, WRITTEN, written.n_rows,
                                written.content_sha256, written.size_bytes, ()))
    checkpoint("recorded")
    return recorded


def archive_model(engine: Engine, model: str, cutoff: datetime, archive_url: str, *,
                  hot_days: int, dry_run: bool = False,
                  checkpoint: Checkpoint = _noop) -> RetentionResult:
    """Archive and retire ``model``'s batches that ended before ``cutoff`` (see module doc)."""
    with Session(engine) as session:
        model_id = get_model(session, model).id
    done: dict[str, Any] = dict(parts_written=0, parts_retired=0, batches_archived=0,
                                rows_archived=0, replayed_batches_retired=0)
    eligible = _eligible(engine, model_id, cutoff)
    if dry_run:
        return RetentionResult(model, cutoff, hot_days, batches_archived=len(eligible),
                               rows_archived=sum(b[3] for b in eligible), dry_run=True)
    with engine.connect() as conn:
        pending = parts(conn, model_id, states=(WRITTEN, VERIFIED))
    for part in pending:
        done["rows_archived"] += _finish(engine, model_id, part, checkpoint)
        done["parts_retired"] += 1
        done["batches_archived"] += len(part.batches)
    eligible = _eligible(engine, model_id, cutoff) if pending else eligible
    if eligible:
        with engine.connect() as conn:
            retired = {e.batch_id for p in parts(conn, model_id, states=(DELETED,),
                                                 since=eligible[0][1], until=cutoff)
                       for e in p.batches}
        replayed = [b[0] for b in eligible if b[0] in retired]
        if replayed:
            with engine.begin() as conn:
                done["replayed_batches_retired"] = retire_batches(conn, model_id, replayed)
        by_day: dict[str, list[tuple[str, datetime, datetime, int]]] = {}
        for b in eligible:
            if b[0] not in retired:
                by_day.setdefault(b[1].astimezone(UTC).date().isoformat(), []).append(b)
        for day, batches in sorted(by_day.items()):
            for part in _archive_day(engine, model, model_id, day, batches, archive_url,
                                     checkpoint):
                with engine.connect() as conn:
                    fresh = [p for p in parts(conn, model_id, states=(WRITTEN,))
                             if p.id == part.id]
                for p in fresh:
                    done["parts_written"] += 1
                    done["rows_archived"] += _finish(engine, model_id, p, checkpoint)
                    done["parts_retired"] += 1
                    done["batches_archived"] += len(p.batches)
    return RetentionResult(model, cutoff, hot_days, **done)


def run_retention(engine: Engine, settings: Settings, model: str, window_start: datetime,
                  window_end: datetime, *, now: datetime | None = None) -> Any:
    """The scheduled job: archive ``model``'s days older than ``hot_days`` (counted back from
    the window's end), then prune ``job_runs``, final leases and old profiles."""
    from lifecycle.jobs.outcome import EmptyWindow

    now = now or utcnow()
    rs = settings.retention
    if not rs.enabled:
        return EmptyWindow("retention is disabled ([retention] enabled = false)")
    with engine.connect() as conn:
        model_id = conn.execute(select(ModelRow.id).where(ModelRow.name == model)).scalar()
    if model_id is None:
        return EmptyWindow(f"model {model!r} has logged nothing yet")
    hot_days = rs.hot_days_for(settings.model(model).retention)
    result = archive_model(engine, model, cutoff_for(settings, model, window_end),
                           archive_url_for(settings), hot_days=hot_days)
    keep_runs = timedelta(days=rs.job_runs_days)
    profiles = (prune_profiles(engine, int(model_id), now - timedelta(days=rs.profile_days))
                if rs.profile_days is not None else None)
    result = replace(result,
                     job_runs_pruned=prune_job_runs(engine, model, now - keep_runs),
                     leases_pruned=prune_leases(engine, settings, model, now, keep_runs),
                     profiles_pruned=profiles)
    logger.info("retention %s: %s", model, result.to_dict())
    return result

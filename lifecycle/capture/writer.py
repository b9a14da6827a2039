"""The background writer: one thread per database URL per process.

The hot path appends a record to a ``collections.deque`` under a short lock (the queue is
bounded in rows) and, past a threshold, sets an event unless it is already set. The writer
wakes every ``flush_interval_s`` (or earlier), takes up to ``batch_size`` rows, groups them
by model, converts them to columns, and writes each model's rows as one batch in one
transaction. When the database does not answer, the batch is appended to the spill file and
the writer switches to *degraded* mode: later batches go straight to the spill file (keeping
their order) and the database is retried with backoff (0.2 s doubling to 30 s); once it
answers, every spill file of this database is replayed, oldest first (groups of about
``batch_size`` rows per transaction), and direct writes resume. Rows that overflow a full
queue also go to the spill file, but do not degrade the writer: queued rows keep going
straight to the database and the overflow is replayed once the queue is empty.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.health import Health, describe, is_outage, schema_missing
from lifecycle.capture.importances import FeatureImportances
from lifecycle.capture.records import R_IN, R_SPEC, Record, count_rows
from lifecycle.capture.spill import (
    SpillWriter,
    Unreadable,
    pending_rows,
    replay,
    spill_files,
    spill_pid,
    url_tag,
)
from lifecycle.config import CaptureSettings
from lifecycle.storage.capture_repo import (
    StoredBatch,
    merge_model_details,
    model_id_for,
    write_batches,
)
from lifecycle.storage.engine import make_engine, redact_url

log = logging.getLogger("lifecycle.capture")

_RETRY_MIN_S, _RETRY_MAX_S = 0.2, 30.0
#: Between the steps of a batch (building a model's columns, encoding them, each database
#: statement) the writer thread sleeps this long. The steps call into numpy, Arrow, SQLite
#: and SQLAlchemy, which release and retake the GIL many times a millisecond; a serving
#: thread that wakes up meanwhile is signalled, finds the GIL taken again, and waits anew,
#: up to the whole batch (CPython gives it the GIL by force only after 5 ms without a
#: switch). A real sleep lets it in (``benchmarks/capture_writer.py gil``: beside loops of
#: small transactions a thread waking every 2 ms waited 25.9 ms more on average without the
#: sleep, nothing more with it). The cost is the writer's wall time only: five sleeps per
#: batch of one model, ~0.8 ms (a 0.1 ms sleep takes ~157 µs here).
HANDOFF_S = 0.0001
_sleep = time.sleep  # the handoff's sleep (tests watch it)


class Writer:
    """Batches records into one database; spills and replays when it does not answer."""

    def __init__(self, database_url: str, capture: CaptureSettings, spill_dir: Path) -> None:
        self.url = database_url
        self.capture = capture
        self.tag = url_tag(database_url)
        self.spill_dir = Path(spill_dir)
        self.spill = SpillWriter(self.spill_dir, self.tag)
        self.rejected = SpillWriter(self.spill_dir / "rejected", self.tag)
        self.queue: deque[Any] = deque()
        self.pending_rows = 0
        self._queue_lock = threading.RLock()
        self.max_rows = capture.queue_size
        self.wake_at = max(1, min(capture.batch_size, capture.queue_size // 4))
        self.wake = threading.Event()
        self._overflow_lock = threading.RLock()
        self._overflow_buf: list[Record] = []
        self._overflow_rows = 0
        self.overflow_chunk = max(1, min(capture.batch_size, 1000))
        self.health = Health()
        self._engine: Engine | None = None
        self._model_ids: dict[str, int] = {}
        # feature importances of wrapped estimators by model name: the last object seen in
        # a batch (an identity check per batch, nothing more once written), those waiting
        # for the next transaction, and those committed to ``models.details``
        self._importances_seen: dict[str, FeatureImportances] = {}
        self._importances_pending: dict[str, FeatureImportances] = {}
        self._importances_written: dict[str, FeatureImportances] = {}
        # re-entrant: the SIGTERM handler drains on the main thread, which may have been
        # interrupted while holding one of these
        self._write_lock = threading.RLock()
        self._spill_seq = 0
        # degraded: the database is away, every batch goes to the spill file (order kept);
        # spill_pending: spill files wait for replay (after an outage, or rows that
        # overflowed a full queue while the database was fine: replayed when the queue is
        # empty, direct writes go on meanwhile)
        self.degraded = bool(spill_files(self.spill_dir, self.tag))
        self.spill_pending = self.degraded
        self._pending_lock = threading.Lock()
        self._next_retry = 0.0
        self._backoff = _RETRY_MIN_S
        self._stop = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ hot path

    def submit(self, record: Record, rows: int | None = None) -> None:
        """Enqueue one record (never blocks; a full queue spills on the caller's thread).

        The queue is bounded in rows (``capture.queue_size``), so its memory is bounded
        whether calls carry one row or a thousand. ``rows`` is ``count_rows(record[R_IN])``
        when the caller already knows it (the writer subtracts exactly that in ``_take``).
        An empty queue always takes the record, however many rows it has.
        """
        n = count_rows(record[R_IN]) if rows is None else rows
        lock = self._queue_lock
        lock.acquire()  # not ``with``: ~0.1 us cheaper on this path
        try:
            pending = self.pending_rows
            if pending and pending + n > self.max_rows:
                full = True
            else:
                full = False
                self.pending_rows = pending = pending + n
                self.queue.append(record)
        finally:
            lock.release()
        if full:
            self._overflow(record, n)
        elif pending >= self.wake_at and not self.wake.is_set():
            # Event.set() costs ~1 us (a Condition): skip it while the writer is already
            # woken. No lost wake-up: the writer clears the event *before* its cycle, and
            # the cycle takes until the queue is empty, so a record appended while the
            # event is still set is taken by that cycle.
            self.wake.set()

    def _overflow(self, record: Record, rows: int | None = None) -> None:
        """Queue full: collect the record in a small side buffer that goes to the spill file
        in chunks (by the caller that fills it, or by the writer's next cycle), so one-row
        calls do not become one-row spill frames."""
        n = count_rows(record[R_IN]) if rows is None else rows
        self._count("overflow", n)
        with self._overflow_lock:
            self._overflow_buf.append(record)
            self._overflow_rows += n
            if self._overflow_rows < self.overflow_chunk:
                return
            chunk, self._overflow_buf, self._overflow_rows = self._overflow_buf, [], 0
        self._spill_records(chunk)

    def _spill_overflow(self) -> None:
        with self._overflow_lock:
            chunk, self._overflow_buf, self._overflow_rows = self._overflow_buf, [], 0
        if chunk:
            self._spill_records(chunk)

    def _spill_records(self, records: list[Record]) -> None:
        try:
            self._count("logged", sum(count_rows(r[R_IN]) for r in records))
            for batch in self._encode(records):
                self._spill(batch, degrade=False)
        except Exception as exc:  # noqa: BLE001 - never raise into the caller
            self.note("overflow", f"could not spill records from a full queue: {describe(exc)}")

    def write_sync(self, record: Record) -> None:
        """``durable=True``: write now on the caller's thread (spill with fsync on failure)."""
        try:
            self._count("logged", count_rows(record[R_IN]))
            for batch in self._encode([record]):
                with self._write_lock:
                    if self.degraded:
                        self._spill(batch, fsync=True)
                    else:
                        self._deliver(batch, fsync=True)
        except Exception as exc:  # noqa: BLE001
            self.note("durable", f"durable write failed: {describe(exc)}")

    # ------------------------------------------------------------------ thread

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lifecycle-capture-writer",
                                            daemon=True)
            self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        interval = self.capture.flush_interval_s
        while True:
            self.wake.wait(interval)
            self.wake.clear()
            try:
                self._cycle()
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything
                self.note("writer", f"writer cycle failed: {describe(exc)}")
            if self._stop and not self.queue:
                return

    def _cycle(self) -> None:
        self._spill_overflow()
        if self.degraded and time.monotonic() >= self._next_retry:
            with self._write_lock:
                self._try_replay()
        while self.queue:
            records, markers = self._take()
            if records:
                self._count("logged", sum(count_rows(r[R_IN]) for r in records))
                batches = self._encode(records)
                with self._write_lock:
                    for batch in batches:
                        if self.degraded:
                            self._spill(batch)
                        else:
                            self._deliver(batch)
            if markers:
                self._spill_overflow()  # flush() covers records that overflowed before it
            for marker in markers:
                marker.set()
        if self.spill_pending and not self.degraded and not self.queue:
            with self._write_lock:  # overflow frames, now that the queue is drained
                self._try_replay()

    def _take(self) -> tuple[list[Record], list[threading.Event]]:
        records: list[Record] = []
        markers: list[threading.Event] = []
        rows = 0
        limit = self.capture.batch_size
        queue = self.queue
        while queue and rows < limit:
            item = queue.popleft()
            if isinstance(item, threading.Event):
                markers.append(item)
                break
            records.append(item)
            rows += count_rows(item[R_IN])
        if rows:
            with self._queue_lock:
                self.pending_rows -= rows
        return records, markers

    # ------------------------------------------------------------------ batches

    def _encode(self, records: Sequence[Record]) -> list[StoredBatch]:
        groups: dict[str, list[Record]] = {}
        for rec in records:
            groups.setdefault(rec[R_SPEC].name, []).append(rec)
        out = []
        for name, group in groups.items():
            if not any(count_rows(r[R_IN]) for r in group):
                continue
            importances = group[-1][R_SPEC].importances
            if importances is not None and self._importances_seen.get(name) is not importances:
                self._note_importances(name, importances)
            try:
                built = build_batch(group, self.note)
                self.handoff()
                out.append(encode(built))
                self.handoff()
            except Exception as exc:  # noqa: BLE001 - isolate the record that cannot convert
                out.extend(self._encode_one_by_one(group, exc))
        return out

    def _note_importances(self, name: str, importances: FeatureImportances) -> None:
        """A batch of ``name`` carries importances not seen before: write them with the next
        transaction of that model unless they equal what this writer already wrote (a
        refit model wrapped again gives new ones)."""
        self._importances_seen[name] = importances
        written = self._importances_written.get(name)
        if written is None or (written.values, written.source) != (importances.values,
                                                                   importances.source):
            self._importances_pending[name] = importances
        else:
            self._importances_pending.pop(name, None)

    def handoff(self) -> None:
        """On the writer thread only: sleep ``HANDOFF_S`` so a serving thread waiting for
        the GIL gets it (callers that encode or write themselves - overflow, ``durable`` -
        do not wait)."""
        thread = self._thread
        if thread is not None and thread.ident == threading.get_ident():
            _sleep(HANDOFF_S)

    def _encode_one_by_one(self, group: list[Record], first: Exception) -> list[StoredBatch]:
        out = []
        for rec in group:
            if not count_rows(rec[R_IN]):
                continue
            try:
                out.append(encode(build_batch([rec], self.note)))
            except Exception as exc:  # noqa: BLE001
                self._count("rejected", count_rows(rec[R_IN]))
                self.note("convert", f"a record of {rec[R_SPEC].name!r} could not be "
                                     f"converted and was dropped: {describe(exc)} "
                                     f"(first: {describe(first)})")
        return out

    def _engine_or_make(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(
                self.url,
                timeout_s=self.capture.db_timeout_s,
                application_name="lifecycle-capture",
                # a bigger page cache (64 MiB); WAL checkpoints as on every connection
                sqlite_pragmas={"cache_size": -65536},
            )
        return self._engine

    def _write(self, batch: StoredBatch) -> bool:
        return self._write_many([batch])[0]

    def _write_many(self, batches: list[StoredBatch]) -> list[bool]:
        """Write ``batches`` in ONE transaction; per batch, False when already present."""
        engine = self._engine_or_make()
        ids = dict(self._model_ids)  # cached only once the transaction has committed
        with engine.begin() as conn:
            for batch in batches:
                if batch.model not in ids:
                    ids[batch.model] = model_id_for(conn, batch.model)
            pending = self._importances_pending
            details = ({b.model: pending[b.model] for b in batches if b.model in pending}
                       if pending else {})
            for model, importances in details.items():
                merge_model_details(conn, ids[model], importances.to_details())
            written = write_batches(conn, [(ids[b.model], b) for b in batches],
                                    between=self.handoff)
        self._model_ids.update(ids)
        for model, importances in details.items():  # committed with the batch
            self._importances_written[model] = importances
            if self._importances_pending.get(model) is importances:
                del self._importances_pending[model]
        return written

    def _deliver(self, batch: StoredBatch, *, fsync: bool = False) -> None:
        try:
            if self._write(batch):
                self._count("written", batch.n_rows)
            else:
                self._count("duplicates_skipped", batch.n_rows)
        except Exception as exc:  # noqa: BLE001
            if is_outage(exc):
                self._outage(exc)
                self._spill(batch, fsync=fsync)
            else:
                self._reject(batch, exc)

    def _outage(self, exc: BaseException) -> None:
        self._model_ids.clear()
        if schema_missing(exc):
            self.note("schema_missing",
                      f"the database {redact_url(self.url)} has no lifecycle schema; run "
                      f"`lifecycle db upgrade` (predictions are kept in {self.spill_dir} "
                      "and written once the schema exists)")
        else:
            self.note("database_unavailable",
                      f"cannot write predictions to {redact_url(self.url)}: {describe(exc)}; "
                      f"spilling to {self.spill_dir} and retrying")
        if not self.degraded:
            self._backoff = _RETRY_MIN_S
        self.degraded = True
        self._next_retry = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, _RETRY_MAX_S)

    def _reject(self, batch: StoredBatch, exc: BaseException) -> None:
        self._count("rejected", batch.n_rows)
        self.note("rejected", f"the database refused a batch of {batch.n_rows} rows of "
                              f"{batch.model!r} ({describe(exc)}); it is kept in "
                              f"{self.rejected.folder} for inspection")
        try:
            self.rejected.append(batch)
        except Exception as spill_exc:  # noqa: BLE001
            self.note("spill", f"cannot write the rejected batch: {spill_exc!r}")

    def _spill(self, batch: StoredBatch, *, fsync: bool = False, degrade: bool = True) -> None:
        """Append ``batch`` to the spill file. ``degrade=False`` (overflow of a full queue)
        leaves direct writes on; the frame is replayed once the queue is empty."""
        try:
            self.spill.append(batch, fsync=fsync)
            with self._pending_lock:
                self._spill_seq += 1
                self.spill_pending = True
            if degrade:
                self.degraded = True
            self._count("spilled", batch.n_rows)
        except Exception as exc:  # noqa: BLE001
            self._count("rejected", batch.n_rows)
            self.note("spill", f"cannot append to the spill folder {self.spill_dir} "
                               f"({exc!r}); {batch.n_rows} rows of {batch.model!r} are lost")

    def _write_or_reject(self, batch: StoredBatch) -> bool:
        try:
            return self._write(batch)
        except Exception as exc:
            if is_outage(exc):
                raise
            self._reject(batch, exc)
            return True

    def _write_group(self, batches: list[StoredBatch]) -> list[bool]:
        """Replay: several spilled batches in ONE transaction (each keeps its batch id, so a
        batch already present is skipped). When the database refuses the group for its
        content, the batches are retried one by one so only the bad one is rejected."""
        if len(batches) == 1:
            return [self._write_or_reject(batches[0])]
        try:
            return self._write_many(batches)
        except Exception as exc:
            if is_outage(exc):
                raise
            return [self._write_or_reject(batch) for batch in batches]

    def _unreadable(self, bad: Unreadable) -> None:
        """Replay met bytes that hold no readable frame: counted and logged (the frames
        before and after them are replayed; the bytes are kept in ``rejected/``)."""
        if bad.torn_tail:
            kind, what = "spill_torn_tail", "a frame cut short at its end (a crash while " \
                                            "appending)"
        else:
            kind, what = "spill_corrupt", "a corrupted stretch (bad length, magic or CRC)"
        self.note(kind, f"spill file {bad.source.name} has {what}: {bad.size} bytes at offset "
                        f"{bad.offset} could not be replayed and were moved to {bad.saved}; "
                        "every readable frame before and after them was replayed")

    def _try_replay(self) -> None:
        seq = self._spill_seq
        self.spill.close()
        held: list[Path] = []
        try:
            written, skipped = replay(self.spill_dir, self.tag, self._write_group,
                                      group_rows=self.capture.batch_size, held=held,
                                      on_unreadable=self._unreadable)
        except Exception as exc:  # noqa: BLE001
            self._outage(exc)
            return
        self._count("replayed", written)
        self._count("duplicates_skipped", skipped)
        if written or skipped:
            log.info("lifecycle capture: database %s answers again; replayed %d spilled rows",
                     redact_url(self.url), written)
        # a file another live process is appending to is its own to replay: waiting for it
        # would keep this writer spilling (and its flush() waiting) for no reason. Files of
        # this process (its own open file, or one another process is replaying) still count.
        pid = os.getpid()
        with self._pending_lock:  # no caller-thread spill can slip between check and set
            left = (self._spill_seq != seq or self.spill.path is not None or any(
                path not in held or spill_pid(path) == pid
                for path in spill_files(self.spill_dir, self.tag)))
            self.spill_pending = left
        self.degraded = self.degraded and left
        self._backoff = _RETRY_MIN_S
        self._next_retry = time.monotonic() + (_RETRY_MIN_S if self.degraded else 0.0)

    # ------------------------------------------------------------------ control

    def flush(self, timeout: float | None = None, *, until_database: bool = True) -> bool:
        """Wait until everything submitted so far is written (True) or the timeout passes.

        With ``until_database=False`` it is enough that records are durable (in the
        database or in the spill file); exit uses that.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.alive:
            self._drain_inline()
        else:
            marker = threading.Event()
            self.queue.append(marker)
            self.wake.set()
            if not marker.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
                return False
        if not until_database:
            return True
        while self.degraded or self.spill_pending:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._next_retry = min(self._next_retry, time.monotonic() + _RETRY_MIN_S)
            if self.alive:
                self.wake.set()
                time.sleep(0.05)
            else:
                with self._write_lock:
                    self._try_replay()
                if self.degraded:
                    time.sleep(_RETRY_MIN_S)
        return True

    def _drain_inline(self) -> None:
        """Process the queue on the calling thread (no writer thread, e.g. at exit)."""
        try:
            self._cycle()
        except Exception as exc:  # noqa: BLE001
            self.note("writer", f"draining the queue failed: {describe(exc)}")

    def close(self, timeout: float | None = None) -> bool:
        """Drain (written or spilled), stop the thread, release files and connections."""
        done = self.flush(timeout, until_database=False)
        self._stop = True
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0 if done else 0.1)
        self._spill_overflow()
        if self.queue:  # the writer is stuck (database hanging): keep what is left on disk
            leftover = [r for r in list(self.queue) if not isinstance(r, threading.Event)]
            self.queue.clear()
            self.pending_rows = 0
            if leftover:
                self._count("logged", sum(count_rows(r[R_IN]) for r in leftover))
                for batch in self._encode(leftover):
                    self._spill(batch, fsync=True)
        self.spill.close()
        self.rejected.close()
        if self._engine is not None and not (self._thread and self._thread.is_alive()):
            self._engine.dispose()
        return done

    def join(self, timeout: float) -> None:
        """Wait for the writer thread to end (after :meth:`close`)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def abandon(self) -> None:
        """In a forked child: forget the parent's thread, queue, files and connections."""
        self.spill.abandon()
        self.rejected.abandon()
        if self._engine is not None:
            self._engine.dispose(close=False)
        self.queue = deque()
        self.pending_rows = 0
        self._queue_lock = threading.RLock()
        self._overflow_lock = threading.RLock()
        self._pending_lock = threading.Lock()
        self._overflow_buf = []
        self._overflow_rows = 0

    # ------------------------------------------------------------------ bookkeeping

    def _count(self, name: str, n: int = 1) -> None:
        self.health.count(name, n)

    def note(self, kind: str, message: str) -> None:
        """Count an error of ``kind`` and log it, at most once per minute per kind."""
        self.health.note(kind, message)

    def snapshot(self) -> dict[str, Any]:
        out = self.health.snapshot()
        out["queued"] = self.pending_rows
        out["degraded"] = self.degraded
        out["spill_pending_rows"] = (pending_rows(self.spill_dir, self.tag)
                                     if self.spill_pending else 0)
        return out

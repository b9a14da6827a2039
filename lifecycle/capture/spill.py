"""Append-only spill files: batches the database did not take, replayed in order later.

File name: ``<url tag>-<creation time ns>-<pid>-<random>.spill`` in the spill folder; the tag
is a hash of the database URL, so a folder shared by several databases replays each batch
into the right one. Each process appends to its own file and holds an exclusive ``flock``
on it while it is open, so another process replays only files nobody is writing.

Frame layout (little endian)::

    b"LCS1" | header_len u32 | inputs_len u64 | outputs_len u64 | crc32 u32
    | header (JSON) | inputs blob | outputs blob

A frame cut short by a crash (or a failed write, which is truncated away) is detected by
its length/CRC and ignored: it was never acknowledged. A file is deleted only after every
frame in it has been written to the database; replaying the same frame again is a no-op
(the batch id is the primary key), so a crash during replay duplicates nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa

from lifecycle.capture.ids import getrandbits
from lifecycle.storage.capture_repo import StoredBatch
from lifecycle.storage.codec import encode_table

MAGIC = b"LCS1"
_HEAD = struct.Struct("<4sIQQI")
SUFFIX = ".spill"


def url_tag(database_url: str) -> str:
    """A short stable tag of a database URL (names spill files, never shows the URL)."""
    return hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:16]


def _frame(batch: StoredBatch) -> bytes:
    header = json.dumps({
        "batch_id": batch.batch_id, "model": batch.model, "n_rows": batch.n_rows,
        "ts_min_us": batch.ts_min_us, "ts_max_us": batch.ts_max_us,
    }).encode("utf-8")
    body = header + batch.inputs_blob + batch.outputs_blob
    head = _HEAD.pack(MAGIC, len(header), len(batch.inputs_blob), len(batch.outputs_blob),
                      zlib.crc32(body))
    return head + body


class SpillWriter:
    """Appends frames to this process's current spill file (thread-safe)."""

    def __init__(self, folder: Path, tag: str) -> None:
        self.folder = Path(folder)
        self.tag = tag
        self._lock = threading.RLock()
        self._fh: IO[bytes] | None = None
        self.path: Path | None = None

    def _open(self) -> IO[bytes]:
        if self._fh is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = (f"{self.tag}-{time.time_ns():020d}-{os.getpid()}-"
                    f"{getrandbits(32):08x}{SUFFIX}")
            path = self.folder / name
            # created under a name replay does not list, locked, then renamed: a replay
            # running right now can never take (and delete) the new file before it is locked
            hidden = self.folder / f".{name}.new"
            fh = open(hidden, "ab")  # noqa: SIM115 - kept open across appends
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.rename(hidden, path)
            except BaseException:
                fh.close()
                hidden.unlink(missing_ok=True)
                raise
            self._fh, self.path = fh, path
        return self._fh

    def append(self, batch: StoredBatch, *, fsync: bool = False) -> None:
        """Append one batch; on failure the partial frame is truncated away and it raises."""
        data = _frame(batch)
        with self._lock:
            fh = self._open()
            start = fh.tell()
            try:
                fh.write(data)
                fh.flush()
                if fsync:
                    os.fsync(fh.fileno())
            except BaseException:
                try:
                    fh.truncate(start)
                    fh.seek(start)
                except OSError:
                    pass
                raise

    def close(self) -> None:
        """Close (and unlock) the current file; the next append starts a new one."""
        with self._lock:
            if self._fh is not None:
                try:
                    self._fh.close()
                finally:
                    self._fh = None
                    self.path = None

    def abandon(self) -> None:
        """Drop the handle without touching the file (used in a forked child)."""
        self._lock = threading.RLock()
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
        self._fh = None
        self.path = None


def read_frames(fh: IO[bytes]) -> Iterator[StoredBatch]:
    """The complete frames of an open spill file, in order (a torn tail is ignored)."""
    while True:
        head = fh.read(_HEAD.size)
        if len(head) < _HEAD.size:
            return
        magic, hlen, ilen, olen, crc = _HEAD.unpack(head)
        if magic != MAGIC:
            return
        body = fh.read(hlen + ilen + olen)
        if len(body) < hlen + ilen + olen or zlib.crc32(body) != crc:
            return
        header = json.loads(body[:hlen])
        yield _with_request_ids(StoredBatch(
            batch_id=header["batch_id"], model=header["model"], n_rows=header["n_rows"],
            ts_min_us=header["ts_min_us"], ts_max_us=header["ts_max_us"],
            inputs_blob=body[hlen:hlen + ilen], outputs_blob=body[hlen + ilen:],
        ), header.get("request_ids"))


def _with_request_ids(batch: StoredBatch, request_ids: list[str | None] | None) -> StoredBatch:
    """Frames spilled before schema revision 0002 kept request ids in the header; they now
    live in the outputs blob (``_request_id``), so such a frame gets them moved there."""
    if not request_ids or all(r is None for r in request_ids):
        return batch
    outputs = batch.outputs()
    if "_request_id" not in outputs.column_names:
        outputs = outputs.append_column("_request_id", pa.array(request_ids, type=pa.string()))
        batch.outputs_table, batch.outputs_blob = outputs, encode_table(outputs)
    return batch


#: Spill files this process is replaying right now (their flock is held). A forked child
#: closes its copies at once: otherwise the lock, shared by both descriptors, would outlive a
#: replay the parent abandons (outage) for as long as the child lives.
_replaying: set[IO[bytes]] = set()


def _close_inherited_replays() -> None:
    for fh in list(_replaying):
        try:
            fh.close()
        except OSError:
            pass
    _replaying.clear()


os.register_at_fork(after_in_child=_close_inherited_replays)


def spill_pid(path: Path) -> int | None:
    """The id of the process that wrote a spill file (from its name)."""
    parts = path.name.split("-")
    return int(parts[2]) if len(parts) >= 4 and parts[2].isdigit() else None


def spill_files(folder: Path, tag: str) -> list[Path]:
    """Spill files for one database, oldest first."""
    if not Path(folder).is_dir():
        return []
    return sorted(Path(folder).glob(f"{tag}-*{SUFFIX}"))


def pending_rows(folder: Path, tag: str) -> int:
    """Rows waiting in spill files of one database (reads headers; for stats and tests)."""
    total = 0
    for path in spill_files(folder, tag):
        try:
            with open(path, "rb") as fh:
                total += sum(b.n_rows for b in read_frames(fh))
        except OSError:
            continue
    return total


def replay(folder: Path, tag: str, write: Callable[[list[StoredBatch]], list[bool]],
           group_rows: int = 10_000, held: list[Path] | None = None) -> tuple[int, int]:
    """Write every spilled batch of one database with ``write`` (oldest first).

    Consecutive frames are handed to ``write`` in groups of about ``group_rows`` rows (one
    transaction per group instead of one per frame: overflow frames hold as few as 1,000
    rows); ``write`` returns, per batch, True if written and False if already present.
    Files another process holds are skipped (and added to ``held`` when given: that
    process replays them itself). A file is deleted once all its frames are in
    the database. Exceptions from ``write`` propagate (the file stays for the next try).
    Returns ``(rows written, rows skipped as already present)``.
    """
    written = skipped = 0

    def flush(group: list[StoredBatch]) -> None:
        nonlocal written, skipped
        for batch, was_written in zip(group, write(group), strict=True):
            if was_written:
                written += batch.n_rows
            else:
                skipped += batch.n_rows

    for path in spill_files(folder, tag):
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            continue
        _replaying.add(fh)
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if held is not None:
                    held.append(path)
                continue
            if not path.exists():  # replayed and removed by someone else meanwhile
                continue
            group: list[StoredBatch] = []
            rows = 0
            for batch in read_frames(fh):
                group.append(batch)
                rows += batch.n_rows
                if rows >= group_rows:
                    flush(group)
                    group, rows = [], 0
            if group:
                flush(group)
            path.unlink(missing_ok=True)
        finally:
            _replaying.discard(fh)
            fh.close()
    return written, skipped

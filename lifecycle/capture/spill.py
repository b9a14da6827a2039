"""Append-only spill files: batches the database did not take, replayed in order later.

File name: ``<url tag>-<creation time ns>-<pid>-<random>.spill`` in the spill folder; the tag
is a hash of the database URL, so a folder shared by several databases replays each batch
into the right one. Each process appends to its own file and holds an exclusive ``flock``
on it while it is open, so another process replays only files nobody is writing.

Frame layout (little endian)::

    b"LCS1" | header_len u32 | inputs_len u64 | outputs_len u64 | crc32 u32
    | header (JSON) | inputs blob | outputs blob

A frame is readable when its magic, lengths and CRC (over header and blobs) all agree. Replay
writes every readable frame: after an unreadable stretch (a flipped byte anywhere in a frame,
a frame cut short by a crash) it resynchronises on the next offset where a readable frame
starts, so the frames after it are replayed too. The unreadable bytes are copied to
``rejected/`` (``<spill file name>.<offset>.unreadable``) before the file is deleted, and the
writer counts and logs them (``errors_by_kind``: ``spill_corrupt``, or ``spill_torn_tail`` for
a frame cut short at the end of a file), so nothing is lost silently. A file is deleted only
after every readable frame in it has been written to the database; replaying the same frame
again is a no-op (the batch id is the primary key), so a crash during replay duplicates
nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import mmap
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

from lifecycle.capture.ids import getrandbits
from lifecycle.files import make_private_dir, open_private, write_private_file
from lifecycle.storage.capture_repo import StoredBatch
from lifecycle.storage.codec import encode_table

MAGIC = b"LCS1"
_HEAD = struct.Struct("<4sIQQI")
SUFFIX = ".spill"
#: Subfolder of the spill folder for batches the database refused and unreadable bytes.
REJECTED = "rejected"


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
            make_private_dir(self.folder)
            name = (f"{self.tag}-{time.time_ns():020d}-{os.getpid()}-"
                    f"{getrandbits(32):08x}{SUFFIX}")
            path = self.folder / name
            # created under a name replay does not list, locked, then renamed: a replay
            # running right now can never take (and delete) the new file before it is locked
            hidden = self.folder / f".{name}.new"
            # owner-only (0600): a spill file holds the model's inputs and outputs
            fh = os.fdopen(open_private(hidden, os.O_WRONLY | os.O_APPEND), "ab")
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


@dataclass(frozen=True)
class Unreadable:
    """A stretch of a spill file that holds no readable frame (copied to ``saved``)."""

    source: Path
    offset: int
    size: int
    #: True for a frame cut short at the end of the file (a crash while appending).
    torn_tail: bool
    saved: Path | None = None


def _frame_at(buf: bytes | mmap.mmap, pos: int) -> tuple[int, StoredBatch] | None:
    """The frame starting at ``pos`` and the offset after it, or None if it is unreadable."""
    n = len(buf)
    start = pos + _HEAD.size
    if start > n:
        return None
    magic, hlen, ilen, olen, crc = _HEAD.unpack_from(buf, pos)
    end = start + hlen + ilen + olen
    if magic != MAGIC or end > n:
        return None
    body = buf[start:end]
    if zlib.crc32(body) != crc:
        return None
    try:
        header = json.loads(body[:hlen])
        batch = StoredBatch(
            batch_id=header["batch_id"], model=header["model"], n_rows=header["n_rows"],
            ts_min_us=header["ts_min_us"], ts_max_us=header["ts_max_us"],
            inputs_blob=body[hlen:hlen + ilen], outputs_blob=body[hlen + ilen:],
        )
    except (ValueError, KeyError, TypeError):
        return None
    return end, _with_request_ids(batch, header.get("request_ids"))


def _torn(buf: bytes | mmap.mmap, pos: int) -> bool:
    """True when the unreadable stretch from ``pos`` to the end of the file is a frame cut
    short: a partial header, or a whole header whose frame would end past the end."""
    n = len(buf)
    if pos + _HEAD.size > n:
        return MAGIC.startswith(bytes(buf[pos:pos + len(MAGIC)]))
    magic, hlen, ilen, olen, _ = _HEAD.unpack_from(buf, pos)
    return magic == MAGIC and pos + _HEAD.size + hlen + ilen + olen > n


def scan(buf: bytes | mmap.mmap) -> Iterator[tuple[int, int, StoredBatch | None]]:
    """``(offset, size, batch)`` for each readable frame of a spill file's bytes, in order,
    and ``(offset, size, None)`` for each unreadable stretch between them (resynchronised
    on the next offset where a readable frame starts)."""
    n, pos = len(buf), 0
    while pos < n:
        found = _frame_at(buf, pos)
        if found is not None:
            end, batch = found
            yield pos, end - pos, batch
            pos = end
            continue
        nxt = buf.find(MAGIC, pos + 1)
        while nxt != -1 and _frame_at(buf, nxt) is None:
            nxt = buf.find(MAGIC, nxt + 1)
        stop = n if nxt == -1 else nxt
        yield pos, stop - pos, None
        pos = stop


def _mapped(fh: IO[bytes]) -> bytes | mmap.mmap:
    """The whole file, memory-mapped when it can be (spill files can be large)."""
    try:
        fileno = fh.fileno()
    except (AttributeError, io.UnsupportedOperation):
        return fh.read()
    if os.fstat(fileno).st_size == 0:
        return b""
    return mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)


def read_frames(fh: IO[bytes]) -> Iterator[StoredBatch]:
    """The readable frames of an open spill file, in order (unreadable stretches skipped)."""
    buf = _mapped(fh)
    try:
        for _, _, batch in scan(buf):
            if batch is not None:
                yield batch
    finally:
        if isinstance(buf, mmap.mmap):
            buf.close()


def save_unreadable(folder: Path, source: Path, offset: int, data: bytes) -> Path:
    """Copy an unreadable stretch of ``source`` to ``folder/rejected/`` (owner-only); the
    name is fixed by file and offset, so saving again after a crashed replay overwrites."""
    target_dir = Path(folder) / REJECTED
    make_private_dir(target_dir)
    target = target_dir / f"{source.name}.{offset:012d}.unreadable"
    tmp = target_dir / f".{target.name}.{os.getpid()}.tmp"
    write_private_file(tmp, data)
    os.replace(tmp, target)
    return target


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
_replaying: set[IO[bytes] | mmap.mmap] = set()


def _close_inherited_replays() -> None:
    # a memory map holds a duplicate of its file's descriptor, which shares the lock too
    for fh in list(_replaying):
        try:
            fh.close()
        except (OSError, BufferError):
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
           group_rows: int = 10_000, held: list[Path] | None = None,
           on_unreadable: Callable[[Unreadable], None] | None = None) -> tuple[int, int]:
    """Write every spilled batch of one database with ``write`` (oldest first).

    Consecutive frames are handed to ``write`` in groups of about ``group_rows`` rows (one
    transaction per group instead of one per frame: overflow frames hold as few as 1,000
    rows); ``write`` returns, per batch, True if written and False if already present.
    Files another process holds are skipped (and added to ``held`` when given: that
    process replays them itself). An unreadable stretch does not stop the file: it is copied
    to ``rejected/`` and reported to ``on_unreadable``, and the frames after it are replayed.
    A file is deleted once all its readable frames are in the database. Exceptions from
    ``write`` (or from saving unreadable bytes) propagate (the file stays for the next try).
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
            buf = _mapped(fh)
            if isinstance(buf, mmap.mmap):
                _replaying.add(buf)
            try:
                for offset, size, batch in scan(buf):
                    if batch is None:
                        torn = offset + size == len(buf) and _torn(buf, offset)
                        saved = save_unreadable(folder, path, offset,
                                                bytes(buf[offset:offset + size]))
                        if on_unreadable is not None:
                            on_unreadable(Unreadable(path, offset, size, torn, saved))
                        continue
                    group.append(batch)
                    rows += batch.n_rows
                    if rows >= group_rows:
                        flush(group)
                        group, rows = [], 0
                if group:
                    flush(group)
            finally:
                if isinstance(buf, mmap.mmap):
                    _replaying.discard(buf)
                    buf.close()
            path.unlink(missing_ok=True)
        finally:
            _replaying.discard(fh)
            fh.close()
    return written, skipped

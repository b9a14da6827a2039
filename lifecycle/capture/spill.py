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

from lifecycle.capture.ids import getrandbits
from lifecycle.storage.capture_repo import StoredBatch

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
        "request_ids": batch.request_ids,
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
            fh = open(path, "ab")  # noqa: SIM115 - kept open across appends
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
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
        yield StoredBatch(
            batch_id=header["batch_id"], model=header["model"], n_rows=header["n_rows"],
            ts_min_us=header["ts_min_us"], ts_max_us=header["ts_max_us"],
            inputs_blob=body[hlen:hlen + ilen], outputs_blob=body[hlen + ilen:],
            request_ids=header.get("request_ids"),
        )


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


def replay(folder: Path, tag: str, write: Callable[[StoredBatch], bool]) -> tuple[int, int]:
    """Write every spilled batch of one database with ``write`` (oldest first).

    Files another process holds are skipped. A file is deleted once all its frames are in
    the database. Exceptions from ``write`` propagate (the file stays for the next try).
    Returns ``(rows written, rows skipped as already present)``.
    """
    written = skipped = 0
    for path in spill_files(folder, tag):
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            if not path.exists():  # replayed and removed by someone else meanwhile
                continue
            for batch in read_frames(fh):
                if write(batch):
                    written += batch.n_rows
                else:
                    skipped += batch.n_rows
            path.unlink(missing_ok=True)
        finally:
            fh.close()
    return written, skipped

"""Archive part files on any fsspec filesystem: write (temporary name, then commit), read back.

Paths: ``<archive_url>/model=<name>/day=YYYY-MM-DD/part-<hash of the batch ids>.parquet``
(Hive-style partitions: any Parquet engine can read the archive directly; the model name is
percent-quoted). A part is written under ``_tmp-<random>.parquet`` in the same folder and
moved to its name once closed: a rename on a local disk (atomic), a copy then delete on an
object store; either way the retention job then reads the file back before trusting it
(:func:`read_part`), and only the manifest (``archive_parts``) makes a file visible to readers,
so a file left behind by a crash is never read.
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import fsspec
import pyarrow.parquet as pq

from lifecycle.storage.archive_format import (
    OUT,
    ArchivedBatch,
    ContentHash,
    combine,
    part_metadata,
    split,
)

__all__ = ["PartReader", "PartWriter", "WrittenPart", "part_url", "read_part", "verify_part"]


@dataclass(frozen=True)
class WrittenPart:
    """What was written: rows, batches, content hash and file size in bytes."""

    url: str
    n_rows: int
    n_batches: int
    content_sha256: str
    size_bytes: int


def part_url(archive_url: str, model: str, day: str, batch_ids: Sequence[str]) -> str:
    """Where the part of these batches goes (the same batches always get the same name)."""
    digest = hashlib.sha256("\n".join(batch_ids).encode()).hexdigest()[:20]
    base = archive_url.rstrip("/")
    return f"{base}/model={quote(model, safe='')}/day={day}/part-{digest}.parquet"


class PartWriter:
    """A part being written: :meth:`add` batches (one schema, one row group each, hashed as
    they go), then :meth:`commit` moves the file to its name, or :meth:`abort` removes it."""

    def __init__(self, folder_url: str) -> None:
        self.fs, folder = fsspec.core.url_to_fs(folder_url)
        self.fs.makedirs(folder, exist_ok=True)
        self.tmp = posixpath.join(folder, f"_tmp-{uuid.uuid4().hex}.parquet")
        self.ids: list[str] = []
        self._digest = ContentHash()
        self._fh: Any = None
        self._writer: pq.ParquetWriter | None = None

    def add(self, batch: ArchivedBatch) -> None:
        table = combine(batch)
        if self._writer is None:
            self._fh = self.fs.open(self.tmp, "wb")
            schema = table.schema.with_metadata(part_metadata(batch))
            self._writer = pq.ParquetWriter(self._fh, schema, compression="zstd")
        self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata),
                                 row_group_size=max(1, table.num_rows))
        self._digest.add(batch)
        self.ids.append(batch.batch_id)

    def commit(self, url: str) -> WrittenPart:
        """Close the file and move it to ``url``."""
        if self._writer is None:
            raise ValueError(f"no batch to write to {url}")
        self._writer.close()
        self._fh.close()
        _, path = fsspec.core.url_to_fs(url)
        self.fs.mv(self.tmp, path)
        return WrittenPart(url, self._digest.n_rows, self._digest.n_batches,
                           self._digest.hexdigest(), int(self.fs.size(path)))

    def abort(self) -> None:
        """Remove the temporary file (after an error)."""
        try:
            if self._fh is not None and not self._fh.closed:
                self._fh.close()
            if self.fs.exists(self.tmp):
                self.fs.rm(self.tmp)
        except OSError:  # best effort: a left temporary file is never read
            pass

    @classmethod
    def write(cls, url: str, batches: Iterable[ArchivedBatch]) -> WrittenPart:
        """Write ``batches`` to ``url`` in one go."""
        writer = cls(url.rsplit("/", 1)[0])
        try:
            for batch in batches:
                writer.add(batch)
            return writer.commit(url)
        except BaseException:
            writer.abort()
            raise


class PartReader:
    """An open part file: :meth:`batch` reads one batch (row group) at a time."""

    def __init__(self, url: str, batch_ids: Sequence[str]) -> None:
        fs, path = fsspec.core.url_to_fs(url)
        self.url = url
        self.batch_ids = list(batch_ids)
        self._fh = fs.open(path, "rb")
        try:
            self._pf = pq.ParquetFile(self._fh)
            if self._pf.num_row_groups != len(self.batch_ids):
                raise ValueError(f"{url} has {self._pf.num_row_groups} row groups, the "
                                 f"manifest lists {len(self.batch_ids)} batches")
        except BaseException:
            self._fh.close()
            raise
        self._meta = self._pf.schema_arrow.metadata
        self._out_columns = [n for n in self._pf.schema_arrow.names if n.startswith(OUT)]

    def batch(self, index: int, *, with_inputs: bool = True) -> ArchivedBatch:
        """Batch ``index`` as stored hot (``inputs`` None when ``with_inputs`` is false)."""
        columns = None if with_inputs else self._out_columns
        table = self._pf.read_row_group(index, columns=columns)
        return split(self.batch_ids[index], table, self._meta, with_inputs=with_inputs)

    def close(self) -> None:
        self._fh.close()


def read_part(url: str, batch_ids: Sequence[str]) -> Iterator[ArchivedBatch]:
    """Every batch of the part at ``url`` (row group ``i`` is ``batch_ids[i]``). Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` when the file does not hold
    ``len(batch_ids)`` batches."""
    reader = PartReader(url, batch_ids)
    try:
        for i in range(len(batch_ids)):
            yield reader.batch(i)
    finally:
        reader.close()


def verify_part(url: str, batch_ids: Sequence[str]) -> tuple[int, str] | None:
    """``(rows, content hash)`` of the file read back, or None when it is missing or not a
    readable part of these batches."""
    digest = ContentHash()
    try:
        for batch in read_part(url, batch_ids):
            digest.add(batch)
    except (OSError, ValueError, KeyError):
        return None
    return digest.n_rows, digest.hexdigest()


"""Join keys stored as ranges: one ``prediction_keys`` row per call, not per prediction.

The ids lifecycle assigns (``capture/ids.py``) are 32 lowercase hex characters: a 24-character
prefix shared by the rows of one call, then the row index in 8 hex digits. The rows of a call
sit next to each other in a batch, so their keys form runs ``P00000000, P00000001, ...``. A run
is stored as ONE row: ``join_key`` = its first key, ``last_key`` = its last key. Any other key
(an ``id_column`` value, a run of one) is a point: ``last_key`` is NULL. A 1,000-row call then
writes one key row instead of 1,000 (the per-row keys were about half of the work per
batch in a one-off profile of the writer's stages).

Membership ("was key K logged?") is a lookup of the row with the greatest ``join_key <= K``:
K was logged when that row's ``join_key`` equals K, or when it is a range with ``K <= last_key``
and K has the shape of an id (24 characters, then 8 lowercase hex digits: fixed-width hex
compares like the numbers it spells). Ranges of different calls never overlap (distinct
prefixes), and a point cannot fall inside a range unless it shares the call's 24-character
prefix, which only that call's own ids do.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ID_LENGTH = 32
_PREFIX = 24
_LOW_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_LOW_BITS = np.uint64(0x0101010101010101)


def string_array(keys: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """``keys`` as one contiguous Arrow string array (chunks combined, other types cast)."""
    arr = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def string_offsets(arr: pa.StringArray) -> np.ndarray:
    """The ``len(arr) + 1`` offsets of ``arr``'s values in its data buffer (slices included)."""
    raw = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    return raw[arr.offset:arr.offset + len(arr) + 1]


def key_ranges(keys: pa.Array | pa.ChunkedArray) -> tuple[pa.StringArray, pa.StringArray]:
    """Compress ``keys`` (in batch row order) into ``(starts, lasts)``: one entry per run of
    consecutive assigned ids, one per other key; ``lasts`` is null for a point.

    Expanding the result (:func:`expand`) gives ``keys`` back, in order. Keys must not be null.
    """
    arr = string_array(keys)
    n = len(arr)
    if arr.null_count:
        raise ValueError("join keys must not be null")
    if n == 0:
        return pa.array([], pa.string()), pa.array([], pa.string())
    cont = _continues(arr)
    starts = np.flatnonzero(~cont)
    ends = np.append(starts[1:] - 1, n - 1)
    first = arr.take(pa.array(starts))
    last = arr.take(pa.array(ends))
    point = pa.array(starts == ends)
    return first, pc.if_else(point, pa.scalar(None, pa.string()), last)


def _continues(arr: pa.StringArray) -> np.ndarray:
    """``cont[i]``: key ``i`` is the assigned id that follows key ``i - 1`` in the same call."""
    n = len(arr)
    offsets = string_offsets(arr)
    cont = np.zeros(n, dtype=bool)
    data_buf = arr.buffers()[2]
    if data_buf is None or n < 2:
        return cont
    data = np.frombuffer(data_buf, dtype=np.uint8)
    fixed = np.diff(offsets) == ID_LENGTH
    rows = np.flatnonzero(fixed)
    if len(rows) < 2:
        return cont
    if len(rows) == n and offsets[-1] - offsets[0] == n * ID_LENGTH:  # all ids: no gather
        chars = data[offsets[0]:offsets[-1]].reshape(n, ID_LENGTH)
    else:
        chars = data[offsets[rows][:, None] + np.arange(ID_LENGTH)]
    # each key as four big-endian 64-bit words: three of prefix, one of row index digits
    words = np.ascontiguousarray(chars).view(">u8").astype(np.uint64)
    index = _hex_value(words[:, 3])
    hex_tail = _hex_digits(index) == words[:, 3]  # only lowercase hex spells itself back
    follows = ((rows[1:] == rows[:-1] + 1) & hex_tail[1:] & hex_tail[:-1]
               & (index[1:] == index[:-1] + np.uint64(1)))
    for w in range(3):  # the 24-character prefix: same call
        follows &= words[1:, w] == words[:-1, w]
    cont[rows[1:][follows]] = True
    return cont


def _hex_value(word: np.ndarray) -> np.ndarray:
    """The numbers spelled by eight lowercase hex digits packed in each big-endian word
    (SWAR: each byte becomes its nibble, then pairs, quads and octets of nibbles merge)."""
    x = (word & _LOW_NIBBLES) + np.uint64(9) * ((word >> np.uint64(6)) & _LOW_BITS)
    x = ((x >> np.uint64(4)) | x) & np.uint64(0x00FF00FF00FF00FF)
    x = ((x >> np.uint64(8)) | x) & np.uint64(0x0000FFFF0000FFFF)
    return ((x >> np.uint64(16)) | x) & np.uint64(0xFFFFFFFF)


def _hex_digits(value: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hex_value`: eight lowercase hex digits of each 32-bit number."""
    x = value & np.uint64(0xFFFFFFFF)
    x = ((x << np.uint64(16)) | x) & np.uint64(0x0000FFFF0000FFFF)
    x = ((x << np.uint64(8)) | x) & np.uint64(0x00FF00FF00FF00FF)
    x = ((x << np.uint64(4)) | x) & _LOW_NIBBLES
    letters = ((x + np.uint64(0x0606060606060606)) >> np.uint64(4)) & _LOW_BITS
    return x + np.uint64(0x3030303030303030) + letters * np.uint64(0x27)


def expand(start: str, last: str | None) -> list[str]:
    """The keys one stored row stands for (a point: just ``start``)."""
    if last is None or last == start:
        return [start]
    prefix = start[:_PREFIX]
    lo, hi = int(start[_PREFIX:], 16), int(last[_PREFIX:], 16)
    return [f"{prefix}{i:08x}" for i in range(lo, hi + 1)]


"""Time-ordered identifiers (uuid7-like, 32 lowercase hex characters).

Layout of a prediction id: 48-bit Unix time in milliseconds, 48 random bits drawn once per
call, 32-bit row index within the call. Ids of one call share a 24-character prefix, so the
hot path draws one random number per call and the ids of a 1,000-row batch are formatted
later (in the writer, or when the caller asks for them). The leading timestamp keeps the
unique index on ``predictions.prediction_id`` append-friendly.
"""

from __future__ import annotations

import os
import random
import time

import numpy as np
import pyarrow as pa

_MASK48 = (1 << 48) - 1

#: Our own generator (the global one belongs to the user); re-seeded in a forked child so
#: parent and child never draw the same ids.
rng = random.Random()
getrandbits = rng.getrandbits
os.register_at_fork(after_in_child=rng.seed)


def call_prefix(wall_time: float, rand48: int) -> str:
    """The 24-hex-character prefix shared by the ids of one call."""
    return f"{int(wall_time * 1000) & _MASK48:012x}{rand48 & _MASK48:012x}"


def prediction_ids(prefix: str, n_rows: int) -> list[str]:
    """Ids of the ``n_rows`` rows of one call, in row order."""
    return [f"{prefix}{i:08x}" for i in range(n_rows)]


def new_id() -> str:
    """A fresh time-ordered id (used for batch ids)."""
    return call_prefix(time.time(), getrandbits(48)) + f"{getrandbits(32):08x}"


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SHIFTS = np.arange(44, -4, -4, dtype=np.int64)  # 12 hex digits of a 48-bit number
_ROW_SHIFTS = np.arange(28, -4, -4, dtype=np.int64)  # 8 hex digits of a 32-bit number


def prediction_id_array(wall_times: np.ndarray, rand48: np.ndarray,
                        counts: np.ndarray) -> pa.StringArray:
    """The ids of many calls at once, as one Arrow string array (no per-row Python).

    Call ``i`` started at ``wall_times[i]`` with random bits ``rand48[i]`` and has
    ``counts[i]`` rows; the result equals ``sum((prediction_ids(call_prefix(w, r), n) for
    ...), [])`` - the same ids the caller can read back with ``last_prediction_ids()``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    ms = (np.asarray(wall_times, dtype=np.float64) * 1000).astype(np.int64) & _MASK48
    rand = np.asarray(rand48, dtype=np.int64) & _MASK48
    starts = np.cumsum(counts) - counts
    row = np.arange(n, dtype=np.int64) - np.repeat(starts, counts)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, :12] = np.repeat(_HEX[(ms[:, None] >> _SHIFTS) & 0xF], counts, axis=0)
    digits[:, 12:24] = np.repeat(_HEX[(rand[:, None] >> _SHIFTS) & 0xF], counts, axis=0)
    digits[:, 24:] = _HEX[(row[:, None] >> _ROW_SHIFTS) & 0xF]
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(digits))

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

"""Encode a built batch into what is stored: two Arrow blobs (see ``storage/codec.py``).

Everything the database keeps of a prediction is in these blobs, so a batch read back from
the spill file is written exactly as the first attempt would have written it.
"""

from __future__ import annotations

import pyarrow as pa

from lifecycle.capture.build import BuiltBatch
from lifecycle.capture.ids import new_id
from lifecycle.storage.capture_repo import StoredBatch
from lifecycle.storage.codec import encode_table


def encode(built: BuiltBatch, batch_id: str | None = None) -> StoredBatch:
    """Encode ``built`` (keeps the Arrow outputs table, so writing needs no decode)."""
    outputs = built.outputs
    ts = outputs.column("_ts").cast(pa.int64()).to_numpy()
    return StoredBatch(
        batch_id=batch_id or new_id(),
        model=built.model,
        n_rows=outputs.num_rows,
        ts_min_us=int(ts.min()),
        ts_max_us=int(ts.max()),
        inputs_blob=encode_table(built.inputs),
        outputs_blob=encode_table(outputs),
        outputs_table=outputs,
    )

"""Shadow rows scored later, from the log: one stored batch, written by the caller.

A job that scores a challenger on requests logged earlier (``lifecycle.jobs.shadow_score``)
logs its answers as live shadow rows are logged (role ``challenger``, the challenger's
version, the served rows' request ids), but with each served row's own join key and
timestamp, which a live record cannot carry per row. :func:`shadow_rows` builds the batch
with the capture writer's code (``build.py``: the same output columns, prediction ids and
meta columns) and sets those two columns and the per-row latency from the served rows; the
job writes it in its own transaction (``storage.capture_repo.write_batches``), so the rows
are durable when the job returns and no background writer is involved.

The inputs are the served rows' logged inputs, stored again as they were read (already
redacted and hashed when they were logged: nothing is applied twice), so a challenger row
read back looks like one the live shadow wrote.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lifecycle.capture import ids
from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec, Note
from lifecycle.capture.shadow import shadow_spec
from lifecycle.storage.capture_repo import StoredBatch

__all__ = ["batch_id_for", "challenger_spec", "shadow_rows"]


def challenger_spec(model: str, version: str, challenger: Any) -> CaptureSpec:
    """The capture spec of rows of ``challenger`` (version ``version``) scored from the log:
    no ``id_column`` (join keys are given), nothing redacted or hashed (the logged inputs
    already are); feature names and classes are read from the model, as for a live one."""
    spec = shadow_spec(model, version=version)
    spec.estimator = challenger
    return spec


def batch_id_for(version: str, request_ids: Sequence[str]) -> str:
    """A batch id fixed by what the batch answers (the challenger version and the request
    ids): the same rows written twice are one batch, and the second write does nothing."""
    digest = hashlib.sha256(version.encode("utf-8"))
    for rid in request_ids:
        digest.update(b"\0")
        digest.update(rid.encode("utf-8"))
    return digest.hexdigest()[:32]


def shadow_rows(spec: CaptureSpec, inputs: pd.DataFrame, outputs: Any, *, method: str,
                request_ids: Sequence[str], join_keys: Sequence[str], ts: pd.Series,
                latency_ms: np.ndarray, note: Note) -> StoredBatch:
    """One stored batch of challenger rows answering the served rows ``request_ids``.

    Parameters
    ----------
    spec
        From :func:`challenger_spec`.
    inputs
        The served rows' logged inputs (one row each, in ``request_ids`` order).
    outputs
        The challenger's output for ``inputs`` (what its ``method`` returned).
    method
        ``"predict"`` or ``"predict_proba"`` (how ``outputs`` is read, as for a live row).
    request_ids, join_keys, ts
        The served rows' request ids, join keys and timestamps (aware UTC).
    latency_ms
        Per row: the row's share of the challenger's call time.
    note
        Where the batch builder reports a problem it worked around (kind, message).
    """
    wall = time.time()
    record = (spec, inputs, outputs, wall, 0.0, ids.getrandbits(48), method,
              tuple(request_ids))
    built = build_batch([record], note)
    table = built.outputs
    ts_us = pd.DatetimeIndex(ts).as_unit("us").asi8
    replace = {
        "_join_key": pa.array(list(join_keys), type=pa.string()),
        "_ts": pa.array(ts_us, type=pa.timestamp("us", tz="UTC")),
        "_latency_ms": pa.array(np.asarray(latency_ms, dtype=np.float64), type=pa.float64()),
    }
    for name, column in replace.items():
        table = table.set_column(table.column_names.index(name), name, column)
    built.outputs = table
    return encode(built, batch_id_for(str(spec.version), request_ids))

"""The retention tests' log: a seeded prediction log over several days, written through the capture
layer's own batch writer, with the shapes that make an archive round trip hard (mixed-type
columns, a column missing from some batches, request ids in some batches, id ranges and
point keys, a key logged in two batches)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, func, select

from lifecycle.config import Settings
from lifecycle.storage.capture_repo import (
    OutcomeRow,
    StoredBatch,
    logged_keys,
    model_id_for,
    upsert_outcomes,
    write_batches,
)
from lifecycle.storage.codec import encode_table, frame_to_table
from lifecycle.storage.tables import PredictionBatch
from lifecycle.storage.window import load_window

MODEL = "ret"
DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
N_DAYS = 6
#: the run's clock: day 6 (2026-03-07); with hot_days = 3 days 0-2 (March 1-3) are archived
NOW = DAY0 + timedelta(days=N_DAYS, hours=1)


def _batch(rng: np.random.Generator, batch_id: str, start: datetime, n: int, i: int
           ) -> StoredBatch:
    ts = pd.to_datetime([start + timedelta(seconds=float(s))
                         for s in np.sort(rng.uniform(0, 3000, n))], utc=True)
    inputs: dict[str, Any] = {
        "x": rng.normal(size=n),
        "k": rng.integers(0, 100, n),
        "city": rng.choice(np.array(["paris", "oslo", "rome"]), n),
    }
    if i % 3 == 0:  # a column Arrow cannot type: stored as text in this batch only
        inputs["mixed"] = [1.5 if j % 2 else "abc" for j in range(n)]
    else:
        inputs["mixed"] = rng.normal(size=n)
    if i % 4 != 1:  # a column missing from some batches
        inputs["extra"] = rng.normal(size=n)
    if i % 5 == 0:
        inputs["x"][: max(1, n // 10)] = np.nan
    if i % 2:  # ids assigned by lifecycle: calls of 1-4 rows share a 24-character prefix
        keys, row = [], 0
        while row < n:
            size = min(int(rng.integers(1, 5)), n - row)
            prefix = f"{i:08x}" + rng.bytes(8).hex()
            keys += [f"{prefix}{j:08x}" for j in range(size)]
            row += size
    else:  # an id_column: point keys; "shared-key" is logged on day 0 and day 5
        keys = [f"user-{i}-{j}" for j in range(n)]
        if i in (0, 10):
            keys[0] = "shared-key"
    p = rng.uniform(size=n)
    outputs: dict[str, Any] = {
        "prediction": (p > 0.5).astype(int), "proba_0": 1 - p, "proba_1": p,
        "_prediction_id": keys, "_join_key": keys, "_ts": ts,
        "_role": rng.choice(np.array(["champion", "challenger"]), n, p=[0.8, 0.2]),
        "_model_version": ["3"] * n, "_latency_ms": rng.uniform(1, 5, n),
    }
    if i % 3 == 1:
        outputs["_request_id"] = [f"req-{i}-{j}" for j in range(n)]
    out = frame_to_table(pd.DataFrame(outputs))
    ts_col = out.column("_ts").cast(pa.timestamp("us", tz="UTC"))
    out = out.set_column(out.column_names.index("_ts"), "_ts", ts_col)
    us = ts_col.cast(pa.int64()).to_numpy()
    return StoredBatch(batch_id=batch_id, model=MODEL, n_rows=n, ts_min_us=int(us.min()),
                       ts_max_us=int(us.max()),
                       inputs_blob=encode_table(frame_to_table(pd.DataFrame(inputs))),
                       outputs_blob=encode_table(out), outputs_table=out)


def make_log(engine: Engine, *, seed: int = 7, rows: int = 60) -> list[StoredBatch]:
    """Two batches per day for :data:`N_DAYS` days (plus one crossing midnight of day 2),
    with labels for a third of the keys; returns the batches."""
    rng = np.random.default_rng(seed)
    batches = []
    i = 0
    for day in range(N_DAYS):
        for hour in (3, 14):
            start = DAY0 + timedelta(days=day, hours=hour)
            batches.append(_batch(rng, f"b{i:031d}", start, rows + i, i))
            i += 1
    batches.append(_batch(rng, f"b{i:031d}", DAY0 + timedelta(days=2, hours=23, minutes=30),
                          rows, i))
    with engine.begin() as conn:
        model_id = model_id_for(conn, MODEL)
        write_batches(conn, [(model_id, b) for b in batches])
        keys = [k for b in batches for k in b.outputs().column("_join_key").to_pylist()]
        labels = [OutcomeRow(k, "1" if j % 2 else "0", float(j % 2), DAY0)
                  for j, k in enumerate(keys) if j % 3 == 0 or k == "shared-key"]
        upsert_outcomes(conn, model_id, labels, received_at=DAY0 + timedelta(days=N_DAYS))
    return batches


def settings_for(home: Any, archive_url: str, hot_days: int = 3) -> Settings:
    from lifecycle.config.retention import RetentionSettings

    return Settings(home=home, database_url="unused", mlflow_tracking_uri="unused",
                    retention=RetentionSettings(hot_days=hot_days, archive_url=archive_url))


def fingerprint(engine: Engine, model: str = MODEL) -> tuple[int, str, list[str]]:
    """(rows, SHA-256 of the whole model's log as loaded, sorted prediction ids)."""
    w = load_window(engine, model)
    h = hashlib.sha256()
    for frame in (w.inputs, w.outputs, w.meta):
        h.update(pd.util.hash_pandas_object(frame.astype(str), index=True).values.tobytes())
        h.update(str(list(frame.columns)).encode() + str(list(frame.dtypes)).encode())
    return len(w), h.hexdigest(), sorted(w.meta["prediction_id"])


def hot_batches(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PredictionBatch)).scalar_one())


def key_multiset(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(logged_keys(conn))

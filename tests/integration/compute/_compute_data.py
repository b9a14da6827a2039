"""A known window written straight into prediction_batches (the capture writer's format), and
the numbers numpy computes on the same values: what the partitioned passes must reproduce.

Model ``m``: 12 batches of 500 rows, batch ``b`` spans ``T0 + 30b`` to ``T0 + 30b + 29``
minutes (batches 4 and 5 overlap in time: 5 starts 10 minutes early). Inputs: ``x`` (normal,
two decimals: many ties with the reference points), ``y`` (lognormal with NaN and +/-inf; batch
7 does not log it at all), ``z`` (integers; batch 5 logs it as text with some non-numbers),
``c`` (categories a-d with missing values; ``e`` appears from batch 8), ``k`` (integers, one
null in batch 3, on an unlabelled row), ``customer_id`` (the join key). Every tenth row is a
challenger's shadow row (not drift data, not trained on).
Labels: keys of even rows are labelled, some keys are scored twice (batch 9 re-scores batch
2's first 50 customers).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.drift_check import build_profile
from lifecycle.storage.capture_repo import (
    OutcomeRow,
    StoredBatch,
    model_id_for,
    upsert_outcomes,
    write_batches,
)
from lifecycle.storage.codec import encode_table, frame_to_table
from lifecycle.storage.drift_repo import save_profile

T0 = datetime(2026, 3, 1, tzinfo=UTC)
N_BATCHES, BATCH_ROWS = 12, 500
SINCE, UNTIL = T0 + timedelta(hours=1), T0 + timedelta(hours=5)


@dataclass
class Truth:
    """Served rows of the window ``[SINCE, UNTIL)`` as numpy sees them."""

    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    z: list[Any] = field(default_factory=list)
    c: list[Any] = field(default_factory=list)

    def numeric(self, name: str) -> tuple[np.ndarray, int]:
        """Float values (NaN = missing) and the count of non-numeric values."""
        out, bad = [], 0
        for v in getattr(self, name):
            if v is None:
                out.append(np.nan)
            elif isinstance(v, str):
                try:
                    out.append(float(v))
                except ValueError:
                    out.append(np.nan)
                    bad += 1
            else:
                out.append(float(v))
        return np.array(out), bad

    def categories(self) -> tuple[Counter[str], int]:
        present = [str(v) for v in self.c if v is not None]
        return Counter(present), len(self.c) - len(present)


def reference_frame(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2000
    return pd.DataFrame({
        "x": np.round(rng.normal(0, 1, n), 2),
        "y": rng.lognormal(0, 1, n),
        "z": rng.integers(0, 20, n).astype(float),
        "c": rng.choice(["a", "b", "c", "d"], n),
    })


def write_known_window(engine: Engine, seed: int = 11) -> Truth:
    """Write the model's batches, its reference profile and labels; return the truth."""
    rng = np.random.default_rng(seed)
    truth = Truth()
    with engine.begin() as conn:
        model_id = model_id_for(conn, "m")
    batches = []
    for b in range(N_BATCHES):
        n = BATCH_ROWS
        start = T0 + timedelta(minutes=30 * b - (10 if b == 5 else 0))
        ts = pd.to_datetime([start + timedelta(seconds=float(s))
                             for s in np.sort(rng.uniform(0, 29 * 60, n))], utc=True)
        x = np.round(rng.normal(0.3 if b > 6 else 0.0, 1, n), 2)
        y = rng.lognormal(0, 1, n)
        y[rng.random(n) < 0.05] = np.nan
        y[rng.random(n) < 0.01] = np.inf
        y[rng.random(n) < 0.005] = -np.inf
        z: Any = rng.integers(0, 25, n)
        if b == 5:
            z = [("abc" if i % 7 == 0 else str(int(v))) for i, v in enumerate(z)]
        c = rng.choice(["a", "b", "c", "d", "e"] if b >= 8 else ["a", "b", "c", "d"], n)
        c = [None if rng.random() < 0.02 else str(v) for v in c]
        first = 2 * BATCH_ROWS if b == 9 else b * BATCH_ROWS
        customers = [f"cust{first + i:06d}" if b != 9 or i < 50 else f"cust{b * n + i:06d}"
                     for i in range(n)]
        roles = ["challenger" if i % 10 == 9 else "champion" for i in range(n)]
        k = pd.array(rng.integers(0, 9, n), dtype="Int64")
        if b == 3:
            k[1] = pd.NA  # a null in an unlabelled row: the column still loads as float
        inputs: dict[str, Any] = {"customer_id": customers, "x": x, "z": z, "c": c, "k": k}
        if b != 7:
            inputs["y"] = y
        proba = rng.uniform(0, 1, n)
        outputs = frame_to_table(pd.DataFrame({
            "proba_no": 1 - proba, "proba_yes": proba,
            "_prediction_id": [f"p{b:02d}{i:05d}".ljust(32, "0") for i in range(n)],
            "_join_key": customers, "_ts": ts, "_role": roles,
            "_model_version": ["1"] * n, "_latency_ms": rng.uniform(1, 5, n),
        }))
        ts_us = outputs.column("_ts").cast(pa.int64()).to_numpy()
        batches.append((model_id, StoredBatch(
            batch_id=f"batch{b:02d}".ljust(32, "0"), model="m", n_rows=n,
            ts_min_us=int(ts_us.min()), ts_max_us=int(ts_us.max()),
            inputs_blob=encode_table(frame_to_table(pd.DataFrame(inputs))),
            outputs_blob=encode_table(outputs), outputs_table=outputs)))
        for i in range(n):
            if roles[i] != "champion" or not SINCE <= ts[i].to_pydatetime() < UNTIL:
                continue
            truth.x.append(float(x[i]))
            truth.y.append(None if b == 7 else float(y[i]))
            truth.z.append(z[i] if isinstance(z, list) else int(z[i]))
            truth.c.append(c[i])
    with engine.begin() as conn:
        write_batches(conn, batches)
        keys = sorted({f"cust{k:06d}" for k in range(0, N_BATCHES * BATCH_ROWS, 2)})
        upsert_outcomes(conn, model_id, [
            OutcomeRow(k, json.dumps("yes" if int(k[4:]) % 3 else "no"), None, T0)
            for k in keys], received_at=T0 + timedelta(hours=8))
    profile = build_profile(reference_frame(), categorical=["c"])
    with Session(engine) as session, session.begin():
        save_profile(session, model_id, profile, kind="data", source="test")
    return truth

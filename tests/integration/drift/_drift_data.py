"""Write logged windows straight into prediction_batches (what the capture writer stores)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from lifecycle.storage.codec import encode_frame
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import Outcome, PredictionBatch, prediction_keys

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def frame(rng: np.random.Generator, n: int, *, shift: float = 0.0, missing_y: float = 0.0,
          new_level: float = 0.0) -> pd.DataFrame:
    y = rng.normal(5, 2, n)
    y[rng.random(n) < missing_y] = np.nan
    plan = rng.choice(np.array(["basic", "pro", "team"], dtype=object), n)
    plan[rng.random(n) < new_level] = "enterprise"
    return pd.DataFrame({"x": rng.normal(shift, 1, n), "y": y, "plan": plan})


def write_window(engine: Engine, model: str, start: datetime, df: pd.DataFrame, *,
                 batches: int = 2, role: str = "champion",
                 prediction: np.ndarray | None = None,
                 labels: np.ndarray | None = None) -> None:
    """Spread ``df`` evenly over one hour from ``start`` in ``batches`` writer batches.

    With ``labels``, also writes the per-row ``predictions`` rows and one outcome per row.
    """
    n = len(df)
    ts = pd.to_datetime([start + timedelta(seconds=3600 * i / n) for i in range(n)], utc=True)
    pred = prediction if prediction is not None else (df["x"].fillna(0) > 0).astype(int)
    with Session(engine) as session, session.begin():
        mid = get_or_create_model(session, model, "classification").id
        rows = []
        per_row: list[dict[str, object]] = []
        outcomes: list[dict[str, object]] = []
        for part in np.array_split(np.arange(n), batches):
            ids = [uuid.uuid4().hex for _ in part]
            keys = [uuid.uuid4().hex for _ in part]
            batch_id = uuid.uuid4().hex
            if labels is not None:
                for j, i in enumerate(part):
                    when = ts[i].to_pydatetime()
                    per_row.append({"model_id": mid, "join_key": keys[j]})
                    outcomes.append({"model_id": mid, "join_key": keys[j],
                                     "label": json.dumps(str(labels[i])), "label_value": None,
                                     "ts": when, "received_at": when})
            out = pd.DataFrame({
                "prediction": np.asarray(pred)[part],
                "_prediction_id": ids,
                "_join_key": keys,
                "_ts": ts[part], "_role": role, "_model_version": "1", "_latency_ms": 1.0,
            })
            rows.append({
                "id": batch_id, "model_id": mid, "ts_min": ts[part[0]].to_pydatetime(),
                "ts_max": ts[part[-1]].to_pydatetime(), "n_rows": len(part),
                "inputs": encode_frame(df.iloc[part].reset_index(drop=True)),
                "outputs": encode_frame(out),
            })
        session.execute(insert(PredictionBatch), rows)
        if per_row:
            session.execute(insert(prediction_keys), per_row)
            session.execute(insert(Outcome), outcomes)

"""Write logged hours the way the capture writer does (``capture_repo.write_batches``: batch
blobs, keys and ``traffic_hourly``), and read back what the exact path would compare."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert

from lifecycle.config import Settings, load_settings
from lifecycle.storage.capture_repo import StoredBatch, model_id_for, write_batches
from lifecycle.storage.codec import encode_frame
from lifecycle.storage.tables import Outcome

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def frame(rng: np.random.Generator, n: int, *, shift: float = 0.0) -> pd.DataFrame:
    """x: normal (1% NaN, two inf), y: lognormal, plan: 3 levels (2% missing)."""
    x = rng.normal(shift, 1.0, n)
    x[rng.random(n) < 0.01] = np.nan
    if n > 10:
        x[3], x[7] = np.inf, -np.inf
    plan = rng.choice(np.array(["basic", "pro", "team"], dtype=object), n)
    plan[rng.random(n) < 0.02] = None
    return pd.DataFrame({"x": x, "y": rng.lognormal(0.0, 1.0, n), "plan": plan})


def write_hour(engine: Engine, model: str, start: datetime, df: pd.DataFrame, *,
               batches: int = 3, role: str = "champion", prediction: np.ndarray | None = None,
               keys: list[str] | None = None) -> list[str]:
    """Spread ``df`` over the hour from ``start`` in ``batches`` writer batches; returns the
    rows' join keys."""
    n = len(df)
    ts = pd.to_datetime([start + timedelta(seconds=3599 * i / max(n, 1)) for i in range(n)],
                        utc=True)
    pred = prediction if prediction is not None else (np.nan_to_num(df["x"]) > 0).astype(int)
    keys = keys or [uuid.uuid4().hex for _ in range(n)]
    items = []
    with engine.begin() as conn:
        mid = model_id_for(conn, model)
        for part in np.array_split(np.arange(n), batches):
            if not part.size:
                continue
            out = pd.DataFrame({
                "prediction": np.asarray(pred)[part],
                "_prediction_id": [uuid.uuid4().hex for _ in part],
                "_join_key": [keys[i] for i in part],
                "_ts": ts[part], "_role": role, "_model_version": "1", "_latency_ms": 1.0,
            })
            us = [int((t.to_pydatetime() - _EPOCH).total_seconds() * 1e6) for t in ts[part]]
            items.append((mid, StoredBatch(
                batch_id=uuid.uuid4().hex, model=model, n_rows=len(part),
                ts_min_us=min(us), ts_max_us=max(us),
                inputs_blob=encode_frame(df.iloc[part].reset_index(drop=True)),
                outputs_blob=encode_frame(out))))
        write_batches(conn, items)
    return keys


def write_labels(engine: Engine, model: str, keys: list[str], labels: list[object],
                 when: datetime) -> None:
    with engine.begin() as conn:
        mid = model_id_for(conn, model)
        conn.execute(insert(Outcome), [
            {"model_id": mid, "join_key": k, "label": json.dumps(v), "label_value": None,
             "ts": when, "received_at": when} for k, v in zip(keys, labels, strict=True)])


def settings_for(tmp_path: Path, url: str, body: str = "") -> Settings:
    path = tmp_path / "lifecycle.toml"
    path.write_text(f'database_url = "{url}"\nhome = "{tmp_path / "home"}"\n'
                    f'[models.m]\ntask = "classification"\n{body}')
    return load_settings(path, env={}, cwd=tmp_path)

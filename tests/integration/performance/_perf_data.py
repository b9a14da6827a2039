"""Test helpers that write predictions and outcomes straight through the ORM tables.

They mirror what the capture writer stores (a batch row with Arrow blobs plus one
``predictions`` row per prediction, and one ``outcomes`` row per key where a later label for
the same key replaces the earlier one), so the performance job can be tested on its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from lifecycle.config import ModelSettings, PerformanceSettings, Settings
from lifecycle.storage.codec import encode_frame
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import Outcome, PredictionBatch, prediction_keys

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def write_predictions(
    engine: Engine,
    model: str,
    task: str,
    ts: Sequence[datetime],
    inputs: dict[str, Any],
    *,
    labels: Sequence[Any] | None = None,
    values: Sequence[float] | None = None,
    proba: dict[str, Sequence[float]] | None = None,
    keys: Sequence[str] | None = None,
) -> list[str]:
    """One batch of predictions; returns their join keys."""
    n = len(ts)
    keys = list(keys) if keys is not None else [uuid.uuid4().hex for _ in range(n)]
    ids = [uuid.uuid4().hex for _ in range(n)]
    batch_id = uuid.uuid4().hex
    out: dict[str, Any] = {
        "prediction": list(labels) if labels is not None else list(values or []),
    }
    for cls, p in (proba or {}).items():
        out[f"proba_{cls}"] = list(p)
    out.update({"_prediction_id": ids, "_join_key": keys, "_ts": pd.to_datetime(list(ts), utc=True),
                "_role": ["champion"] * n, "_model_version": ["1"] * n,
                "_latency_ms": [1.0] * n})
    with Session(engine) as session, session.begin():
        mid = get_or_create_model(session, model, task).id
        session.execute(insert(PredictionBatch), [{
            "id": batch_id, "model_id": mid, "ts_min": min(ts), "ts_max": max(ts),
            "n_rows": n, "inputs": encode_frame(pd.DataFrame(inputs)),
            "outputs": encode_frame(pd.DataFrame(out)),
        }])
        session.execute(insert(prediction_keys),
                        [{"model_id": mid, "join_key": key} for key in keys])
    return keys


def write_outcomes(
    engine: Engine,
    model: str,
    keys: Sequence[str],
    labels: Sequence[Any],
    received_at: Sequence[datetime] | datetime,
) -> None:
    """Upsert outcomes: a later label for a key replaces the earlier one (revisions + 1)."""
    when = list(received_at) if isinstance(received_at, Sequence) else [received_at] * len(keys)
    with Session(engine) as session, session.begin():
        mid = get_or_create_model(session, model).id
        existing = {row.join_key: row for row in session.scalars(
            select(Outcome).where(Outcome.model_id == mid))}
        fresh: dict[str, dict[str, Any]] = {}
        for key, label, at in zip(keys, labels, when, strict=True):
            value = float(label) if isinstance(label, int | float) and not isinstance(
                label, bool) else None
            values = {"model_id": mid, "join_key": key, "label": json.dumps(label),
                      "label_value": value, "ts": at, "received_at": at, "revisions": 0}
            row = existing.get(key)
            if row is not None:
                if at >= row.received_at:
                    row.label, row.label_value, row.received_at = values["label"], value, at
                    row.revisions += 1
            elif key in fresh:
                if at >= fresh[key]["received_at"]:
                    fresh[key].update(label=values["label"], label_value=value,
                                      received_at=at, revisions=fresh[key]["revisions"] + 1)
            else:
                fresh[key] = values
        if fresh:
            session.execute(insert(Outcome), list(fresh.values()))


def timestamps(start: datetime, n: int, span: timedelta) -> list[datetime]:
    step = span / n
    return [start + i * step for i in range(n)]


def classifier_data(rng: np.random.Generator, n: int, *, shift: float = 0.0,
                    scale: float = 1.0, flip: bool = False) -> dict[str, Any]:
    """A logistic world: x ~ N(shift, scale), P(y=1|x) = sigmoid(3x); the model knows it.

    ``flip`` inverts the relation (concept change) while the inputs stay the same.
    """
    x = rng.normal(shift, scale, n)
    p = 1 / (1 + np.exp(-3 * x))
    y = (rng.random(n) < p).astype(int)
    if flip:
        y = 1 - y
    pred = (p > 0.5).astype(int)
    return {"x": x, "p": p, "y": y, "pred": pred}


def write_classifier(engine: Engine, model: str, start: datetime, data: dict[str, Any], *,
                     label_at: Any = None) -> list[str]:
    """Log ``data`` (:func:`classifier_data`) as one day of a classifier's predictions from
    ``start``, with probabilities; label them at ``label_at`` (default: each prediction's time
    plus two hours; ``False``: not labelled). Returns the join keys."""
    n = len(data["x"])
    ts = timestamps(start, n, timedelta(days=1))
    keys = write_predictions(
        engine, model, "classification", ts, {"x": data["x"]},
        labels=data["pred"].tolist(),
        proba={"0": (1 - data["p"]).tolist(), "1": data["p"].tolist()},
    )
    if label_at is not False:
        write_outcomes(engine, model, keys, data["y"].tolist(),
                       label_at or [t + timedelta(hours=2) for t in ts])
    return keys


def make_settings(url: str, model: str, task: str, **perf: Any) -> Settings:
    """Settings with one model whose reference period is the first day after T0."""
    perf.setdefault("reference_since", T0)
    perf.setdefault("reference_until", T0 + timedelta(days=1))
    return Settings(
        home=Path("."), database_url=url, mlflow_tracking_uri="sqlite:///unused.db",
        models={model: ModelSettings(name=model, task=task,
                                     performance=PerformanceSettings(**perf))},
    )

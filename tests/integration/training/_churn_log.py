"""The training-window story: a churn model's traffic logged through the real capture layer
(``@lifecycle.monitor`` with a simulated clock, ``lifecycle.log_outcomes``); the fixtures
that write it into real SQLite and PostgreSQL databases are in conftest.py.

The story (``T0`` = 2026-03-01 00:00 UTC, one prediction per minute):

* customers ``c000``..``c059`` are scored at ``T0 + i`` minutes (served, role ``unmanaged``);
* ``c000``..``c004`` are scored again at ``T0 + 100 + i`` minutes with ``age = 100 + i``
  (the latest prediction of those keys);
* a challenger shadows ``c010``..``c014`` at ``T0 + 200 + i`` minutes with ``age = -1``;
* labels arrive for ``c000``..``c049``; ``c000``'s label is revised from "yes" to "no".

So the window has 65 served predictions, 55 of them labelled, 5 duplicate keys, 50 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

import lifecycle
from lifecycle.states import CHALLENGER

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CLASSES = ["no", "yes"]
N_CUSTOMERS, N_RESCORED, N_LABELLED = 60, 5, 50


def customer(i: int) -> str:
    return f"c{i:03d}"


def proba_yes(age: float) -> float:
    """The served model: P(yes) grows with age (a deterministic function of the inputs)."""
    return float(min(max((age - 20.0) / 60.0, 0.05), 0.95))


def label_of(i: int) -> str:
    return "yes" if (i * 7) % 10 < 4 else "no"


@dataclass
class Logged:
    engine: Engine
    url: str
    ages: dict[str, float]  # the latest served age of each customer


def _scorer(model: str, clock: list[datetime], role: str | None = None) -> Any:
    extra = {"role": role} if role else {}

    @lifecycle.monitor(model, id_column="customer_id", classes=CLASSES,
                       clock=lambda: clock[0], **extra)
    def score(features: pd.DataFrame) -> np.ndarray:
        p = np.array([proba_yes(a) for a in features["age"]])
        return np.column_stack([1 - p, p])

    return score


def log_churn(url: str, engine: Engine) -> Logged:
    """Log the story (module docstring) into ``url`` through the configured capture."""
    clock = [T0]
    served, shadow = _scorer("churn", clock), _scorer("churn", clock, CHALLENGER)
    plans = ["basic", "pro", "team"]
    ages: dict[str, float] = {}

    def one(fn: Any, i: int, minute: int, age: float) -> None:
        clock[0] = T0 + timedelta(minutes=minute)
        fn(pd.DataFrame({"customer_id": [customer(i)], "age": [age],
                         "plan": [plans[i % 3]]}))

    for i in range(N_CUSTOMERS):
        ages[customer(i)] = 20.0 + (i * 13) % 50
        one(served, i, i, ages[customer(i)])
    for i in range(N_RESCORED):
        ages[customer(i)] = 100.0 + i
        one(served, i, 100 + i, ages[customer(i)])
    for i in range(10, 15):
        one(shadow, i, 200 + i, -1.0)
    assert lifecycle.flush(30)
    keys = [customer(i) for i in range(N_LABELLED)]
    lifecycle.log_outcomes("churn", keys, ["yes"] + [label_of(i) for i in range(1, N_LABELLED)],
                           received_at=T0 + timedelta(hours=5))
    lifecycle.log_outcomes("churn", [customer(0)], ["no"], received_at=T0 + timedelta(hours=6))
    return Logged(engine, url, ages)

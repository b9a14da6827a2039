"""One path to set a reference profile (issue 14): ``lifecycle.reference.set_reference``,
taken by the CLI, the seed and the demo (and by retraining later)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _drift_data import DAY, T0, frame, write_window
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import lifecycle
from lifecycle.config import ModelSettings
from lifecycle.errors import DataError
from lifecycle.reference import set_reference
from lifecycle.storage.tables import ReferenceProfileRow

PACKAGE = Path(lifecycle.__file__).resolve().parent


def test_only_set_reference_stores_profiles() -> None:
    """No module of the package but ``reference.py`` calls ``save_profile``."""
    callers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "save_profile":
                callers.add(path.relative_to(PACKAGE).as_posix())
    assert callers == {"reference.py"}


def test_a_frame_without_identifiers_and_timestamps(engine: Engine) -> None:
    rng = np.random.default_rng(0)
    df = frame(rng, 500).assign(
        customer_id=np.arange(500), account=[f"a{i}" for i in range(500)],
        when=pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(500), unit="h"),
        born=[date(1990, 1, 1) + timedelta(days=int(i)) for i in np.arange(500)])
    ms = ModelSettings(name="churn", task="classification", id_column="customer_id",
                       identifier_columns=("account",), categorical=("plan",))
    now = datetime(2026, 2, 3, 4, 5, tzinfo=UTC)
    done = set_reference(engine, ms, df, source="unit frame", now=now)
    assert set(done.profiles) == {"data"}
    assert sorted(done.profiles["data"].features) == ["plan", "x", "y"]
    assert done.profiles["data"].features["plan"].kind == "categorical"
    with Session(engine) as s:
        row = s.scalars(select(ReferenceProfileRow)).one()
    assert row.id == done.ids["data"] and row.source == "unit frame" and row.is_active
    assert row.created_at == now

    with pytest.raises(DataError, match="identifier or timestamp"):
        set_reference(engine, ms, df, columns=["x", "customer_id"])


def test_a_window_sets_data_and_prediction_profiles_in_one_go(engine: Engine) -> None:
    rng = np.random.default_rng(1)
    write_window(engine, "churn", T0, frame(rng, 1000))
    ms = ModelSettings(name="churn", task="classification", categorical=("plan",))
    done = set_reference(engine, ms, since=T0, until=T0 + DAY)
    assert set(done.profiles) == {"data", "prediction"}
    assert done.skipped == {"label": "no labelled predictions in the window"}
    with Session(engine) as s:
        rows = s.scalars(select(ReferenceProfileRow)).all()
    assert {r.kind: (r.window_start, r.window_end) for r in rows} == {
        "data": (T0, T0 + DAY), "prediction": (T0, T0 + DAY)}
    with pytest.raises(DataError, match="no served predictions"):
        set_reference(engine, ms, since=T0 + 5 * DAY, until=T0 + 6 * DAY)

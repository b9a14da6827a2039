"""Fuzz: whatever odd values a model logs, no check ends in a traceback or in exit 1 on error.

Batches with mixed types, +-inf, NaN, None, empty strings, huge and tiny numbers, booleans and
dates in a numeric column (and numbers, booleans, None in a categorical one) are written the
way the capture writer stores them (``encode_frame``: a column Arrow cannot type is stored as
text for that batch), with labels, into a real SQLite database; then ``reference set``,
``drift check`` and ``performance`` run through the real CLI. Exit codes: 0, 1 only with a
drift / degraded verdict printed, 2 with a clean message - never a traceback.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _drift_data import DAY, T0
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.storage.codec import encode_frame
from lifecycle.storage.engine import make_engine
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import Outcome, PredictionBatch

ODD_NUMERIC: list[Any] = [
    "abc", "", "  ", "3.5", "inf", None, float("nan"), float("inf"), float("-inf"), 1e308,
    -1e308, 5e-324, 10**30, -(10**40), True, False, date(2026, 1, 2),
    datetime(2026, 1, 2, 3, 4, tzinfo=UTC), b"\x00\xff", [1, 2],
]
ODD_CATEGORICAL: list[Any] = [None, "", 7, 2.5, True, float("nan"), "é", date(2026, 1, 2)]

batch_plan = st.tuples(
    st.sampled_from(["clean", "mixed", "all_odd"]),
    st.lists(st.sampled_from(range(len(ODD_NUMERIC))), min_size=1, max_size=4),
    st.lists(st.sampled_from(range(len(ODD_CATEGORICAL))), max_size=2),
    st.integers(0, 2**16),
)


def _batch(plan: tuple[str, list[int], list[int], int], n: int) -> pd.DataFrame:
    mode, odd_num, odd_cat, seed = plan
    rng = np.random.default_rng(seed)
    x: list[Any] = rng.normal(0, 1, n).tolist()
    plan_col: list[Any] = rng.choice(["basic", "pro", "team"], n).tolist()
    if mode == "all_odd":
        x = [ODD_NUMERIC[odd_num[0]]] * n
    elif mode == "mixed":
        for j, i in enumerate(odd_num):
            x[(j * 37 + seed) % n] = ODD_NUMERIC[i]
    for j, i in enumerate(odd_cat):
        plan_col[(j * 11 + seed) % n] = ODD_CATEGORICAL[i]
    return pd.DataFrame({"x": pd.Series(x, dtype=object),
                         "plan": pd.Series(plan_col, dtype=object),
                         "z": rng.normal(0, 1, n)})


def _write(url: str, plans: list[tuple[str, list[int], list[int], int]], n: int) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            mid = get_or_create_model(session, "m", "classification").id
            for b, plan in enumerate(plans):
                start = T0 + DAY * (b % 2) + timedelta(hours=b)  # alternate the two days
                ts = pd.to_datetime([start + timedelta(seconds=i) for i in range(n)], utc=True)
                keys = [uuid.uuid4().hex for _ in range(n)]
                rng = np.random.default_rng(plan[3])
                pred = rng.integers(0, 2, n)
                out = pd.DataFrame({
                    "prediction": pred, "proba_1": rng.random(n),
                    "_prediction_id": keys, "_join_key": keys, "_ts": ts,
                    "_role": "champion", "_model_version": "1", "_latency_ms": 1.0,
                })
                out["proba_0"] = 1 - out["proba_1"]
                session.execute(insert(PredictionBatch), [{
                    "id": uuid.uuid4().hex, "model_id": mid,
                    "ts_min": ts[0].to_pydatetime(), "ts_max": ts[-1].to_pydatetime(),
                    "n_rows": n, "inputs": encode_frame(_batch(plan, n)),
                    "outputs": encode_frame(out),
                }])
                labels = np.where(rng.random(n) < 0.8, pred, 1 - pred)
                when = (start + timedelta(hours=2))
                session.execute(insert(Outcome), [
                    {"model_id": mid, "join_key": k, "label": f'"{int(y)}"',
                     "label_value": None, "ts": when, "received_at": when}
                    for k, y in zip(keys, labels, strict=True)])
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: Any) -> Path:
    """One migrated SQLite file; each example copies it (a fresh database per example)."""
    from lifecycle.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "lifecycle.db"
    upgrade(f"sqlite:///{path}")
    return Path(path)


VERDICT_WORDS = {"drift": "DRIFT", "performance": "DEGRADED"}


def _check(args: list[str], url: str, config: Path, what: str) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), *args],
                                env={"LIFECYCLE_DATABASE_URL": url})
    text = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        what, result.exc_info)
    assert "Traceback" not in text, (what, text)
    assert result.exit_code in (0, 1, 2), (what, result.exit_code, text)
    if result.exit_code == 1:  # only a verdict may exit 1
        assert what in VERDICT_WORDS and f"{VERDICT_WORDS[what]}" in result.stdout, (what, text)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) <= 1, (what, text)
    if result.exit_code == 2 and errors:
        assert "\n" not in errors[0] and len(errors[0]) > len("error: "), (what, text)


@settings(max_examples=15)
@given(plans=st.lists(batch_plan, min_size=2, max_size=4),
       n=st.sampled_from([40, 160]))
def test_odd_values_never_crash_a_check(template_db: Path, tmp_path_factory: Any,
                                        plans: list[tuple[str, list[int], list[int], int]],
                                        n: int) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    db = folder / "lifecycle.db"
    shutil.copy(template_db, db)
    url = f"sqlite:///{db}"
    config = folder / "lifecycle.toml"
    config.write_text("[models.m]\ntask = \"classification\"\n"
                      "[models.m.performance]\nn_boot = 20\nmin_labels = 30\n")
    _write(url, plans, n)
    day1 = ["--since", "2026-03-01T00:00:00Z", "--until", "2026-03-02T00:00:00Z"]
    day2 = ["--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z"]
    _check(["reference", "set", "m", *day1], url, config, "reference")
    _check(["drift", "check", "m", *day2], url, config, "drift")
    _check(["performance", "m", *day2], url, config, "performance")

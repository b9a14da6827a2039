"""Odd values in logged data never crash or block a check (issue 15 §3), through the real CLI.

* one text value in a numeric column of one batch (capture stores that batch's column as text)
  used to end ``reference set --since`` and ``drift check`` in a raw ``ArrowTypeError``
  traceback with exit 1, the "drift" code;
* the capture's ``id_column`` used to be profiled as a feature and drift in every window;
* any unexpected exception used to escape click (traceback, exit 1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _drift_data import DAY, T0, frame, write_window
from click.testing import CliRunner
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

import lifecycle
from lifecycle.capture import runtime
from lifecycle.cli import main
from lifecycle.storage.tables import DriftReportRow, PredictionBatch, ReferenceProfileRow

DAY1 = ["--since", "2026-03-01T00:00:00Z", "--until", "2026-03-02T00:00:00Z"]
DAY2 = ["--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z"]


def run(args: list[str], url: str, config: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args],
                                env={"LIFECYCLE_DATABASE_URL": url})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exc_info)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_home: Path) -> Path:
    cfg = tmp_home.parent / "lifecycle.toml"
    cfg.write_text("[models.churn]\ntask = \"classification\"\ncategorical = [\"plan\"]\n")
    return cfg


def _write(engine: Engine, start: datetime, df: pd.DataFrame) -> None:
    pred = (pd.to_numeric(df["x"], errors="coerce").fillna(0) > 0).astype(int).to_numpy()
    write_window(engine, "churn", start, df, prediction=pred)


def _with_text(df: pd.DataFrame, row: int, value: Any) -> pd.DataFrame:
    out = df.copy()
    out["x"] = out["x"].astype(object)
    out.loc[row, "x"] = value
    return out


def test_text_in_a_numeric_column_of_one_batch_is_counted_not_fatal(
    config: Path, db_url: str, engine: Engine
) -> None:
    rng = np.random.default_rng(0)
    # the first batch of each day holds one text value in x: that batch stores x as text
    _write(engine, T0, _with_text(frame(rng, 3000), 5, "n/a"))
    _write(engine, T0 + DAY, _with_text(frame(rng, 3000), 7, "oops"))

    code, out, err = run(["reference", "set", "churn", *DAY1], db_url, config)
    assert code == 0, out + err
    assert "Traceback" not in out + err
    # profiled as numbers; the text value is counted as missing
    assert re.search(r"^x\s+numeric\s+2999\s", out, re.MULTILINE), out

    code, out, err = run(["drift", "check", "churn", *DAY2], db_url, config)
    assert code == 0, out + err
    assert "data drift: NO_DRIFT" in out
    assert "non-numeric values in numeric feature x: 1 of 3000 rows" in out
    with Session(engine) as s:
        summary = s.scalar(select(DriftReportRow.summary).where(DriftReportRow.kind == "data"))
    assert summary is not None and summary["non_numeric"] == {"x": 1}

    code, out, _ = run(["drift", "check", "churn", *DAY2, "--json"], db_url, config)
    assert code == 0 and json.loads(out)["data"]["non_numeric"] == {"x": 1}


def test_a_batch_of_text_in_a_numeric_feature_is_a_missing_value_signal(
    config: Path, db_url: str, engine: Engine
) -> None:
    rng = np.random.default_rng(1)
    write_window(engine, "churn", T0, frame(rng, 3000))
    broken = frame(rng, 3000)
    broken["x"] = broken["x"].astype(object)
    broken.loc[:1499, "x"] = "not a number"  # half the window: a feature arriving broken
    _write(engine, T0 + DAY, broken)
    assert run(["reference", "set", "churn", *DAY1], db_url, config)[0] == 0
    code, out, err = run(["drift", "check", "churn", *DAY2], db_url, config)
    assert code == 1, out + err  # a real drift verdict, not an error
    assert "data drift: DRIFT" in out and "0.0% -> 50.0%" in out
    assert "non-numeric values in numeric feature x: 1500 of 3000 rows" in out


@pytest.fixture
def capture(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    lifecycle.configure(database_url=sqlite_url, spill_dir=str(tmp_path / "spill"),
                        flush_interval_s=0.02, handle_sigterm=False)
    try:
        yield sqlite_url
    finally:
        runtime.reset()


def _log_day(start: datetime, seed: int, first_id: int) -> None:
    clock_at = [start]

    def clock() -> datetime:
        return clock_at[0]

    @lifecycle.monitor("ids", id_column="customer_id", clock=clock)
    def predict(features: pd.DataFrame) -> Any:
        return np.zeros(len(features))

    rng = np.random.default_rng(seed)
    for hour in range(4):
        clock_at[0] = start + timedelta(hours=hour)
        n = 500
        predict(pd.DataFrame({
            "customer_id": np.arange(first_id + hour * n, first_id + (hour + 1) * n),
            "account": [f"acc-{i}" for i in range(first_id + hour * n,
                                                    first_id + (hour + 1) * n)],
            "x": rng.normal(0, 1, n),
            "signup": pd.Timestamp("2026-01-01") + pd.to_timedelta(
                rng.integers(0, 10_000, n), unit="min"),
            "seen_at": [f"2026-03-0{1 + seed}T{hour:02d}" for _ in range(n)],
            "born": [date(1990 + seed * 10, 1, 1) + timedelta(days=int(d))
                     for d in rng.integers(0, 3000, n)],
        }))
    assert lifecycle.flush(30)


def test_identifier_and_timestamp_columns_are_never_drift_features(
    capture: str, tmp_path: Path, engine_for: Callable[[str], Engine]
) -> None:
    cfg = tmp_path / "ids.toml"
    cfg.write_text("[models.ids]\nidentifier_columns = [\"account\"]\n"
                   "timestamp_columns = [\"seen_at\"]\n")
    _log_day(T0, 0, 0)
    _log_day(T0 + DAY, 1, 100_000)  # ids and timestamps move on every day, x does not

    code, out, err = run(["reference", "set", "ids", *DAY1], capture, cfg)
    assert code == 0, out + err
    engine = engine_for(capture)
    with Session(engine) as s:
        profile = s.scalar(select(ReferenceProfileRow.profile).where(
            ReferenceProfileRow.kind == "data"))
    assert profile is not None
    assert sorted(profile["features"]) == ["x"], profile["features"].keys()

    code, out, err = run(["drift", "check", "ids", *DAY2], capture, cfg)
    assert code == 0, out + err
    assert "data drift: NO_DRIFT  (0/1 features drifted" in out
    for name in ("customer_id", "account", "signup", "seen_at", "born"):
        assert name not in out


def test_a_stored_profile_holding_the_id_column_no_longer_drifts(
    capture: str, tmp_path: Path, engine_for: Callable[[str], Engine]
) -> None:
    """Profiles stored before identifiers were excluded keep working: the id is dropped."""
    from lifecycle.drift_check import build_profile
    from lifecycle.storage.drift_repo import save_profile
    from lifecycle.storage.models_repo import get_model
    from lifecycle.storage.window import load_window

    cfg = tmp_path / "plain.toml"
    cfg.write_text("")
    _log_day(T0, 0, 0)
    _log_day(T0 + DAY, 1, 100_000)
    engine = engine_for(capture)
    old = load_window(engine, "ids", T0, T0 + DAY).inputs[["customer_id", "x"]]
    with Session(engine) as s, s.begin():
        save_profile(s, get_model(s, "ids").id, build_profile(old), source="old")
    code, out, err = run(["drift", "check", "ids", *DAY2], capture, cfg)
    assert code == 0, out + err
    assert "customer_id" not in out and "NO_DRIFT  (0/1 features drifted" in out


def test_an_unexpected_error_is_one_line_and_exit_2(config: Path, db_url: str,
                                                    engine: Engine) -> None:
    rng = np.random.default_rng(2)
    write_window(engine, "churn", T0, frame(rng, 500))
    with Session(engine) as s, s.begin():  # a blob no Arrow reader can decode
        s.execute(update(PredictionBatch).values(inputs=b"not an arrow stream"))
    code, out, err = run(["reference", "set", "churn", *DAY1], db_url, config)
    assert code == 2
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unexpected Arrow")
    assert "LIFECYCLE_DEBUG=1" in lines[0]

"""End to end: @lifecycle.monitor captures, log_outcomes labels, the job finds the change."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _perf_data import make_settings
from sqlalchemy import Engine

import lifecycle
from lifecycle.capture import runtime
from lifecycle.capture.monitor import capture_context, configure
from lifecycle.jobs.performance import run_performance_check

sklearn_linear = pytest.importorskip("sklearn.linear_model")


@pytest.fixture
def capture(tmp_home: Path, tmp_path: Path, sqlite_url: str) -> Iterator[str]:
    configure(database_url=sqlite_url, spill_dir=str(tmp_path / "spill"),
              flush_interval_s=0.02, db_timeout_s=1.0, shutdown_timeout_s=5.0,
              handle_sigterm=False)
    yield sqlite_url
    runtime.reset()


def _world(rng: np.random.Generator, n: int, flip: bool = False) -> tuple[pd.DataFrame, list]:
    x = rng.normal(0, 1, (n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-3 * x[:, 0] + x[:, 1]))).astype(int)
    return pd.DataFrame(x, columns=["a", "b"]), (1 - y if flip else y).tolist()


def test_monitor_log_outcomes_and_performance_check(
    capture: str, engine_for: Callable[[str], Engine]
) -> None:
    rng = np.random.default_rng(11)
    train_x, train_y = _world(rng, 2000)
    model = lifecycle.monitor("e2e")(sklearn_linear.LogisticRegression().fit(train_x, train_y))

    t0 = datetime.now(UTC)
    ref_x, ref_y = _world(rng, 1500)
    with capture_context() as ref:
        for chunk in range(0, 1500, 100):
            model.predict_proba(ref_x.iloc[chunk:chunk + 100])
    assert lifecycle.flush(30)
    time.sleep(0.01)
    t1 = datetime.now(UTC)
    cur_x, cur_y = _world(rng, 1000, flip=True)  # same inputs, relation flipped
    with capture_context() as cur:
        for chunk in range(0, 1000, 100):
            model.predict_proba(cur_x.iloc[chunk:chunk + 100])
    assert lifecycle.flush(30)
    t2 = datetime.now(UTC) + timedelta(seconds=1)
    lifecycle.log_outcomes("e2e", ref.join_keys, ref_y)
    lifecycle.log_outcomes("e2e", cur.join_keys[:600], cur_y[:600])  # 60 % labelled so far

    engine = engine_for(capture)
    settings = make_settings(capture, "e2e", "classification", reference_since=t0,
                             reference_until=t1, n_boot=60)
    result = run_performance_check(engine, settings, "e2e", t1, t2)
    assert result.coverage["coverage"] == pytest.approx(0.6)
    assert result.verdict == "degraded"
    assert result.comparison is not None and result.comparison.metric("accuracy").worse
    assert {c.detector for c in result.change_points} >= {"page_hinkley", "adwin"}
    # the label-free estimate sees nothing: the change is in the relation, as documented
    assert result.estimate is not None and result.estimate.n == 1000
    assert result.estimate_verdict == "no sign of degradation"

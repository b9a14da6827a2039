"""A user clock (simulations, backfills) sets the logged timestamps; a broken clock never
breaks the prediction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

import lifecycle
from lifecycle.errors import ConfigError
from lifecycle.storage.window import load_window


def test_clock_sets_timestamps_and_windows(sqlite_url: str, capture_to: Callable[..., Any],
                                           engine_for: Callable[..., Any]) -> None:
    capture_to(sqlite_url)
    sim = [datetime(2025, 3, 1, tzinfo=UTC)]

    @lifecycle.monitor("simulated", feature_names=["x"], clock=lambda: sim[0])
    def predict(features: Any) -> Any:
        return np.zeros(len(features))

    for day in range(3):
        sim[0] = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=day, hours=12)
        predict(np.full((4, 1), float(day)))
    assert lifecycle.flush(30)

    engine = engine_for(sqlite_url)
    second_day = load_window(engine, "simulated", datetime(2025, 3, 2, tzinfo=UTC),
                             datetime(2025, 3, 3, tzinfo=UTC))
    assert len(second_day) == 4
    assert set(second_day.inputs["x"]) == {1.0}
    assert set(second_day.meta["ts"]) == {datetime(2025, 3, 2, 12, tzinfo=UTC)}


def test_broken_clock_falls_back_to_wall_clock(sqlite_url: str,
                                               capture_to: Callable[..., Any],
                                               engine_for: Callable[..., Any]) -> None:
    capture_to(sqlite_url)

    def naive() -> datetime:
        return datetime(2025, 1, 1)  # no tzinfo: rejected, wall clock used instead

    @lifecycle.monitor("badclock", feature_names=["x"], clock=naive)
    def predict(features: Any) -> Any:
        return np.ones(len(features))

    before = datetime.now(UTC) - timedelta(seconds=1)
    assert predict(np.zeros((2, 1))).tolist() == [1.0, 1.0]
    assert lifecycle.flush(30)
    window = load_window(engine_for(sqlite_url), "badclock")
    assert len(window) == 2
    assert (window.meta["ts"] >= before).all()


def test_clock_must_be_callable() -> None:
    with pytest.raises(ConfigError, match="clock must be a zero-argument callable"):
        lifecycle.monitor("m", clock=datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]


def test_outcomes_receipt_time_is_settable(sqlite_url: str, capture_to: Callable[..., Any],
                                           engine_for: Callable[..., Any]) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from lifecycle.errors import DataError
    from lifecycle.storage.tables import Outcome

    capture_to(sqlite_url)
    received = datetime(2025, 3, 4, 6, tzinfo=UTC)
    event = datetime(2025, 3, 3, 18, tzinfo=UTC)
    # "late" has logged nothing yet: create=True records its labels all the same
    assert lifecycle.log_outcomes("late", ["k1", "k2"], [0, 1], timestamps=[event, event],
                                  received_at=received, create=True) == 2
    with pytest.raises(DataError, match="received_at must be an aware datetime"):
        lifecycle.log_outcomes("late", ["k3"], [1], received_at=datetime(2025, 3, 4))
    with Session(engine_for(sqlite_url)) as session:
        rows = session.execute(select(Outcome.join_key, Outcome.ts, Outcome.received_at)
                               .order_by(Outcome.join_key)).all()
    assert [tuple(r) for r in rows] == [("k1", event, received), ("k2", event, received)]


def test_configure_restarts_caller_side_counters(sqlite_url: str,
                                                 capture_to: Callable[..., Any]) -> None:
    capture_to(sqlite_url)

    @lifecycle.monitor("counted", feature_names=["x"], sample_rate=0.5, seed=1,
                       clock=lambda: datetime(2025, 1, 1))  # naive: one clock error per call
    def predict(features: Any) -> Any:
        return np.ones(len(features))

    for _ in range(20):
        predict(np.zeros((1, 1)))
    before = lifecycle.stats()
    assert before["errors_by_kind"]["clock"] == 20
    assert before["dropped_sampling"] == 9  # seed=1 keeps 11 of the 20 calls at rate 0.5
    capture_to(sqlite_url)  # a fresh configure(): counters start again, like new writers'
    after = lifecycle.stats()
    assert after["errors"] == 0 and after["dropped_sampling"] == 0


def test_window_without_inputs_matches(db_url: str, capture_to: Callable[..., Any],
                                       engine_for: Callable[..., Any]) -> None:
    capture_to(db_url)
    sim = [datetime(2025, 3, 1, tzinfo=UTC)]

    @lifecycle.monitor("outputs_only", feature_names=["x"], clock=lambda: sim[0])
    def predict(features: Any) -> Any:
        return features[:, 0] * 2

    for hour in range(6):
        sim[0] = datetime(2025, 3, 1, hour, tzinfo=UTC)
        predict(np.full((3, 1), float(hour)))
    assert lifecycle.flush(30)
    engine = engine_for(db_url)
    since, until = datetime(2025, 3, 1, 2, tzinfo=UTC), datetime(2025, 3, 1, 4, tzinfo=UTC)
    full = load_window(engine, "outputs_only", since, until)
    lean = load_window(engine, "outputs_only", since, until, with_inputs=False)
    assert len(full) == len(lean) == 6
    assert full.inputs["x"].tolist() == [2.0] * 3 + [3.0] * 3
    assert lean.inputs.shape == (6, 0)
    assert lean.outputs.equals(full.outputs)
    assert lean.meta.equals(full.meta)
    assert lean.outputs["prediction"].tolist() == [4.0] * 3 + [6.0] * 3

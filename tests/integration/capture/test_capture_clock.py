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

"""Formatting helpers of the demo's story and summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifecycle.demo.observe import fmt_p, sim_label
from lifecycle.demo.summary import Detection, format_delay

START = datetime(2026, 3, 2, tzinfo=UTC)


def test_sim_label_counts_days_from_the_start() -> None:
    assert sim_label(START, START) == "day 0 00:00"
    assert sim_label(START + timedelta(days=15, hours=6, minutes=30), START) == "day 15 06:30"


def test_p_values_and_delays_are_short() -> None:
    assert fmt_p(None) == "n/a"
    assert fmt_p(0.0) == "<1e-300"
    assert fmt_p(3.2e-31) == "3e-31"
    assert fmt_p(0.0123) == "0.012"
    assert format_delay(None) == "not detected"
    assert format_delay(timedelta(hours=6)) == "6 h"
    assert format_delay(timedelta(days=3)) == "3 days 0 h"
    assert format_delay(timedelta(days=2, hours=12)) == "2 days 12 h"


def test_detection_delay() -> None:
    found = Detection("x", START, START + timedelta(hours=6))
    assert found.delay == timedelta(hours=6)
    assert Detection("x", START, None).delay is None

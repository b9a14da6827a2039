"""Aligned windows: buckets, keys, due windows for catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.windows import (
    Window,
    due_windows,
    format_elapsed,
    latest_closed,
    parse_duration,
    validate_window_size,
    window_containing,
    window_from_key,
)

H = timedelta(hours=1)


def t(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour, minute, second, tzinfo=UTC)


def test_parse_duration_forms() -> None:
    assert parse_duration("30s") == timedelta(seconds=30)
    assert parse_duration("5m") == timedelta(minutes=5)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1d") == timedelta(days=1)
    assert parse_duration("1w") == timedelta(days=7)
    assert parse_duration(90) == timedelta(seconds=90)
    for bad in ("1 hour", "h", "", True, -5, "1y"):
        with pytest.raises(ValueError, match="k"):
            parse_duration(bad, key="k")


def test_window_sizes_must_align() -> None:
    assert validate_window_size(timedelta(minutes=15)) == timedelta(minutes=15)
    assert validate_window_size(timedelta(days=7)) == timedelta(days=7)
    with pytest.raises(ValueError, match="divides a day"):
        validate_window_size(timedelta(minutes=7))
    with pytest.raises(ValueError, match=">= 1s"):
        validate_window_size(timedelta(milliseconds=500))


def test_hourly_and_daily_buckets_are_on_clock_boundaries() -> None:
    assert window_containing(t(10, 37, 12), H) == Window(t(10), t(11))
    day = window_containing(t(10, 37), timedelta(days=1))
    assert day.start == datetime(2026, 3, 10, tzinfo=UTC)
    week = window_containing(t(10), timedelta(days=7))
    assert week.start.weekday() == 0 and week.start.hour == 0  # Monday 00:00 UTC


def test_latest_closed_respects_delay() -> None:
    assert latest_closed(t(11, 0, 0), H) == Window(t(10), t(11))
    assert latest_closed(t(11, 4), H, timedelta(minutes=5)) == Window(t(9), t(10))
    assert latest_closed(t(11, 5), H, timedelta(minutes=5)) == Window(t(10), t(11))


def test_key_round_trip_and_ordering() -> None:
    w = Window(t(10), t(11))
    assert w.key == "2026-03-10T10:00:00Z/3600s"
    assert window_from_key(w.key) == w
    keys = [Window(t(h), t(h) + H).key for h in (3, 12, 9)]
    assert sorted(keys) == [Window(t(h), t(h) + H).key for h in (3, 9, 12)]
    with pytest.raises(ValueError, match="window key"):
        window_from_key("yesterday")


def test_first_run_computes_only_the_latest_window() -> None:
    assert due_windows(t(12, 30), H, first_known=None, finished=[], cap=24) == [
        Window(t(11), t(12))
    ]


def test_catch_up_lists_every_missed_window_in_order() -> None:
    done = [Window(t(h), t(h) + H).key for h in (3, 4, 5)]
    due = due_windows(t(10, 1), H, first_known=t(3), finished=done, cap=24)
    assert due == [Window(t(h), t(h + 1)) for h in range(6, 10)]


def test_catch_up_is_capped_to_the_most_recent_windows() -> None:
    due = due_windows(t(23, 1), H, first_known=t(0), finished=[], cap=5)
    assert due == [Window(t(h), t(h + 1)) for h in range(18, 23)]


def test_failed_window_in_the_middle_is_due_again() -> None:
    done = [Window(t(h), t(h) + H).key for h in (3, 5)]
    due = due_windows(t(6, 0), H, first_known=t(3), finished=done, cap=24)
    assert due == [Window(t(4), t(5))]


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        latest_closed(datetime(2026, 1, 1), H)


@settings(max_examples=200, deadline=None)
@given(
    offset=st.integers(min_value=0, max_value=10**9),
    size=st.sampled_from([1, 2, 60, 300, 900, 3600, 7200, 86400, 7 * 86400]),
    gap=st.integers(min_value=0, max_value=200),
    cap=st.integers(min_value=1, max_value=50),
)
def test_due_windows_properties(offset: int, size: int, gap: int, cap: int) -> None:
    step = timedelta(seconds=size)
    now = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
    last = latest_closed(now, step)
    first = last.start - gap * step
    due = due_windows(now, step, first_known=first, finished=[], cap=cap)
    assert len(due) == min(gap + 1, cap)
    assert due[-1] == last
    for a, b in zip(due, due[1:], strict=False):
        assert b.start == a.end  # contiguous, in order
    assert all(w.end <= now and w.size == step for w in due)
    assert all(window_containing(w.start, step) == w for w in due)  # aligned


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "-"), (float("nan"), "-"), (42, "42 s"), (59.4, "59 s"), (59.6, "1 min"),
    (720, "12 min"), (3599, "1.0 h"), (3 * 3600 + 720, "3.2 h"), (2 * 86_400, "2.0 d"),
    (181_440, "2.1 d"),
])
def test_elapsed_times_read_in_their_natural_unit(seconds: float | None, text: str) -> None:
    # the CLI's label delay once said "0.2 h" for 12 minutes and "50.4 h" for two days
    assert format_elapsed(seconds) == text

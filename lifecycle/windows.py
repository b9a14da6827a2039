"""Aligned time windows: the unit of scheduled work.

A scheduled job never computes "the last hour" relative to when it happens to run. It computes
*aligned* buckets (``[10:00, 11:00)``, ``[11:00, 12:00)``, ...) so that two processes, a retry
and a catch-up after downtime all agree on what a window is, and a window can be claimed,
computed and recorded exactly once.

Buckets are aligned to :data:`ANCHOR` (Monday 1970-01-05 00:00 UTC). A window size must either
divide a day (1s, 30s, 5m, 15m, 1h, 6h, ...) so buckets start on round clock times, or be a
whole number of days (1d, 7d, ...), so weekly windows start on Mondays 00:00 UTC.

Pure standard library: no database, no clock (``now`` is always passed in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Monday 1970-01-05 00:00 UTC: every bucket boundary is ANCHOR + i * size.
ANCHOR = datetime(1970, 1, 5, tzinfo=UTC)
DAY_S = 86_400

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY_S, "w": 7 * DAY_S}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: object, *, key: str = "duration") -> timedelta:
    """Parse ``"30s"``, ``"5m"``, ``"1h"``, ``"1d"``, ``"1w"`` or a number of seconds.

    Raises
    ------
    ValueError
        Naming ``key`` and the accepted forms.

    Examples
    --------
    >>> parse_duration("90m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration(2)
    datetime.timedelta(seconds=2)
    """
    if isinstance(value, bool):
        raise ValueError(f"{key} must be a duration like '30s', '5m', '1h', '1d', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION_RE.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(
            f"{key} must be a duration like '30s', '5m', '1h', '1d', '1w' (or a number of "
            f"seconds), got {value!r}"
        )
    if seconds < 0:
        raise ValueError(f"{key} must not be negative, got {value!r}")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact spelling of ``delta`` (``3600s`` -> ``"1h"``)."""
    seconds = delta.total_seconds()
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def format_elapsed(seconds: float | None) -> str:
    """A measured duration in its natural unit, for people: ``45 s``, ``12 min``, ``3.2 h``,
    ``2.1 d``; None or NaN -> ``-``. Seconds below a minute, minutes below an hour, hours below
    two days, then days (a value that would round up to the next unit is shown in it: 3599 s
    is ``1.0 h``)."""
    if seconds is None or seconds != seconds:
        return "-"
    s = float(seconds)
    if round(s) < 60:
        return f"{s:.0f} s"
    if round(s / 60) < 60:
        return f"{s / 60:.0f} min"
    if s < 2 * 86_400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86_400:.1f} d"


def validate_window_size(size: timedelta, *, key: str = "window") -> timedelta:
    """Check that ``size`` gives aligned buckets; returns it unchanged.

    Raises
    ------
    ValueError
        When the size is under one second, not whole seconds, or neither divides a day nor is a
        whole number of days.
    """
    seconds = size.total_seconds()
    if seconds < 1 or seconds != int(seconds):
        raise ValueError(f"{key} must be a whole number of seconds >= 1s, got {seconds:g}s")
    whole = int(seconds)
    if DAY_S % whole != 0 and whole % DAY_S != 0:
        raise ValueError(
            f"{key} = {format_duration(size)} does not give aligned buckets; use a size that "
            "divides a day (e.g. 5m, 15m, 1h, 2h, 6h, 12h) or a whole number of days (1d, 7d)"
        )
    return size


@dataclass(frozen=True, order=True)
class Window:
    """A half-open time window ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    @property
    def size(self) -> timedelta:
        return self.end - self.start

    @property
    def key(self) -> str:
        """Stable text key: fixed-width UTC start plus the size, so keys sort by start."""
        return f"{self.start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}/{int(self.size.total_seconds())}s"

    def __str__(self) -> str:
        return f"[{self.start:%Y-%m-%d %H:%M:%S}, {self.end:%Y-%m-%d %H:%M:%S}) UTC"


def window_from_key(key: str) -> Window:
    """Inverse of :attr:`Window.key`."""
    try:
        start_text, size_text = key.split("/")
        start = datetime.strptime(start_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        size = timedelta(seconds=int(size_text.removesuffix("s")))
    except ValueError:
        raise ValueError(f"{key!r} is not a window key like '2026-01-31T10:00:00Z/3600s'") from None
    return Window(start, start + size)


def _require_aware(ts: datetime, name: str) -> datetime:
    if ts.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {ts!r}")
    return ts.astimezone(UTC)


def window_containing(ts: datetime, size: timedelta) -> Window:
    """The aligned bucket that contains ``ts``."""
    ts = _require_aware(ts, "ts")
    step = int(size.total_seconds())
    offset = (ts - ANCHOR) // timedelta(seconds=step)
    start = ANCHOR + timedelta(seconds=offset * step)
    return Window(start, start + size)


def latest_closed(now: datetime, size: timedelta, delay: timedelta = timedelta(0)) -> Window:
    """The most recent window whose end is at or before ``now - delay``.

    ``delay`` leaves time for late data (predictions still in flight, labels arriving later).
    """
    now = _require_aware(now, "now")
    current = window_containing(now - delay, size)
    return Window(current.start - size, current.start)


def windows_between(first_start: datetime, last: Window) -> list[Window]:
    """Every aligned window from the one starting at ``first_start`` up to ``last``, in order."""
    size = last.size
    out: list[Window] = []
    start = window_containing(first_start, size).start
    while start <= last.start:
        out.append(Window(start, start + size))
        start += size
    return out


def due_windows(
    now: datetime,
    size: timedelta,
    *,
    delay: timedelta = timedelta(0),
    first_known: datetime | None,
    finished: Iterable[str],
    cap: int,
) -> list[Window]:
    """The windows a tick should compute now, oldest first.

    Parameters
    ----------
    now
        Current time (aware).
    size, delay
        Window size and how long after a window closes it becomes due.
    first_known
        Start of the earliest window ever claimed for this job and model, or None on the very
        first run. Windows before it are never backfilled (monitoring starts when it starts).
    finished
        Keys of windows that need no more work (done, or failed for good).
    cap
        At most this many windows, the most recent ones: after a long outage the oldest windows
        beyond the cap are skipped (and logged by the caller) rather than computed for hours.

    Returns
    -------
    list of Window
        On the very first run only the latest closed window. Otherwise every closed window since
        ``max(first_known, latest - (cap - 1) * size)`` that is not finished, in order.
    """
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    last = latest_closed(now, size, delay)
    if first_known is None:
        return [last]
    earliest_allowed = last.start - (cap - 1) * size
    start = max(_require_aware(first_known, "first_known"), earliest_allowed)
    if start > last.start:
        return []
    done = set(finished)
    return [w for w in windows_between(start, last) if w.key not in done]


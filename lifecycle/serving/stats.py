"""Counters of one :class:`lifecycle.ManagedModel` (thread-safe) and their snapshot."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lifecycle.states import SHADOW_LIVE


@dataclass(frozen=True)
class ServingStats:
    """What a ManagedModel did since it was made (requests are calls, whatever their rows).

    Attributes
    ----------
    served
        Requests answered by the champion (calls that raised are not counted).
    shadowed
        Requests the challenger answered in shadow and that were logged.
    shadow_dropped
        Requests not shadowed because the shadow queue was full (or the champion's record
        was not logged: sampled out, or capture failed).
    shadow_errors
        Requests whose challenger call raised or returned unusable output (wrong number of
        rows, NaN, not an array).
    reloads
        Versions loaded after the first load (an alias moved).
    reload_failures
        Versions that failed to load (the previous model kept serving).
    poll_errors
        Alias checks that failed (the registry did not answer).
    shadow_queued
        Requests waiting in the shadow queue now.
    shadow_deferred
        Requests served and logged while a challenger existed in ``shadow="batch"`` mode:
        left to the ``shadow_score`` job, which scores them from the log.
    shadow_mode
        ``live``, ``batch`` or ``off`` (see ``ManagedModel(shadow=...)``).
    """

    served: int
    shadowed: int
    shadow_dropped: int
    shadow_errors: int
    reloads: int
    reload_failures: int
    poll_errors: int
    shadow_queued: int
    shadow_deferred: int = 0
    shadow_mode: str = SHADOW_LIVE


class Counters:
    """Named integer counters behind one lock."""

    __slots__ = ("_lock", "served", "shadowed", "shadow_dropped", "shadow_errors", "reloads",
                 "reload_failures", "poll_errors", "shadow_deferred")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.served = self.shadowed = self.shadow_dropped = self.shadow_errors = 0
        self.reloads = self.reload_failures = self.poll_errors = self.shadow_deferred = 0

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def count_served(self) -> None:
        """The hot path's counter, spelt out (no ``getattr``)."""
        with self._lock:
            self.served += 1

    def count_deferred(self) -> None:
        """A request served in batch shadow mode while a challenger exists (one lock)."""
        with self._lock:
            self.served += 1
            self.shadow_deferred += 1

    def snapshot(self, queued: int, mode: str) -> ServingStats:
        with self._lock:
            return ServingStats(self.served, self.shadowed, self.shadow_dropped,
                                self.shadow_errors, self.reloads, self.reload_failures,
                                self.poll_errors, queued, self.shadow_deferred, mode)

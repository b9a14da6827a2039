"""Error bookkeeping of the writer: counters, rate-limited logging, outage classification."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("lifecycle.capture")

#: Minimum seconds between two log lines of the same kind of error.
LOG_EVERY_S = 60.0
_OUTAGE_HINTS = ("no such table", "does not exist", "undefinedtable", "database is locked",
                 "readonly", "read-only", "unable to open", "disk i/o", "disk is full",
                 "connection", "server closed", "timeout", "terminating")


def is_outage(exc: BaseException) -> bool:
    """True when the database could not take the batch now (retry later), False when the
    batch itself was refused (retrying would fail forever)."""
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | OSError
                  | TimeoutError):
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    return any(hint in text for hint in _OUTAGE_HINTS)


def describe(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 300 characters), safe to log.

    Database errors carry the statement's bound values after their first line (SQLAlchemy's
    ``[parameters: ...]``, PostgreSQL's ``DETAIL``/``CONTEXT`` lines quote the rows): those are
    the user's data, so they are never logged. Engines also hide parameters
    (``hide_parameters=True`` in :func:`lifecycle.storage.engine.make_engine`).
    """
    text = str(exc)
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:300]}"


def schema_missing(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)



class Health:
    """Counters and errors of one writer (thread-safe, re-entrant for the exit path)."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = dict.fromkeys(
            ("logged", "written", "spilled", "replayed", "duplicates_skipped", "overflow",
             "errors", "rejected"), 0)
        self.errors_by_kind: dict[str, int] = {}
        self._lock = threading.RLock()
        self._last_logged: dict[str, float] = {}

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] += n

    def note(self, kind: str, message: str) -> None:
        """Count an error of ``kind`` and log it, at most once per minute per kind."""
        with self._lock:
            self.counters["errors"] += 1
            self.errors_by_kind[kind] = self.errors_by_kind.get(kind, 0) + 1
            now = time.monotonic()
            last = self._last_logged.get(kind)
            if last is not None and now - last < LOG_EVERY_S:
                return
            self._last_logged[kind] = now
            total = self.errors_by_kind[kind]
        log.warning("lifecycle capture [%s] %s (occurrences so far: %d)", kind, message, total)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = dict(self.counters)
            out["errors_by_kind"] = dict(self.errors_by_kind)
        return out

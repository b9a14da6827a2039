"""Process-global state of capture: one writer per database URL, settings, exit hooks.

* Settings are read lazily, the first time a record has to be written (never at import or
  decoration time), unless :func:`configure` set them explicitly.
* Fork safety: a child created by ``os.fork`` (gunicorn's pre-fork model, multiprocessing
  with "fork") forgets the parent's writers, queues, spill handles and pooled connections
  and starts its own writer on its first record. Records still queued in the parent at fork
  time are written by the parent only, so nothing is written twice.
* Exit: an ``atexit`` hook drains every writer (written, or spilled when the database does
  not answer within ``capture.shutdown_timeout_s``). A SIGTERM handler does the same and
  then lets the signal kill the process as before; it is installed only in the main thread
  and only when no other handler is installed (a server's own handler is left alone; its
  normal exit then runs the ``atexit`` hook).
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.capture.health import Health
from lifecycle.capture.writer import Writer
from lifecycle.config import CaptureSettings, Settings, load_settings

_lock = threading.RLock()
_writers: dict[str, Writer] = {}
_orphans: list[Writer] = []  # parents' writers seen in a forked child (kept, never used)
_settings: Settings | None = None
_explicit: dict[str, Any] = {}
_hooks_installed = False
_sampled_out = [0]
#: Rows lost on the callers' side (never reached a writer), by kind: ``settings`` (the
#: settings could not be loaded), ``record`` (the record could not be built or queued).
_dropped: dict[str, int] = {}
#: What the previous :func:`flush` already reported: caller-side drops by kind, and each
#: running writer's ``rejected`` rows (keyed by ``id(writer)``).
_reported: dict[str, dict[Any, int]] = {"dropped": {}, "rejected": {}}
#: Rows rejected by writers that were closed before a flush reported them.
_closed_rejected = [0]
#: Names passed to ``lifecycle.monitor`` in this process (``log_outcomes`` knows them).
_monitored: set[str] = set()
#: Errors on the callers' side, where no writer is involved (invalid settings, a failing
#: clock...): counted and rate-limit logged exactly like a writer's.
_caller_health = [Health()]
#: Bumped in a forked child so cached writer references are refreshed.
generation = [0]


def configure(
    *,
    database_url: str | None = None,
    settings: Settings | None = None,
    **capture: Any,
) -> None:
    """Set where and how predictions are captured, instead of reading ``lifecycle.toml``.

    Parameters
    ----------
    database_url
        Database for every monitor that does not name its own.
    settings
        Full settings (e.g. from :func:`lifecycle.load_settings`); ``database_url`` wins.
    **capture
        Overrides of :class:`~lifecycle.config.CaptureSettings` fields, e.g.
        ``flush_interval_s=0.05, spill_dir="/var/spool/lifecycle"``.
    """
    valid = {f.name for f in dataclasses.fields(CaptureSettings)}
    unknown = sorted(set(capture) - valid)
    if unknown:
        from lifecycle.errors import ConfigError

        raise ConfigError(f"unknown capture setting(s) {unknown}; valid: {sorted(valid)}")
    with _lock:
        global _settings
        _settings = settings
        _explicit.clear()
        if database_url is not None:
            _explicit["database_url"] = database_url
        _explicit["capture"] = capture
        _reset_counters()


def current_settings() -> Settings:
    """The settings capture uses (loaded on first use)."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def _capture_settings() -> tuple[CaptureSettings, Path]:
    settings = current_settings()
    cap = settings.capture
    overrides = dict(_explicit.get("capture", {}))
    if "spill_dir" in overrides and overrides["spill_dir"] is not None:
        overrides["spill_dir"] = Path(overrides["spill_dir"])
    if overrides:
        cap = dataclasses.replace(cap, **overrides)
    spill = cap.spill_dir or settings.home / "spill"
    return cap, spill


def default_url() -> str:
    return str(_explicit.get("database_url") or current_settings().database_url)


def writer_for(database_url: str | None) -> Writer:
    """The running writer for ``database_url`` (default: the configured database)."""
    with _lock:
        url = database_url or default_url()
        writer = _writers.get(url)
        if writer is None:
            cap, spill = _capture_settings()
            writer = Writer(url, cap, spill)
            writer.start()
            _writers[url] = writer
            _install_hooks(cap)
        return writer


def writers() -> list[Writer]:
    with _lock:
        return list(_writers.values())


def caller_health() -> Health:
    return _caller_health[0]


def _reset_counters() -> None:
    """Caller-side counters start again from zero, like a new writer's (hold ``_lock``)."""
    _caller_health[0] = Health()
    _sampled_out[0] = 0
    _dropped.clear()
    _reported["dropped"].clear()
    _reported["rejected"].clear()
    _closed_rejected[0] = 0


def validate_settings() -> None:
    """Raise :class:`~lifecycle.errors.ConfigError` now when the settings capture would use
    cannot be loaded (called at decoration time, off the request path). Explicit settings
    (:func:`configure`) or settings already loaded are not read again; otherwise the file and
    environment are read but not kept, so the first write still reads them afresh."""
    with _lock:
        if _settings is not None:
            return
    load_settings()


def note_monitored(name: str) -> None:
    """``lifecycle.monitor(name)`` was called in this process."""
    with _lock:
        _monitored.add(name)


def is_monitored(name: str) -> bool:
    with _lock:
        return name in _monitored


def count_dropped(kind: str, rows: int, message: str) -> None:
    """A record was lost on the caller's side: count its rows under ``kind``, count the
    error and log why (at most once a minute per kind, see :class:`Health`)."""
    with _lock:
        _dropped[kind] = _dropped.get(kind, 0) + rows
    _caller_health[0].note(kind, message)


def dropped() -> dict[str, int]:
    """Rows lost on the callers' side since :func:`configure`, by kind."""
    with _lock:
        return dict(_dropped)


def count_sampled_out(n: int) -> None:
    with _lock:
        _sampled_out[0] += n


def sampled_out() -> int:
    return _sampled_out[0]


@dataclass(frozen=True)
class FlushResult:
    """What :func:`flush` found. True (``bool(result)``) only when every row logged before
    the call is in the database AND no row was lost since the previous flush.

    Attributes
    ----------
    complete
        Every row queued before the call is in the database (False: the timeout passed
        first; those rows are queued or in the spill file and are written later).
    dropped
        Rows lost since the previous flush of this process: never written and never will
        be (``lost`` says why, by kind).
    lost
        ``dropped`` by kind: ``settings`` (the settings could not be loaded), ``record``
        (a record could not be built or queued), ``rejected`` (the database refused the
        batch, or it could not be converted; kept in the ``rejected`` spill folder).
    """

    complete: bool
    dropped: int = 0
    lost: Mapping[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.complete and self.dropped == 0

    def __str__(self) -> str:
        state = "complete" if self.complete else "incomplete (timeout)"
        if not self.dropped:
            return f"flush {state}, nothing lost"
        why = ", ".join(f"{kind} {n}" for kind, n in sorted(self.lost.items()))
        return f"flush {state}; {self.dropped} row(s) lost since the previous flush ({why})"


def _losses_since_reported() -> dict[str, int]:
    """Rows lost since the previous flush, by kind; marks them as reported (hold ``_lock``)."""
    lost: dict[str, int] = {}
    seen = _reported["dropped"]
    for kind, n in _dropped.items():
        if n > seen.get(kind, 0):
            lost[kind] = n - seen.get(kind, 0)
        seen[kind] = n
    seen_rejected = _reported["rejected"]
    if _closed_rejected[0]:
        lost["rejected"] = _closed_rejected[0]
        _closed_rejected[0] = 0
    for writer in _writers.values():
        n = int(writer.snapshot()["rejected"])
        new = n - seen_rejected.get(id(writer), 0)
        if new > 0:
            lost["rejected"] = lost.get("rejected", 0) + new
        seen_rejected[id(writer)] = n
    return lost


def flush(timeout: float | None = None) -> FlushResult:
    """Flush every writer of this process (see :class:`FlushResult`)."""
    import time

    deadline = None if timeout is None else time.monotonic() + timeout
    ok = True
    for writer in writers():
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        ok = writer.flush(remaining) and ok
    with _lock:
        lost = _losses_since_reported()
    result = FlushResult(complete=ok, dropped=sum(lost.values()), lost=lost)
    if lost:
        import logging

        logging.getLogger("lifecycle.capture").warning("lifecycle capture: %s", result)
    return result


def shutdown(timeout: float | None = None) -> None:
    """Drain and stop every writer (written, or spilled if the database does not answer)."""
    with _lock:
        current = list(_writers.values())
        _writers.clear()
        generation[0] += 1  # monitors drop their cached writer and ask again
    for writer in current:
        limit = writer.capture.shutdown_timeout_s if timeout is None else timeout
        writer.close(limit)
    with _lock:  # rows a closed writer rejected that no flush reported: for the next one
        for writer in current:
            new = int(writer.snapshot()["rejected"]) - _reported["rejected"].pop(id(writer), 0)
            _closed_rejected[0] += max(new, 0)


def reset() -> None:
    """Stop writers and forget settings (tests, and a fresh :func:`configure`)."""
    global _settings
    shutdown()
    with _lock:
        _settings = None
        _explicit.clear()
        _reset_counters()


# ---------------------------------------------------------------------- process hooks

def _install_hooks(cap: CaptureSettings) -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(shutdown)
    os.register_at_fork(after_in_child=_after_fork_in_child)
    if not cap.handle_sigterm or threading.current_thread() is not threading.main_thread():
        return
    try:
        current = signal.getsignal(signal.SIGTERM)
        if current in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter / unsupported platform
        pass


#: Set once SIGTERM arrived; monitored calls then wait on ``terminate_lock`` (held by the
#: drain until the process dies), so no call returns whose record could miss the drain.
terminating = [False]
terminate_lock = threading.Lock()


def _on_sigterm(signum: int, _frame: Any) -> None:
    """Drain in a helper thread: the handler runs on the main thread, which may have been
    interrupted inside a monitored call holding a lock the writer needs, so it must return
    at once. A second SIGTERM during the drain kills as before."""
    if terminating[0]:
        return
    terminate_lock.acquire()  # released never: the process dies holding it
    terminating[0] = True
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_terminate, args=(signum,), name="lifecycle-sigterm",
                     daemon=True).start()


def _terminate(signum: int) -> None:
    drained = writers()
    try:
        shutdown()
        for writer in drained:  # a record that reached a closing writer late
            writer.close(5.0)
        for writer in drained:  # let a write in flight commit before the process dies
            writer.join(writer.capture.shutdown_timeout_s)
    finally:
        os.kill(os.getpid(), signum)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.RLock()
    for writer in _writers.values():
        writer.abandon()
        _orphans.append(writer)
    _writers.clear()
    generation[0] += 1

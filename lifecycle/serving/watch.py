"""Alias changes, picked up without a restart.

:func:`next_state` reads where ``champion`` and ``challenger`` point now and loads what
changed, beside the state that keeps serving; the caller installs the result with one
assignment. A version that fails to load leaves the old one in place (reported as a
:class:`LoadFailure`). :class:`Poller` calls a function every ``interval`` seconds on a
daemon thread; a failing call is counted by its caller and never stops the thread.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lifecycle.registry.base import Registry, VersionInfo
from lifecycle.serving.slot import Slot, State, load_slot
from lifecycle.states import CHALLENGER, CHAMPION, SHADOW_LIVE, SHADOW_OFF

log = logging.getLogger("lifecycle.serving")


@dataclass(frozen=True)
class LoadFailure:
    """A version an alias points to that did not load (the previous one kept its place)."""

    alias: str
    version: str
    error: str


@dataclass(frozen=True)
class Refreshed:
    """The outcome of one alias check.

    ``champion`` / ``challenger``: the versions serving and shadowing after it (in batch
    mode, ``challenger`` is the version the ``shadow_score`` job scores);
    ``loaded``: (alias, version) pairs newly installed; ``failures``: loads that failed.
    """

    champion: str
    challenger: str | None
    loaded: tuple[tuple[str, str], ...] = ()
    failures: tuple[LoadFailure, ...] = ()


def _load(registry: Registry, alias: str, info: VersionInfo, options: dict[str, Any],
          reuse: dict[str, Any], failures: list[LoadFailure]) -> Slot | None:
    try:
        return load_slot(registry, alias, info, options, reuse)
    except Exception as exc:  # noqa: BLE001 - a bad version never stops serving
        error = "".join(traceback.format_exception_only(exc)).strip()
        failures.append(LoadFailure(alias, info.version, error))
        return None


def next_state(registry: Registry, name: str, current: State, options: dict[str, Any],
               shadow: str = SHADOW_LIVE) -> tuple[State, Refreshed]:
    """The state to serve after reading both aliases (``current`` itself when nothing moved).

    The champion alias gone: the current champion keeps serving (logged). The challenger
    alias gone, or pointing at the champion's version (a promotion in progress): no shadow.
    ``shadow``: ``live`` loads the challenger; ``batch`` only reads its version (reported in
    ``Refreshed.challenger``; the state has no challenger: the ``shadow_score`` job scores
    it); ``off`` does not read the alias. Registry errors propagate (the caller counts
    them); load errors do not.
    """
    failures: list[LoadFailure] = []
    loaded: list[tuple[str, str]] = []
    reuse = {slot.version: slot.model for slot in (current.champion, current.challenger)
             if slot is not None}
    champion = current.champion
    info = registry.by_alias(name, CHAMPION)
    if info is None:
        log.warning("model %r has no %r alias any more; version %s keeps serving", name,
                    CHAMPION, champion.version)
    elif info.version != champion.version:
        fresh = _load(registry, CHAMPION, info, options, reuse, failures)
        if fresh is not None:
            champion = fresh
            loaded.append((CHAMPION, fresh.version))
    if shadow != SHADOW_LIVE:
        info = None if shadow == SHADOW_OFF else registry.by_alias(name, CHALLENGER)
        later = None if info is None or info.version == champion.version else info.version
        state = current if champion is current.champion else State(champion, None)
        return state, Refreshed(champion.version, later, tuple(loaded), tuple(failures))
    challenger = current.challenger
    info = registry.by_alias(name, CHALLENGER)
    if info is None or info.version == champion.version:
        challenger = None
    elif challenger is None or info.version != challenger.version:
        fresh = _load(registry, CHALLENGER, info, options, reuse, failures)
        if fresh is not None:
            challenger = fresh
            loaded.append((CHALLENGER, fresh.version))
        elif challenger is not None and challenger.version == champion.version:
            challenger = None
    state = current if (champion is current.champion and challenger is current.challenger) \
        else State(champion, challenger)
    return state, Refreshed(champion.version, None if challenger is None else
                            challenger.version, tuple(loaded), tuple(failures))


class Poller:
    """Calls ``check`` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, name: str, interval: float, check: Callable[[], object]) -> None:
        self._interval = interval
        self._check = check
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lifecycle-aliases-{name}")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._check()
            except Exception:  # noqa: BLE001 - the caller counts and logs; keep polling
                log.debug("alias poll failed", exc_info=True)

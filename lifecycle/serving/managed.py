"""``lifecycle.ManagedModel("name")``: serve the champion, shadow the challenger.

>>> model = lifecycle.ManagedModel("churn", id_column="customer_id")   # doctest: +SKIP
>>> model.predict_proba(frame)                                          # doctest: +SKIP
>>> model.stats                                                         # doctest: +SKIP

The champion (``models:/churn@champion``) answers every call and each call is logged through
capture (role ``champion``, its version, its prediction ids as request ids). When the
``challenger`` alias exists, the call's capture record is queued for the shadow thread
(``shadow.py``); a poll thread reads both aliases every ``poll_seconds`` and installs moved
versions with one assignment (``watch.py``). See ``docs/serving.md``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from lifecycle.capture import runtime
from lifecycle.capture.hotpath import last_record
from lifecycle.capture.records import R_SPEC
from lifecycle.config import Settings
from lifecycle.errors import ConfigError, NoChampionError
from lifecycle.registry.base import Registry
from lifecycle.registry.mlflow_store import registry_for
from lifecycle.serving.inputs import model_input
from lifecycle.serving.load_alert import raise_load_alert, resolve_load_alert
from lifecycle.serving.shadow import ShadowQueue
from lifecycle.serving.slot import PREDICT, PREDICT_PROBA, State, load_slot
from lifecycle.serving.stats import Counters, ServingStats
from lifecycle.serving.watch import Poller, Refreshed, next_state
from lifecycle.states import CHAMPION, SHADOW_BATCH, SHADOW_LIVE, SHADOW_MODES

log = logging.getLogger("lifecycle.serving")

_live: weakref.WeakSet[ManagedModel] = weakref.WeakSet()


class ManagedModel:
    """The registered model ``name``'s champion, served and logged; its challenger, shadowed.

    Parameters
    ----------
    name
        Registered model name (also the monitored model's name in the database).
    registry
        The model registry (default: the MLflow registry of the settings, made at first use).
    settings
        Settings (default: capture's current settings, i.e. ``lifecycle.toml`` /
        ``LIFECYCLE_*`` or :func:`lifecycle.configure`).
    poll_seconds
        How often both aliases are read (``refresh()`` reads them now).
    shadow
        How the challenger answers the champion's requests: ``"batch"`` (default) serves and
        logs the champion only, and the scheduled ``shadow_score`` job scores the challenger
        later from the logged inputs (nothing on the request path); ``"live"`` scores it on
        a background thread in micro-batches (results at once, the request's own inputs,
        but it competes with serving for CPU and the GIL); ``"off"``: no shadow. Why batch
        is the default: docs/serving.md, "Shadow modes".
    shadow_queue
        Requests waiting for the challenger at most; beyond, shadow work is dropped.
    shadow_batch
        Rows per challenger call (micro-batch).
    id_column, redact, hash_columns, feature_names, database_url, clock
        Capture options, as for :func:`lifecycle.monitor` (both roles use them).

    Nothing is loaded until the first call (or :meth:`load`): constructing one at import
    time reads no settings and touches neither the registry nor the database.
    """

    def __init__(self, name: str, *, registry: Registry | None = None,
                 settings: Settings | None = None, poll_seconds: float = 30.0,
                 shadow: str = SHADOW_BATCH, shadow_queue: int = 10_000,
                 shadow_batch: int = 256,
                 id_column: str | None = None, redact: str | Iterable[str] = (),
                 hash_columns: str | Iterable[str] = (),
                 feature_names: Iterable[str] | None = None, database_url: str | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"ManagedModel needs a registered model name, got {name!r}")
        for label, value in (("shadow_queue", shadow_queue), ("shadow_batch", shadow_batch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ManagedModel({name!r}): {label} must be a positive "
                                  f"integer, got {value!r}")
        if shadow not in SHADOW_MODES:
            raise ConfigError(f"ManagedModel({name!r}): shadow={shadow!r} is not a shadow "
                              f"mode; choose one of {', '.join(map(repr, SHADOW_MODES))}")
        if isinstance(poll_seconds, bool) or not isinstance(poll_seconds, int | float) or not (
                poll_seconds > 0):
            raise ConfigError(f"ManagedModel({name!r}): poll_seconds must be a positive "
                              f"number of seconds, got {poll_seconds!r}")
        self.name = name
        self.poll_seconds = float(poll_seconds)
        self.shadow = shadow
        self.shadow_queue = shadow_queue
        self.shadow_batch = shadow_batch
        self._registry = registry
        self._settings = settings
        self._options: dict[str, Any] = {
            "id_column": id_column, "redact": redact, "hash_columns": hash_columns,
            "feature_names": feature_names, "database_url": database_url, "clock": clock}
        self._counters = Counters()
        self._state: State | None = None  # what serves: one assignment swaps it
        self._loaded: State | None = None  # kept across a fork (the child restarts threads)
        self._start_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._shadow: ShadowQueue | None = None
        #: batch mode: the challenger version the shadow_score job scores (None: none)
        self._later: str | None = None
        self._poller: Poller | None = None
        self._alerted: set[str] = set()
        self._closed = False

    # ------------------------------------------------------------------ serving

    def predict(self, X: Any) -> Any:
        """The champion's ``predict(X)``, logged; mirrored to the challenger in shadow."""
        return self._serve(X, PREDICT)

    @property
    def predict_proba(self) -> Callable[[Any], Any]:
        """The champion's ``predict_proba``, logged and shadowed like :meth:`predict`.

        Raises AttributeError when the champion has none (``hasattr`` answers accordingly).
        """
        state = self._state or self._start()
        if state.champion.predict_proba is None:
            raise AttributeError(
                f"ManagedModel({self.name!r}): the champion, version "
                f"{state.champion.version} ({type(state.champion.model).__name__}), has no "
                "predict_proba (a regressor, a classifier without probabilities, or a pyfunc "
                "model); call predict")
        return self._predict_proba

    def _predict_proba(self, X: Any) -> Any:
        return self._serve(X, PREDICT_PROBA)

    def _serve(self, X: Any, method: str) -> Any:
        state = self._state
        if state is None:
            state = self._start()
        champion = state.champion
        fn = champion.predict if method == PREDICT else champion.predict_proba
        if fn is None:  # the champion changed under a predict_proba caller
            raise AttributeError(f"ManagedModel({self.name!r}): champion version "
                                 f"{champion.version} has no predict_proba")
        features = model_input(X)
        before = last_record()
        result = fn(features)
        challenger = state.challenger
        if challenger is None and self._later is None:  # no challenger, or shadow="off"
            self._counters.count_served()
            return result
        record = last_record()
        if record is None or record is before or record[R_SPEC] is not champion.spec:
            # sampled out or not logged: nothing to pair the challenger with
            self._counters.count_served()
            self._counters.add("shadow_dropped")
        elif challenger is not None and self._shadow is not None:
            self._counters.count_served()
            self._shadow.offer(record, challenger)
        else:  # batch: logged; the shadow_score job scores it from the log
            self._counters.count_deferred()
        return result

    # ------------------------------------------------------------------ state

    @property
    def stats(self) -> ServingStats:
        """Counters since this object was made (see :class:`ServingStats`)."""
        return self._counters.snapshot(0 if self._shadow is None else len(self._shadow),
                                       self.shadow)

    @property
    def versions(self) -> tuple[str, str | None]:
        """(champion version, challenger version or None), loading on first use. In batch
        mode the challenger is the version the ``shadow_score`` job scores; ``off``: None."""
        state = self._state or self._start()
        if self.shadow != SHADOW_LIVE:
            return state.champion.version, self._later
        return state.champion.version, (None if state.challenger is None
                                        else state.challenger.version)

    @property
    def champion(self) -> Any:
        """The champion's model object (native scikit-learn or pyfunc)."""
        return (self._state or self._start()).champion.model

    def load(self) -> ManagedModel:
        """Load now instead of at the first call; returns self."""
        self._state or self._start()
        return self

    def refresh(self) -> Refreshed:
        """Read both aliases now and install what moved (what the poll thread does).

        Raises the registry's error when it cannot be read; a version that fails to load
        never raises: the previous one keeps serving, ``reload_failures`` counts it and a
        ``model_load_failed`` alert is raised.
        """
        current = self._state or self._start()
        with self._refresh_lock:
            current = self._state or current
            state, outcome = next_state(self._get_registry(), self.name, current,
                                        self._options, self.shadow)
            self._state = self._loaded = state
            self._defer(outcome.challenger)
        self._counters.add("reloads", len(outcome.loaded))
        self._after_refresh(outcome)
        return outcome

    def _poll(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - counted; the next poll tries again
            self._counters.add("poll_errors")
            log.warning("could not read the aliases of model %r: %r; the loaded versions "
                        "keep serving", self.name, exc)
            raise

    def _after_refresh(self, outcome: Refreshed) -> None:
        for failure in outcome.failures:
            self._counters.add("reload_failures")
            serving = outcome.champion if failure.alias == CHAMPION else outcome.challenger
            log.error("model %r: version %s (alias %s) failed to load: %s; %s", self.name,
                      failure.version, failure.alias, failure.error,
                      f"version {serving} keeps its place" if serving else "no shadow")
            if self._raise_alert(failure.alias, failure.version, serving, failure.error):
                self._alerted.add(failure.alias)
        for alias, version in outcome.loaded:
            log.info("model %r: %s is now version %s", self.name, alias, version)
            if alias in self._alerted and self._resolve_alert(alias, version):
                self._alerted.discard(alias)

    def _defer(self, challenger: str | None) -> None:
        """Batch mode: remember the challenger the job scores; say once per version when
        this process's settings do not schedule that job."""
        if self.shadow != SHADOW_BATCH or challenger == self._later:
            return
        self._later = challenger
        if challenger is None:
            return
        try:
            scheduled = "shadow_score" in self._get_settings().model(self.name).schedule.jobs
        except Exception:  # noqa: BLE001 - a hint only; settings errors surface elsewhere
            scheduled = True
        if not scheduled:
            log.warning("model %r: challenger version %s is left to the shadow_score job "
                        "(shadow=\"batch\"), which these settings do not schedule; add "
                        "[models.%s.schedule.shadow_score] every = \"15m\" to the scheduler's "
                        "lifecycle.toml, or serve with shadow=\"live\"", self.name,
                        challenger, self.name)

    def _engine_settings(self) -> tuple[Any, Settings]:
        engine = runtime.writer_for(self._options["database_url"])._engine_or_make()
        return engine, self._get_settings()

    def _raise_alert(self, alias: str, version: str, serving: str | None, error: str) -> bool:
        try:
            engine, settings = self._engine_settings()
        except Exception:  # noqa: BLE001 - no database: the log line above is the alert
            log.exception("no database for the model_load_failed alert of %r", self.name)
            return False
        return raise_load_alert(engine, settings, self.name, alias, version, serving, error)

    def _resolve_alert(self, alias: str, version: str) -> bool:
        try:
            engine, settings = self._engine_settings()
        except Exception:  # noqa: BLE001
            return False
        return resolve_load_alert(engine, settings, self.name, alias, version)

    def _get_settings(self) -> Settings:
        if self._settings is None:
            self._settings = runtime.current_settings()
        return self._settings

    def _get_registry(self) -> Registry:
        if self._registry is None:
            self._registry = registry_for(self._get_settings())
        return self._registry

    def _start(self) -> State:
        """First use (or first use after a fork): load, start the threads."""
        with self._start_lock:
            if self._state is not None:
                return self._state
            if self._closed:
                raise RuntimeError(f"ManagedModel({self.name!r}) is closed; make a new one")
            state = self._loaded or self._first_load()
            if self.shadow == SHADOW_LIVE:
                self._shadow = ShadowQueue(self.name, self.shadow_queue, self.shadow_batch,
                                           self._counters)
                self._shadow.start()
            self._poller = Poller(self.name, self.poll_seconds, self._poll)
            self._poller.start()
            _live.add(self)
            atexit.register(self.close)
            self._state = self._loaded = state
            return state

    def _first_load(self) -> State:
        registry = self._get_registry()
        info = registry.by_alias(self.name, CHAMPION)
        if info is None:
            raise NoChampionError(
                f"model {self.name!r} has no {CHAMPION!r} alias in the registry at "
                f"{registry.tracking_uri}, so ManagedModel has nothing to serve; register "
                f"the model you serve today and give it the alias: lifecycle register "
                f"{self.name} --from-file|--from-run|--from-uri ... --alias {CHAMPION}")
        champion = load_slot(registry, CHAMPION, info, self._options, {})
        placeholder = State(champion, None)
        state, outcome = next_state(registry, self.name, placeholder, self._options,
                                    self.shadow)
        self._defer(outcome.challenger)
        self._after_refresh(Refreshed(outcome.champion, outcome.challenger,
                                      tuple(p for p in outcome.loaded if p[0] != CHAMPION),
                                      outcome.failures))
        return state

    # ------------------------------------------------------------------ shutdown

    def flush(self, timeout: float | None = None) -> bool:
        """Score every queued shadow request, then :func:`lifecycle.flush` (both rows of
        every request so far are in the database when it returns True)."""
        drained = True if self._shadow is None else self._shadow.drain(timeout)
        return drained and bool(runtime.flush(timeout))

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop polling, score what is queued (up to ``timeout``), stop the shadow thread.
        Registered at exit; calling it again does nothing."""
        with self._start_lock:
            if self._closed:
                return
            self._closed = True
            poller, shadow = self._poller, self._shadow
            self._state = None
        atexit.unregister(self.close)
        if poller is not None:
            poller.stop()
        if shadow is not None and not shadow.close(timeout):
            log.warning("ManagedModel(%r) closed with %d shadow requests not scored",
                        self.name, len(shadow))

    def __enter__(self) -> ManagedModel:
        return self.load()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _after_fork_in_child(self) -> None:
        """Threads do not survive a fork: the child starts its own at its first call,
        serving the models the parent had loaded."""
        self._start_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._state = None
        self._shadow = self._poller = None

    def __repr__(self) -> str:
        state = self._state
        if state is None:
            return f"ManagedModel({self.name!r}, not loaded)"
        challenger = "" if state.challenger is None else \
            f", challenger={state.challenger.version!r}"
        return f"ManagedModel({self.name!r}, champion={state.champion.version!r}{challenger})"


def _reset_after_fork() -> None:
    for model in list(_live):
        model._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_after_fork)

__all__ = ["ManagedModel", "Refreshed", "ServingStats"]

"""The estimator face of capture: ``lifecycle.monitor("m")(estimator)``.

The wrapper logs ``predict`` / ``predict_proba`` / ``decision_function`` through the same
hot path as a monitored function (``hotpath.wrap_callable``) and follows scikit-learn's
conventions otherwise (``check_is_fitted``, ``clone``, pickling; see docs/capture.md).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import random
from collections.abc import Callable
from typing import Any

from lifecycle.capture import runtime
from lifecycle.capture.hotpath import ESTIMATOR_METHODS, wrap_callable
from lifecycle.capture.importances import read_importances
from lifecycle.capture.records import CaptureSpec
from lifecycle.errors import ConfigError


def respec(spec: CaptureSpec, estimator: Any, *, keep_key: bool = True) -> CaptureSpec:
    """The settings of ``spec`` for another estimator: same name and options, fresh caches,
    sampling restarted from the seed; the hash key kept only in memory (``keep_key``)."""
    return dataclasses.replace(
        spec, estimator=estimator, _cache={},
        rng=random.Random(spec.seed) if spec.seed is not None else None,
        hash_key=spec.hash_key if keep_key else None,
    )


def _restore(estimator: Any, spec: CaptureSpec) -> MonitoredEstimator:
    """Unpickle a monitored estimator: the hash key (never pickled) comes from the settings."""
    spec = dataclasses.replace(spec, estimator=estimator)
    if spec.hash_columns:
        raw = runtime.current_settings().hash_key
        if not raw:
            raise ConfigError(
                f"the unpickled lifecycle.monitor({spec.name!r}) hashes columns "
                f"{sorted(spec.hash_columns)} and needs its secret key, which is never "
                "pickled: set LIFECYCLE_HASH_KEY or hash_key in lifecycle.toml before loading")
        spec = dataclasses.replace(
            spec, hash_key=raw.encode("utf-8") if isinstance(raw, str) else bytes(raw))
    runtime.note_monitored(spec.name)
    return MonitoredEstimator(estimator, spec)


#: Methods whose result is the estimator itself (``fit`` ...) return the wrapper instead,
#: so ``monitor("m")(LogisticRegression()).fit(X, y)`` stays monitored; these also forget
#: the feature names and classes cached from the estimator.
_REFIT = frozenset({"fit", "partial_fit"})


class MonitoredEstimator:
    """An estimator whose ``predict`` / ``predict_proba`` / ``decision_function`` are logged.

    Every other attribute is the estimator's own (read and written through): ``classes_``,
    ``n_features_in_``, ``feature_names_in_``, ``get_params``, ``set_params``... The
    estimator itself is ``wrapper.__wrapped__``. scikit-learn conventions (see
    docs/capture.md): ``check_is_fitted`` sees the estimator's fitted state; ``clone`` and
    ``copy.deepcopy`` return a monitored copy (same model name and options); a method that
    returns the estimator (``fit``, ``set_params``) returns the wrapper; pickling keeps the
    monitoring but never the hash key.
    """

    def __init__(self, estimator: Any, spec: CaptureSpec) -> None:
        object.__setattr__(self, "__wrapped__", estimator)
        object.__setattr__(self, "_lc_spec", spec)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_lc_") or name == "__wrapped__":
            raise AttributeError(name)
        estimator = object.__getattribute__(self, "__wrapped__")
        attr = getattr(estimator, name)
        if name in ESTIMATOR_METHODS and callable(attr):
            wrapped = wrap_callable(attr, object.__getattribute__(self, "_lc_spec"), name)
            object.__setattr__(self, name, wrapped)  # cached: later lookups are plain
            return wrapped
        if inspect.ismethod(attr) and attr.__self__ is estimator:
            return self._lc_returning_self(attr, name in _REFIT)
        return attr

    def _lc_returning_self(self, method: Callable[..., Any], refit: bool) -> Callable[..., Any]:
        estimator = object.__getattribute__(self, "__wrapped__")
        spec = object.__getattribute__(self, "_lc_spec")

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            out = method(*args, **kwargs)
            if refit:
                spec._cache.clear()  # names / classes are read again from the new fit
                spec.importances = read_importances(estimator, spec.feature_names)
            return self if out is estimator else out

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "__wrapped__"), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "__wrapped__"), name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(object.__getattribute__(self, "__wrapped__"))) | {"__wrapped__"})

    # ------------------------------------------------------------ scikit-learn protocol

    def __sklearn_is_fitted__(self) -> bool:
        """The estimator's own answer, else scikit-learn's rule (an attribute ending in
        ``_`` set by ``fit``), applied to the estimator rather than to this wrapper."""
        estimator = object.__getattribute__(self, "__wrapped__")
        probe = getattr(estimator, "__sklearn_is_fitted__", None)
        if callable(probe):
            return bool(probe())
        try:
            names = vars(estimator)
        except TypeError:  # no __dict__: nothing says it is unfitted
            return True
        return any(n.endswith("_") and not n.startswith("__") for n in names)

    def __sklearn_clone__(self) -> MonitoredEstimator:
        """``sklearn.base.clone``: an unfitted clone of the estimator, monitored under the
        same model name and options (a clone silently unmonitored would log nothing)."""
        from sklearn.base import clone

        copy = clone(object.__getattribute__(self, "__wrapped__"))
        spec = respec(object.__getattribute__(self, "_lc_spec"), copy)
        spec.importances = None  # unfitted: read again after its fit
        return MonitoredEstimator(copy, spec)

    def __copy__(self) -> MonitoredEstimator:
        return MonitoredEstimator(object.__getattribute__(self, "__wrapped__"),
                                  object.__getattribute__(self, "_lc_spec"))

    def __deepcopy__(self, memo: dict[int, Any]) -> MonitoredEstimator:
        import copy

        inner = copy.deepcopy(object.__getattribute__(self, "__wrapped__"), memo)
        return MonitoredEstimator(inner, respec(object.__getattribute__(self, "_lc_spec"),
                                                inner))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the estimator and the monitor's options, never the hash key (read from
        the settings when loaded) nor caches; the clock must be picklable itself."""
        estimator = object.__getattribute__(self, "__wrapped__")
        spec = respec(object.__getattribute__(self, "_lc_spec"), None, keep_key=False)
        return (_restore, (estimator, spec))

    def __repr__(self) -> str:
        spec = object.__getattribute__(self, "_lc_spec")
        return f"lifecycle.monitor({spec.name!r})({self.__wrapped__!r})"

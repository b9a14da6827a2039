"""One loaded model version, ready to serve or to shadow: an immutable value.

A :class:`State` holds the champion's :class:`Slot` and the challenger's (or None). A reload
builds a new State beside the old one and installs it with one reference assignment, so a
request reads either the old pair or the new one, never a half-loaded model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lifecycle.capture.monitor import capture_spec, wrap_target
from lifecycle.capture.records import OWN_REQUESTS, CaptureSpec
from lifecycle.capture.shadow import shadow_spec
from lifecycle.registry.base import Registry, VersionInfo
from lifecycle.states import CHAMPION

PREDICT = "predict"
PREDICT_PROBA = "predict_proba"


@dataclass(frozen=True)
class Slot:
    """A version as served (champion: monitored methods) or shadowed (challenger: the
    model's own methods, logged by the shadow thread).

    ``predict_proba`` is None when the model has none (e.g. a regressor, a pyfunc model).
    """

    alias: str
    version: str
    model: Any
    spec: CaptureSpec
    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None

    def method(self, name: str) -> Callable[[Any], Any] | None:
        return self.predict if name == PREDICT else self.predict_proba


@dataclass(frozen=True)
class State:
    """What serves now: the champion and the challenger scored in shadow (None: no shadow)."""

    champion: Slot
    challenger: Slot | None


def has_method(model: Any, name: str) -> bool:
    """``model.name`` exists and is callable (scikit-learn's ``available_if`` methods raise
    AttributeError when unavailable, e.g. ``SVC(probability=False).predict_proba``)."""
    try:
        return callable(getattr(model, name, None))
    except Exception:  # noqa: BLE001 - a property that raises means "not available"
        return False


class ColumnPicker:
    """``model`` given only the columns it was fitted on.

    A served DataFrame often carries more than the model's features: the ``id_column`` that
    joins late labels, identifiers, timestamps. Capture logs the whole frame (the join key is
    read from it); the model, when it knows its columns (scikit-learn's ``feature_names_in_``),
    is given exactly those, in its order. A frame that already matches is passed as is (one
    comparison of the column names); arrays, and models without ``feature_names_in_``
    (pyfunc models enforce their own signature), are passed as they are. Every other
    attribute is the model's.
    """

    def __init__(self, model: Any, names: list[str]) -> None:
        self._model = model
        self._names = names

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def _pick(self, frame: Any) -> Any:
        if isinstance(frame, pd.DataFrame) and list(frame.columns) != self._names:
            present = [c for c in self._names if c in frame.columns]
            if len(present) == len(self._names):
                return frame[self._names]
        return frame  # a missing column: the model's own error names it

    def predict(self, frame: Any) -> Any:
        return self._model.predict(self._pick(frame))

    def predict_proba(self, frame: Any) -> Any:
        return self._model.predict_proba(self._pick(frame))


def picking(model: Any) -> Any:
    """``model`` behind a :class:`ColumnPicker` when it knows its columns, else itself."""
    names = getattr(model, "feature_names_in_", None)
    return model if names is None else ColumnPicker(model, [str(n) for n in names])


def make_slot(alias: str, info: VersionInfo, model: Any,
              options: dict[str, Any]) -> Slot:
    """A slot for ``model`` (version ``info``) under ``alias``; ``options`` are the capture
    options (``id_column``, ``redact``, ``database_url``...)."""
    if alias == CHAMPION:
        spec = capture_spec(info.name, version=info.version, role=CHAMPION,
                            requests=OWN_REQUESTS, **options)
        served = wrap_target(spec, picking(model))
        proba = served.predict_proba if has_method(model, PREDICT_PROBA) else None
        return Slot(alias, info.version, model, spec, served.predict, proba)
    spec = shadow_spec(info.name, version=info.version, **options)
    spec.estimator = model  # feature names and classes are read from it, like a champion's
    picked = picking(model)
    proba = picked.predict_proba if has_method(model, PREDICT_PROBA) else None
    return Slot(alias, info.version, model, spec, picked.predict, proba)


def load_slot(registry: Registry, alias: str, info: VersionInfo, options: dict[str, Any],
              reuse: dict[str, Any]) -> Slot:
    """Load version ``info`` (by version, never by alias: the alias may move meanwhile) and
    make its slot; a model already loaded under another alias (``reuse``: version -> model,
    e.g. the challenger just promoted) is not loaded again."""
    model = reuse.get(info.version)
    if model is None:
        model = registry.load_model(info.uri)
    if not has_method(model, PREDICT):
        raise TypeError(f"models:/{info.name}/{info.version} loaded as "
                        f"{type(model).__name__}, which has no predict method")
    return make_slot(alias, info, model, options)

"""One loaded model version, ready to serve or to shadow: an immutable value.

A :class:`State` holds the champion's :class:`Slot` and the challenger's (or None). A reload
builds a new State beside the old one and installs it with one reference assignment, so a
request reads either the old pair or the new one, never a half-loaded model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


def make_slot(alias: str, info: VersionInfo, model: Any,
              options: dict[str, Any]) -> Slot:
    """A slot for ``model`` (version ``info``) under ``alias``; ``options`` are the capture
    options (``id_column``, ``redact``, ``database_url``...)."""
    if alias == CHAMPION:
        spec = capture_spec(info.name, version=info.version, role=CHAMPION,
                            requests=OWN_REQUESTS, **options)
        served = wrap_target(spec, model)
        proba = served.predict_proba if has_method(model, PREDICT_PROBA) else None
        return Slot(alias, info.version, model, spec, served.predict, proba)
    spec = shadow_spec(info.name, version=info.version, **options)
    spec.estimator = model  # feature names and classes are read from it, like a champion's
    proba = model.predict_proba if has_method(model, PREDICT_PROBA) else None
    return Slot(alias, info.version, model, spec, model.predict, proba)


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

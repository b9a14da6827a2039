"""lifecycle: drift monitoring and model lifecycle for models already in production.

Public names are resolved lazily (PEP 562) so that ``import lifecycle`` is cheap, connects to
nothing and pulls in no I/O library: the pure core (``lifecycle.drift`` ...) stays importable
without SQLAlchemy, MLflow, APScheduler, Streamlit or pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute"
_LAZY: dict[str, str] = {
    "monitor": "lifecycle.capture.monitor:monitor",
    "flush": "lifecycle.capture.monitor:flush",
    "stats": "lifecycle.capture.monitor:stats",
    "log_outcomes": "lifecycle.capture.monitor:log_outcomes",
    "configure": "lifecycle.capture.monitor:configure",
    "capture_context": "lifecycle.capture.monitor:capture_context",
    "last_prediction_ids": "lifecycle.capture.monitor:last_prediction_ids",
    "log_shadow": "lifecycle.capture.shadow:log_shadow",
    "ManagedModel": "lifecycle.serving.managed:ManagedModel",
    "check_drift": "lifecycle.drift_check:check_drift",
    "Settings": "lifecycle.config:Settings",
    "load_settings": "lifecycle.config:load_settings",
    "run_window": "lifecycle.jobs.runner:run_window",
    "retrain": "lifecycle.jobs.retrain_api:retrain",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'lifecycle' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

"""Job kinds the scheduler knows: a plain dict from kind to the job function's import path.

Every job function has the signature ``fn(engine, settings, model, window_start, window_end)``
and is idempotent for its window (a rerun updates, never duplicates). Adding a job kind is one
line in :data:`JOBS`; users add their own in ``[scheduler.jobs]`` of ``lifecycle.toml``.
Functions are imported when the scheduler starts (a typo fails at start, naming the key), never
at import time of this module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: job kind -> "package.module:function"
JOBS: dict[str, str] = {
    "drift": "lifecycle.jobs.drift:run_drift_check",
    "performance": "lifecycle.jobs.performance:run_performance_check",
}

#: job kind -> alert evaluator (a key of ALERT_EVALUATORS) run after each successful window.
JOB_ALERTS: dict[str, str] = {
    "drift": "drift",
    "performance": "performance_and_label",
}

#: evaluator name -> "package.module:function", signature
#: ``fn(engine, settings, model, window_start, window_end, *, now) -> list[AlertChange]``.
ALERT_EVALUATORS: dict[str, str] = {
    "drift": "lifecycle.alerts.evaluate:evaluate_drift",
    "performance": "lifecycle.alerts.evaluate:evaluate_performance",
    # the performance job also writes the window's label drift report (labels arrive late)
    "performance_and_label": "lifecycle.jobs.performance:evaluate_alerts",
}


def import_path(path: str) -> Callable[..., Any]:
    """Import ``"package.module:function"``.

    Raises
    ------
    ImportError
        When the module cannot be imported or has no such attribute; the message names both.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ImportError(f"{path!r} must look like 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import module {module_name!r} for {path!r}: {exc}") from exc
    try:
        fn = getattr(module, attr)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r} ({path!r})") from None
    if not callable(fn):
        raise ImportError(f"{path!r} is not callable")
    return fn

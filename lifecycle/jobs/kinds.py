"""Job kinds the scheduler knows: a plain dict from kind to the job function's import path.

Every job function has the signature ``fn(engine, settings, model, window_start, window_end)``
and is idempotent for its window (a rerun updates, never duplicates). Adding a job kind is one
line in :data:`JOBS`; users add their own in ``[scheduler.jobs]`` of ``lifecycle.toml``.
Functions are imported when the scheduler starts (a typo fails at start, naming the key), never
at import time of this module, by :func:`lifecycle.training.imports.import_path` (the one
importer of configured functions: the working directory is importable).
"""

from __future__ import annotations

from lifecycle.training.imports import import_path

__all__ = ["ALERT_EVALUATORS", "JOBS", "JOB_ALERTS", "import_path"]

#: job kind -> "package.module:function"
JOBS: dict[str, str] = {
    "drift": "lifecycle.jobs.drift:run_drift_check",
    "performance": "lifecycle.jobs.performance:run_performance_check",
    "shadow": "lifecycle.jobs.shadow:run_shadow_evaluation",
    "shadow_score": "lifecycle.jobs.shadow_score:run_shadow_scoring",
    "rollup": "lifecycle.jobs.rollup:run_rollup",
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

"""Job: roll up the whole hours of a window into hourly profiles (``window_profiles``).

``run_rollup(engine, settings, model, window_start, window_end)`` profiles every whole UTC
hour inside the window (``lifecycle.rollup``), replacing the stored rows of those hours, so a
rerun (late batches, late labels, a new reference) never doubles anything. Scheduled per model
as ``[models.NAME.schedule.rollup] every = "1h", delay = "5m"`` (the delay lets the capture
writer flush the hour; ``catch_up`` covers downtime). It runs in the scheduler, never on the
capture writer's path. A window without a served row returns
:class:`~lifecycle.jobs.outcome.EmptyWindow` (nothing is written).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from lifecycle.config import Settings
from lifecycle.jobs.outcome import EmptyWindow
from lifecycle.rollup.run import RollupResult, hours_in, rollup_hours

__all__ = ["run_rollup"]


def run_rollup(engine: Engine, settings: Settings, model: str, window_start: datetime,
               window_end: datetime) -> RollupResult | EmptyWindow:
    """Roll up the whole hours of ``[window_start, window_end)`` (see the module docstring)."""
    hours = hours_in(window_start, window_end)
    if not hours:
        return EmptyWindow(f"the window [{window_start}, {window_end}) holds no whole hour; "
                           "schedule the rollup with a window of at least 1h")
    result = rollup_hours(engine, settings, model, hours)
    if result.empty:
        return EmptyWindow(f"the window [{window_start}, {window_end}) of model {model!r} "
                           "has no served predictions")
    return result

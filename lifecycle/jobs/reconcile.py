"""The promotion reconciler as the scheduler runs it: at start and on every request poll.

:func:`reconcile_pending` costs one indexed query when nothing is pending (the usual case);
otherwise it builds the registry (the one the process installed on its run context, else the
settings' MLflow registry) and lets :func:`lifecycle.jobs.promote.reconcile_promotions` finish
or undo every intent left pending by a process that died between two alias moves.
"""

from __future__ import annotations

import logging

from lifecycle.jobs.promote import has_pending, reconcile_promotions
from lifecycle.jobs.runner import RunContext

__all__ = ["reconcile_pending"]

logger = logging.getLogger("lifecycle.jobs")


def reconcile_pending(ctx: RunContext) -> list[int]:
    """Finish or undo stale promotion intents; the ids closed (never raises for the
    registry: an intent that cannot be repaired now stays pending for the next poll)."""
    if not has_pending(ctx.engine):
        return []
    try:
        registry = ctx.get_registry()
    except Exception as exc:  # noqa: BLE001 - retried at the next poll
        logger.error("registry unavailable while reconciling promotions: %s", exc)
        return []
    return reconcile_promotions(ctx.engine, registry, now=ctx.clock())

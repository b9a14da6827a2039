"""The retrain trigger: an alert of a configured kind calls the retrain function.

``[models.NAME.alerts] retrain_on = ["data_drift"]`` and ``[scheduler] retrain_function =
"package.module:function"`` (called as ``fn(engine, settings, model, alert_id)``). A guard row
in ``job_leases`` (``retrain_trigger``, model, ``cooldown``) lets at most one trigger through
per ``retrain_cooldown`` per model across all scheduler processes, so a drift that persists for
days starts one retrain per cooldown, not one per window. Every trigger (and its failure) is an
``audit_events`` row with actor ``scheduler``; a failing retrain function never fails the job
that evaluated the alert.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.alerts.policy import AlertChange
from lifecycle.config import Settings
from lifecycle.jobs.registry import import_path
from lifecycle.leases import acquire_cooldown
from lifecycle.storage.tables import AuditEvent, Model

logger = logging.getLogger("lifecycle.alerts")

GUARD = "retrain_trigger"


def maybe_trigger_retrain(
    engine: Engine, settings: Settings, model: str, changes: Sequence[AlertChange], *,
    now: datetime, owner: str,
) -> dict[str, Any] | None:
    """Call the retrain function for the first firing alert of a configured kind.

    Returns what happened (``{"alert_id", "status": "called"|"failed"|"cooldown"}``) or None
    when no alert qualified.
    """
    policy = settings.model(model).alerts
    function = settings.scheduler.retrain_function
    if not policy.retrain_on or function is None:
        return None
    change = next((c for c in changes if c.firing and c.kind in policy.retrain_on), None)
    if change is None:
        return None
    if not acquire_cooldown(engine, GUARD, model, owner=owner, now=now,
                            cooldown=policy.retrain_cooldown, note=f"alert {change.alert_id}"):
        logger.info("retrain for %s not triggered by alert %s: within retrain_cooldown (%s)",
                    model, change.alert_id, policy.retrain_cooldown)
        return {"alert_id": change.alert_id, "status": "cooldown"}
    outcome: dict[str, Any] = {"alert_id": change.alert_id, "function": function}
    try:
        result = import_path(function)(engine, settings, model, change.alert_id)
        outcome.update(status="called", result=repr(result)[:500])
        logger.warning("retrain of %s triggered by alert %s (%s)", model, change.alert_id,
                       change.kind)
    except Exception as exc:  # noqa: BLE001 - a failed retrain must not fail the check
        outcome.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                       traceback=traceback.format_exc()[-4000:])
        logger.error("retrain function %s failed for %s: %s", function, model, exc)
    with Session(engine) as session, session.begin():
        model_id = session.scalar(select(Model.id).where(Model.name == model))
        session.add(AuditEvent(ts=now, actor="scheduler", action="retrain.trigger",
                               model_id=model_id, target=f"alert:{change.alert_id}",
                               details=outcome))
    return outcome

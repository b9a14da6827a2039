"""The retrain trigger: an alert of a configured kind queues a retrain for a scheduler.

``[models.NAME.alerts] retrain_on = ["data_drift"]`` and ``[scheduler] retrain_function =
"package.module:function"``. The trigger never runs the retrain itself (it is called inside a
drift window's lease, and retraining takes minutes): it queues a ``retrain`` request
(:mod:`lifecycle.jobs.requests`) that a scheduler process claims under a lease and runs as
``fn(engine, settings, model, alert_id)``. A guard row in ``job_leases`` (``retrain_trigger``,
model, ``cooldown``) lets at most one trigger through per ``retrain_cooldown`` per model across
all scheduler processes, so a drift that persists for days starts one retrain per cooldown, not
one per window; and at most one retrain request per model is queued or running at a time.
Every trigger is an ``audit_events`` row (``retrain.trigger``, actor ``scheduler``); the run
writes its own (``retrain.run``) with the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.alerts.policy import AlertChange
from lifecycle.config import Settings
from lifecycle.jobs.leases import acquire_cooldown
from lifecycle.jobs.queue import RETRAIN, enqueue
from lifecycle.storage.tables import AuditEvent, ModelRow

logger = logging.getLogger("lifecycle.alerts")

GUARD = "retrain_trigger"


def maybe_trigger_retrain(
    engine: Engine, settings: Settings, model: str, changes: Sequence[AlertChange], *,
    now: datetime, owner: str,
) -> dict[str, Any] | None:
    """Queue a retrain for the first firing alert of a configured kind.

    Returns what happened (``{"alert_id", "status": "queued"|"cooldown", "request_id"}``) or
    None when no alert qualified.
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
    queued = enqueue(engine, RETRAIN, model, requested_by=owner, now=now,
                     details={"alert_id": change.alert_id, "alert_kind": change.kind})
    outcome: dict[str, Any] = {"alert_id": change.alert_id, "function": function,
                               "status": "queued", "request_id": queued.request_id,
                               "already_queued": not queued.created}
    logger.warning("retrain of %s queued as request %d by alert %s (%s)", model,
                   queued.request_id, change.alert_id, change.kind)
    with Session(engine) as session, session.begin():
        model_id = session.scalar(select(ModelRow.id).where(ModelRow.name == model))
        session.add(AuditEvent(ts=now, actor="scheduler", action="retrain.trigger",
                               model_id=model_id, target=f"alert:{change.alert_id}",
                               details=outcome))
    return outcome

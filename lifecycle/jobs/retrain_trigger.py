"""Asking for a retrain: an alert of a configured kind, or a person; never running it here.

``[models.NAME.alerts] retrain_on = ["data_drift"]`` with ``[models.NAME.retrain] trainer``
(the built-in retrain, :mod:`lifecycle.jobs.retrain`) or ``[scheduler] retrain_function``
(an override called as ``fn(engine, settings, model, alert_id)``). The trigger never runs the
retrain itself (it is called inside a drift window's lease, and retraining takes minutes): it
queues a ``retrain`` request (:mod:`lifecycle.jobs.requests`) that a scheduler process claims
under a lease. A guard row in ``job_leases`` (``retrain_trigger``, model, ``cooldown``) lets
at most one trigger through per ``retrain_cooldown`` per model across all scheduler processes,
so a drift that persists for days starts one retrain per cooldown, not one per window; and at
most one retrain request per model is queued or running at a time.

A person asks with :func:`request_retrain` (``lifecycle retrain MODEL``, ``lifecycle.retrain``,
the dashboard): the same guard and the same queue, so concurrent triggers from people and
schedulers still give one retrain per cooldown; ``force=True`` skips the cooldown (not the
queue). Every trigger is an ``audit_events`` row (``retrain.trigger`` by the scheduler,
``retrain.request`` by a person); the run writes its own (``retrain.run``) with the outcome.
"""
from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from lifecycle.alerts.policy import AlertChange
from lifecycle.config import Settings
from lifecycle.errors import ConfigError
from lifecycle.jobs.leases import acquire_cooldown
from lifecycle.jobs.queue import RETRAIN, enqueue
from lifecycle.storage.audit import write_audit
from lifecycle.training.trainer import load_trainer
from lifecycle.windows import format_duration

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
    ms = settings.model(model)
    policy = ms.alerts
    function = settings.scheduler.retrain_function or ms.retrain.trainer
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
    write_audit(engine, actor="scheduler", action="retrain.trigger", model=model,
                target=f"alert:{change.alert_id}", details=outcome, now=now)
    return outcome


@dataclass(frozen=True)
class RetrainRequest:
    """What asking for a retrain did: ``status`` is ``queued`` (``created`` False: one was
    queued or running already and stands for this one) or ``cooldown`` (refused)."""

    model: str
    status: str
    request_id: int | None
    created: bool
    message: str


def check_retrainable(settings: Settings, model: str) -> None:
    """Refuse a model that has no trainer (and no ``retrain_function`` override), naming the
    configured models when the name looks like a typo."""
    if settings.scheduler.retrain_function or settings.model(model).retrain.trainer:
        return
    close = difflib.get_close_matches(model, list(settings.models), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise ConfigError(
        f"model {model!r} has no trainer{hint}: set [models.{model}.retrain] trainer = "
        "'package.module:function' in lifecycle.toml (see docs/retraining.md)")


def request_retrain(engine: Engine, settings: Settings, model: str, *, actor: str,
                    reason: str | None, now: datetime, force: bool = False,
                    ) -> RetrainRequest:
    """Queue a retrain of ``model`` asked for by ``actor`` (audited)."""
    check_retrainable(settings, model)
    cooldown = settings.model(model).alerts.retrain_cooldown
    if not force and not acquire_cooldown(engine, GUARD, model, owner=actor[:200], now=now,
                                          cooldown=cooldown, note=f"asked by {actor}"):
        message = (f"a retrain of {model!r} started less than retrain_cooldown "
                   f"({format_duration(cooldown)}) ago; wait, or pass --force to retrain now")
        write_audit(engine, actor=actor, action="retrain.request", model=model, target=None,
                     details={"status": "cooldown", "reason": reason}, now=now)
        return RetrainRequest(model, "cooldown", None, False, message)
    queued = enqueue(engine, RETRAIN, model, requested_by=actor, now=now,
                     details={"actor": actor, "reason": reason, "force": force})
    message = (f"retrain of {model!r} queued as request {queued.request_id}" if queued.created
               else f"a retrain of {model!r} is already queued or running "
                    f"(request {queued.request_id})")
    write_audit(engine, actor=actor, action="retrain.request", model=model,
                 target=f"request:{queued.request_id}",
                 details={"status": "queued", "created": queued.created, "reason": reason,
                          "force": force}, now=now)
    return RetrainRequest(model, "queued", queued.request_id, queued.created, message)


def validate_retraining(settings: Settings, models: frozenset[str] | None = None) -> None:
    """At scheduler start: every configured trainer and data loader of ``models`` (None: all)
    imports with the right signature (:func:`lifecycle.jobs.plan.build_plan` already refused
    a ``retrain_on`` that nothing can run). Raises :class:`~lifecycle.errors.TrainerError`
    naming the key, instead of failing at 3 a.m."""
    for name, ms in settings.models.items():
        if models is not None and name not in models:
            continue
        if ms.retrain.trainer is not None and settings.scheduler.retrain_function is None:
            load_trainer(name, ms.retrain)

"""Admin actions that change what serves: promote the challenger, roll back, ask for a
retrain.

Each one passes :func:`dashboard.actions.check_admin` first (configured token compared in
constant time, throttle, confirmation, actor name; a wrong token is audited) and then calls the
same function the CLI calls, never a copy: :func:`lifecycle.jobs.promote.manual_promote`
(the gate: a reason unless the latest shadow evaluation decided PROMOTE, audited as
``model.promote.override``; then the intent row, alias moves, version tags, audit row),
:func:`~lifecycle.jobs.promote.rollback` and
:func:`lifecycle.jobs.retrain_trigger.request_retrain` (cooldown guard, queue, audit row).
The registry is made from the settings for each action (never the page's cached view: an
action acts on the registry as it is now).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from lifecycle.dashboard.actions import ActionRefused, ActionResult, check_admin
from lifecycle.errors import LifecycleError
from lifecycle.storage.types import utcnow

__all__ = ["promote_challenger", "request_retrain", "rollback_champion"]


def _registry(settings: Any, registry: Any) -> Any:
    if registry is not None:
        return registry
    from lifecycle.registry.mlflow_store import registry_for

    return registry_for(settings)


def promote_challenger(engine: Engine, settings: Any, model: str, *, expected: str | None,
                       reason: str | None, actor: str, token: str | None,
                       admin_token: str | None, confirmed: bool,
                       registry: Any = None) -> ActionResult:
    """Make the ``challenger`` of ``model`` its champion (the old one becomes ``previous``).

    ``expected`` is the challenger version the page showed: when the alias moved since, the
    action is refused (the person decided on another version's evaluation). A reason is
    required unless the latest evaluation of this challenger against the current champion
    decided PROMOTE.
    """
    from lifecycle.jobs.promote import manual_promote

    actor = check_admin(engine, admin_token, token, actor, confirmed, "model.promote",
                        f"model:{model}")
    reason = (reason or "").strip() or None
    try:
        done = manual_promote(engine, _registry(settings, registry), model, actor=actor,
                              reason=reason, expected_version=expected, source="dashboard")
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    moved, decided = done.move, not done.overridden
    how = "" if decided else " (manual override: " + str(reason) + ")"
    return ActionResult("model.promote", f"model:{model}",
                        f"{model}: champion {moved.from_version or 'none'} -> "
                        f"{moved.to_version}, promoted by {actor}{how} (promotion "
                        f"{moved.event_id})")


def rollback_champion(engine: Engine, settings: Any, model: str, *, reason: str | None,
                      actor: str, token: str | None, admin_token: str | None,
                      confirmed: bool, registry: Any = None) -> ActionResult:
    """Serve the ``previous`` champion of ``model`` again (``lifecycle rollback``)."""
    from lifecycle.jobs.promote import rollback

    actor = check_admin(engine, admin_token, token, actor, confirmed, "model.rollback",
                        f"model:{model}")
    try:
        moved = rollback(engine, _registry(settings, registry), model, actor=actor,
                         reason=(reason or "").strip() or None)
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    return ActionResult("model.rollback", f"model:{model}",
                        f"{model}: champion {moved.from_version} -> {moved.to_version}, "
                        f"rolled back by {actor} (event {moved.event_id})")


def request_retrain(engine: Engine, settings: Any, model: str, *, reason: str | None,
                    force: bool, actor: str, token: str | None, admin_token: str | None,
                    confirmed: bool) -> ActionResult:
    """Queue a retrain of ``model`` for a scheduler process (``lifecycle retrain``): the
    cooldown shared with alerts applies unless ``force``; asking while one is queued or
    running queues nothing new."""
    from lifecycle.jobs.retrain_trigger import request_retrain as queue_retrain

    actor = check_admin(engine, admin_token, token, actor, confirmed, "retrain.request",
                        f"model:{model}")
    try:
        asked = queue_retrain(engine, settings, model, actor=actor,
                              reason=(reason or "").strip() or None, now=utcnow(),
                              force=force)
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    if asked.status != "queued":
        raise ActionRefused(asked.message)
    return ActionResult("retrain.request", f"model:{model}",
                        f"{asked.message} (asked by {actor}); a scheduler process runs it "
                        "(`lifecycle runs " + model + "` shows the outcome)")

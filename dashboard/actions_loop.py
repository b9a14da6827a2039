"""Admin actions that change what serves: promote the challenger, roll back, ask for a
retrain.

Each one passes :func:`dashboard.actions.check_admin` first (configured token compared in
constant time, throttle, confirmation, actor name; a wrong token is audited) and then calls the
same function the CLI calls, never a copy: :func:`lifecycle.jobs.promote.promote` and
:func:`~lifecycle.jobs.promote.rollback` (intent row, alias moves, version tags, audit row) and
:func:`lifecycle.jobs.retrain_trigger.request_retrain` (cooldown guard, queue, audit row). A
promotion against a latest shadow evaluation that did not decide PROMOTE needs a reason and is
audited as ``model.promote.override`` besides ``model.promote``, as ``lifecycle promote``
does. The registry is made from the settings for each action (never the page's cached view:
an action acts on the registry as it is now).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.dashboard.actions import ActionRefused, ActionResult, check_admin
from lifecycle.errors import LifecycleError
from lifecycle.states import CHALLENGER, CHAMPION, PROMOTE
from lifecycle.storage.audit import write_audit
from lifecycle.storage.tables import ModelRow, ShadowEvaluation
from lifecycle.storage.types import utcnow

__all__ = ["latest_evaluation", "promote_challenger", "request_retrain", "rollback_champion"]

#: The evaluation numbers a promotion keeps in its intent row and as version tags.
NUMBERS = ("n_paired", "metric_delta", "ci_low", "ci_high", "p_value", "test")


def _registry(settings: Any, registry: Any) -> Any:
    if registry is not None:
        return registry
    from lifecycle.registry.mlflow_store import registry_for

    return registry_for(settings)


def latest_evaluation(engine: Engine, model: str, champion: str,
                      challenger: str) -> ShadowEvaluation | None:
    """The latest shadow evaluation of ``challenger`` against ``champion`` (what the gate
    said about exactly this pair), or None."""
    with Session(engine) as session:
        row = session.scalars(
            select(ShadowEvaluation).join(ModelRow, ModelRow.id == ShadowEvaluation.model_id)
            .where(ModelRow.name == model, ShadowEvaluation.champion_version == champion,
                   ShadowEvaluation.challenger_version == challenger)
            .order_by(ShadowEvaluation.created_at.desc(), ShadowEvaluation.id.desc())
            .limit(1)).first()
        if row is not None:
            session.expunge(row)
        return row


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
    from lifecycle.jobs.promote import promote

    actor = check_admin(engine, admin_token, token, actor, confirmed, "model.promote",
                        f"model:{model}")
    reason = (reason or "").strip() or None
    try:
        reg = _registry(settings, registry)
        challenger = reg.by_alias(model, CHALLENGER)
        champion = reg.by_alias(model, CHAMPION)
        if challenger is None:
            raise ActionRefused(f"{model!r} has no challenger to promote (refresh the page)")
        if expected is not None and challenger.version != str(expected):
            raise ActionRefused(
                f"the challenger of {model!r} is now version {challenger.version}, not "
                f"{expected} as shown; review its evaluation and try again")
        latest = (None if champion is None else
                  latest_evaluation(engine, model, champion.version, challenger.version))
        decided = latest is not None and latest.decision == PROMOTE
        if not decided and not reason:
            what = ("no shadow evaluation" if latest is None else
                    f"the latest shadow evaluation (#{latest.id}) decided "
                    f"{latest.decision.upper()}")
            raise ActionRefused(f"{what} for version {challenger.version} against the "
                                "current champion: a manual promotion needs a reason "
                                "(audited)")
        numbers = ({k: getattr(latest, k) for k in NUMBERS}
                   if decided and latest is not None else None)
        moved = promote(engine, reg, model, actor=actor, version=challenger.version,
                        reason=reason, evaluation_id=latest.id if decided and latest else None,
                        numbers=numbers,
                        expected_champion=None if champion is None else champion.version)
    except ActionRefused:
        raise
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    if not decided:
        write_audit(engine, actor=actor, action="model.promote.override", model=model,
                    target=f"version:{moved.to_version}",
                    details={"source": "dashboard", "reason": reason,
                             "event_id": moved.event_id,
                             "latest_evaluation_id": latest.id if latest else None,
                             "latest_decision": latest.decision if latest else None},
                    now=utcnow())
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

"""Promotion and rollback: moving the ``champion`` alias, crash-safe, audited.

Moving aliases is several registry writes, not one; a process can die between any two. So a
move is written first as an **intent** (a ``promotion_events`` row, ``pending``, naming the
version that serves now and the one that will), then done step by step, then marked ``done``.
Every step is idempotent given the intent, so :func:`reconcile_promotions` finishes any intent
left ``pending`` by running the same steps again:

promote ``from -> to``
    1. ``previous`` -> ``from`` (when there was a champion);
    2. ``champion`` -> ``to``;
    3. drop ``challenger`` when it points at ``to``;
    4. version tags: ``to`` gets ``lifecycle.status = champion`` and ``lifecycle.promoted_at``
       (plus the evaluation's numbers), ``from`` gets ``lifecycle.status = previous``.

rollback ``from -> to`` (``to`` = the ``previous`` alias)
    1. ``champion`` -> ``to``;  2. ``previous`` -> ``from`` (so rolling back twice returns);
    3. tags: ``from`` ``lifecycle.status = rolled_back``, ``to`` ``champion``.

The reconciler **finishes** an intent whose target version still exists (every step again,
with the tags the intent recorded), and **undoes** one whose target version is gone (deleted
meanwhile): ``champion`` goes back to the intent's ``from`` version, so a model is never left
without a champion. A new move of a model refuses to start while a recent intent of that model
is pending (another process is moving it); a stale one is finished first.

reject ``K`` (the shadow evaluation's REJECT)
    1. tag ``K`` ``lifecycle.status = rejected`` (+ reason, evaluation);  2. drop
    ``challenger`` when it still points at ``K``;  3. audit ``model.reject``. One alias
    write, so no intent: a crash between 1 and 2 leaves a tagged challenger that the next
    evaluation rejects again.

A running :class:`~lifecycle.serving.ManagedModel` polls the aliases and swaps models without
a restart. The intent row is also the history the dashboard shows, and each move writes an
``audit_events`` row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, exists, select, update
from sqlalchemy.orm import Session

from lifecycle.errors import PromotionRefusedError, RegistryError
from lifecycle.registry.base import PREVIOUS, TAG_PREFIX, Registry
from lifecycle.states import (
    CHALLENGER,
    CHAMPION,
    DONE,
    FAILED,
    PENDING,
    PROMOTE,
    REJECTED,
    ROLLED_BACK,
)
from lifecycle.storage.audit import write_audit
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.shadow_repo import evaluations
from lifecycle.storage.tables import ModelRow, PromotionEvent
from lifecycle.storage.types import utcnow

logger = logging.getLogger("lifecycle.promote")

PROMOTE_ACTION = "promote"
ROLLBACK_ACTION = "rollback"
REJECT_ACTION = "reject"
#: ``lifecycle.<past>_by`` / ``lifecycle.<past>_reason`` tags of each action.
_PAST = {PROMOTE_ACTION: "promoted", ROLLBACK_ACTION: "rolled_back", REJECT_ACTION: "rejected"}
#: An intent older than this with no progress is finished by the reconciler.
STALE_AFTER = timedelta(minutes=2)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AliasMove:
    """A promotion or rollback as recorded (``status``: pending, done or failed)."""

    event_id: int
    model: str
    action: str
    from_version: str | None
    to_version: str
    status: str
    actor: str
    evaluation_id: int | None = None
    details: dict[str, Any] | None = None


def _intent(engine: Engine, model: str, action: str, from_version: str | None,
            to_version: str, actor: str, evaluation_id: int | None,
            details: dict[str, Any], now: datetime) -> int:
    with Session(engine) as session, session.begin():
        row = get_or_create_model(session, model)
        event = PromotionEvent(model_id=row.id, action=action, from_version=from_version,
                               to_version=to_version, status=PENDING,
                               evaluation_id=evaluation_id, actor=actor[:200], created_at=now,
                               details=details)
        session.add(event)
        session.flush()
        return int(event.id)


def _steps(registry: Registry, model: str, action: str, from_version: str | None,
           to_version: str, tags: dict[str, str], now: datetime) -> None:
    stamp = {f"{TAG_PREFIX}status": CHAMPION, f"{TAG_PREFIX}promoted_at": now.isoformat()}
    if action == PROMOTE_ACTION:
        if from_version is not None and from_version != to_version:
            registry.set_alias(model, PREVIOUS, from_version)
        registry.set_alias(model, CHAMPION, to_version)
        challenger = registry.by_alias(model, CHALLENGER)
        if challenger is not None and challenger.version == to_version:
            registry.delete_alias(model, CHALLENGER)
        registry.set_version_tags(model, to_version, {**stamp, **tags})
        if from_version is not None and from_version != to_version:
            registry.set_version_tags(model, from_version, {f"{TAG_PREFIX}status": PREVIOUS})
    else:
        registry.set_alias(model, CHAMPION, to_version)
        if from_version is not None:
            registry.set_alias(model, PREVIOUS, from_version)
            registry.set_version_tags(model, from_version,
                                      {f"{TAG_PREFIX}status": ROLLED_BACK,
                                       f"{TAG_PREFIX}rolled_back_at": now.isoformat()})
        registry.set_version_tags(model, to_version, {**stamp, **tags})


def _close(engine: Engine, event_id: int, status: str, now: datetime,
           error: str | None = None) -> None:
    with engine.begin() as conn:
        values: dict[str, Any] = {"status": status, "completed_at": now}
        if error is not None:
            row = conn.execute(select(PromotionEvent.details)
                               .where(PromotionEvent.id == event_id)).scalar()
            values["details"] = {**(row or {}), "error": error[:2000]}
        conn.execute(update(PromotionEvent).where(PromotionEvent.id == event_id,
                                                  PromotionEvent.status == PENDING)
                     .values(**values))


def _tags(action: str, actor: str, reason: str | None, evaluation_id: int | None,
          numbers: dict[str, Any] | None) -> dict[str, str]:
    past = _PAST[action]
    tags = {f"{TAG_PREFIX}{past}_by": actor[:200]}
    if reason:
        tags[f"{TAG_PREFIX}{past}_reason"] = reason[:500]
    if evaluation_id is not None:
        tags[f"{TAG_PREFIX}evaluation_id"] = str(evaluation_id)
    for key, value in (numbers or {}).items():
        tags[f"{TAG_PREFIX}shadow.{key}"] = str(value)[:250]
    return tags


def _pending(engine: Engine, model: str) -> list[tuple[int, datetime]]:
    with Session(engine) as session:
        return [(int(i), t) for i, t in session.execute(
            select(PromotionEvent.id, PromotionEvent.created_at)
            .join(ModelRow, ModelRow.id == PromotionEvent.model_id)
            .where(ModelRow.name == model, PromotionEvent.status == PENDING)).all()]


def move(engine: Engine, registry: Registry, model: str, *, action: str, to_version: str,
         actor: str, reason: str | None = None, evaluation_id: int | None = None,
         numbers: dict[str, Any] | None = None, expected_champion: str | None = None,
         clock: Clock = utcnow) -> AliasMove:
    """Write the intent, move the aliases, close it; audited. A failure part-way leaves the
    intent ``pending`` for :func:`reconcile_promotions` and re-raises.

    ``expected_champion``: refuse unless the champion is still that version (the shadow job
    promotes a challenger only over the champion it was compared with).
    """
    now = clock()
    if _pending(engine, model):
        reconcile_promotions(engine, registry, now=now, model=model)
        still = _pending(engine, model)
        if still:
            raise RegistryError(
                f"another promotion or rollback of {model!r} is in progress (intent "
                f"{still[0][0]} since {still[0][1].isoformat()}); retry in a few minutes - an "
                f"intent pending for {STALE_AFTER} is finished by the reconciler first")
    champion = registry.by_alias(model, CHAMPION)
    from_version = None if champion is None else champion.version
    if from_version == to_version:
        raise RegistryError(f"version {to_version} of {model!r} is already the champion")
    if expected_champion is not None and from_version != expected_champion:
        raise RegistryError(
            f"the champion of {model!r} is now {from_version}, not {expected_champion} as "
            f"when version {to_version} was evaluated; evaluate it again "
            f"(`lifecycle shadow evaluate {model}`)")
    tags = _tags(action, actor, reason, evaluation_id, numbers)
    details = {"reason": reason, "numbers": numbers or {}, "tags": tags}
    event_id = _intent(engine, model, action, from_version, to_version, actor, evaluation_id,
                       details, now)
    _steps(registry, model, action, from_version, to_version, tags, now)
    _close(engine, event_id, DONE, clock())
    write_audit(engine, actor=actor, action=f"model.{action}", model=model,
                 target=f"version:{to_version}",
                 details={"from_version": from_version, "to_version": to_version,
                          "reason": reason, "evaluation_id": evaluation_id,
                          "event_id": event_id}, now=clock())
    logger.warning("%s of %s: champion %s -> %s by %s", action, model, from_version,
                   to_version, actor)
    return AliasMove(event_id, model, action, from_version, to_version, DONE, actor,
                     evaluation_id, details)


def promote(engine: Engine, registry: Registry, model: str, *, actor: str,
            version: str | None = None, reason: str | None = None,
            evaluation_id: int | None = None, numbers: dict[str, Any] | None = None,
            expected_champion: str | None = None, clock: Clock = utcnow) -> AliasMove:
    """Make ``version`` (default: the ``challenger``) the champion; the old one becomes
    ``previous``. The gate (the shadow evaluation's decision) is the caller's: the shadow
    job promotes on PROMOTE, a person needs a reason otherwise (``lifecycle promote``)."""
    if version is None:
        challenger = registry.by_alias(model, CHALLENGER)
        if challenger is None:
            raise RegistryError(f"{model!r} has no challenger to promote; retrain it "
                                f"(`lifecycle retrain {model}`) or name a --version")
        version = challenger.version
    elif registry.version(model, version) is None:
        raise RegistryError(f"{model!r} has no version {version!r}; see `lifecycle runs "
                            f"{model}` or the MLflow UI for its versions")
    return move(engine, registry, model, action=PROMOTE_ACTION, to_version=version,
                actor=actor, reason=reason, evaluation_id=evaluation_id, numbers=numbers,
                expected_champion=expected_champion, clock=clock)


def decision_numbers(record: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a shadow decision, written as ``lifecycle.shadow.*`` tags."""
    keys = ("metric", "n_pairs", "test", "statistic", "p_value", "nominal_alpha", "look",
            "champion_value", "challenger_value", "delta", "ci_low", "ci_high")
    return {k: record[k] for k in keys if record.get(k) is not None}


@dataclass(frozen=True)
class ManualPromotion:
    """A person's promotion: the move, and whether the shadow evaluation had decided it
    (``overridden``: it had not, and the person's reason stands in for it)."""

    move: AliasMove
    overridden: bool
    evaluation_id: int | None


def manual_promote(engine: Engine, registry: Registry, model: str, *, actor: str,
                   version: str | None = None, reason: str | None = None,
                   expected_version: str | None = None, source: str = "cli",
                   clock: Clock = utcnow) -> ManualPromotion:
    """The gate a person's promotion passes (``lifecycle promote``, the dashboard): the latest
    shadow evaluation of that version against the current champion decided PROMOTE, or the
    person gives a ``reason`` (a manual override, audited as ``model.promote.override``
    besides ``model.promote``).

    ``version`` defaults to the challenger; ``expected_version`` (the version a page showed)
    refuses when the challenger moved since. Raises
    :class:`~lifecycle.errors.PromotionRefusedError` or
    :class:`~lifecycle.errors.RegistryError` naming the fix.
    """
    reason = (reason or "").strip() or None
    target = (registry.by_alias(model, CHALLENGER) if version is None
              else registry.version(model, version))
    if target is None:
        raise RegistryError(
            f"{model!r} has no challenger to promote; retrain it (`lifecycle retrain {model}`)"
            if version is None else f"{model!r} has no version {version!r}; see `lifecycle "
            f"runs {model}` or the MLflow UI for its versions")
    if expected_version is not None and target.version != str(expected_version):
        raise PromotionRefusedError(
            f"the challenger of {model!r} is now version {target.version}, not "
            f"{expected_version} as shown; review its evaluation and try again")
    champion = registry.by_alias(model, CHAMPION)
    found = ([] if champion is None else
             evaluations(engine, model, champion_version=champion.version,
                         challenger_version=target.version, limit=1))
    latest = found[-1] if found else None
    decided = latest is not None and latest.decision == PROMOTE
    if not decided and not reason:
        what = ("no shadow evaluation" if latest is None
                else f"the latest shadow evaluation ({latest.id}) decided "
                     f"{latest.decision.upper()}")
        raise PromotionRefusedError(
            f"{what} for version {target.version} against the current champion; a manual "
            f"promotion needs a reason (--reason '...', or the dashboard's Reason field; "
            f"audited), or wait for `lifecycle shadow evaluate {model}` to decide PROMOTE")
    moved = move(engine, registry, model, action=PROMOTE_ACTION, to_version=target.version,
                 actor=actor, reason=reason,
                 evaluation_id=latest.id if decided and latest else None,
                 numbers=decision_numbers(latest.record) if decided and latest else None,
                 expected_champion=None if champion is None else champion.version,
                 clock=clock)
    if not decided:
        write_audit(engine, actor=actor, action="model.promote.override", model=model,
                    target=f"version:{moved.to_version}",
                    details={"source": source, "reason": reason, "event_id": moved.event_id,
                             "latest_evaluation_id": latest.id if latest else None,
                             "latest_decision": latest.decision if latest else None},
                    now=clock())
    return ManualPromotion(moved, not decided, latest.id if decided and latest else None)


def rollback(engine: Engine, registry: Registry, model: str, *, actor: str,
             reason: str | None = None, clock: Clock = utcnow) -> AliasMove:
    """Serve the ``previous`` champion again (one command: ``lifecycle rollback MODEL``)."""
    previous = registry.by_alias(model, PREVIOUS)
    if previous is None:
        raise RegistryError(f"{model!r} has no previous champion to roll back to (alias "
                            f"{PREVIOUS!r} is not set: nothing was promoted yet)")
    return move(engine, registry, model, action=ROLLBACK_ACTION, to_version=previous.version,
                actor=actor, reason=reason, clock=clock)


def reject(engine: Engine, registry: Registry, model: str, version: str, *, actor: str,
           reason: str | None = None, evaluation_id: int | None = None,
           clock: Clock = utcnow) -> bool:
    """Tag ``version`` rejected, drop ``challenger`` when it still points at it, audit
    ``model.reject``. True when the alias was removed (False: it had moved on already)."""
    now = clock()
    tags = {f"{TAG_PREFIX}status": REJECTED, f"{TAG_PREFIX}rejected_at": now.isoformat(),
            **_tags(REJECT_ACTION, actor, reason, evaluation_id, None)}
    registry.set_version_tags(model, version, tags)
    challenger = registry.by_alias(model, CHALLENGER)
    removed = challenger is not None and challenger.version == version
    if removed:
        registry.delete_alias(model, CHALLENGER)
    write_audit(engine, actor=actor, action=f"model.{REJECT_ACTION}", model=model,
                target=f"version:{version}",
                details={"version": version, "reason": reason, "evaluation_id": evaluation_id,
                         "alias_removed": removed}, now=clock())
    logger.warning("challenger %s of %s rejected by %s: %s", version, model, actor, reason)
    return removed


def has_pending(engine: Engine) -> bool:
    """Whether any intent is pending (one indexed query; the reconciler's cheap check)."""
    with Session(engine) as session:
        return bool(session.scalar(select(exists().where(PromotionEvent.status == PENDING))))


def _undo(registry: Registry, model: str, from_version: str | None) -> str:
    """Put ``champion`` back on ``from_version``: the target of the intent is gone."""
    if from_version is None or registry.version(model, from_version) is None:
        return "the old champion is gone too; the champion alias is left as it is"
    registry.set_alias(model, CHAMPION, from_version)
    return f"champion restored to version {from_version}"


def reconcile_promotions(engine: Engine, registry: Registry, *, now: datetime,
                         stale_after: timedelta = STALE_AFTER,
                         model: str | None = None) -> list[int]:
    """Finish every intent left ``pending`` for longer than ``stale_after`` by running its
    steps again (each is idempotent), or undo it when its target version no longer exists
    (``champion`` back on the old version; closed ``failed``). An intent whose registry calls
    fail stays pending for the next run. Returns the ids closed."""
    cond = [PromotionEvent.status == PENDING, PromotionEvent.created_at <= now - stale_after]
    if model is not None:
        cond.append(ModelRow.name == model)
    with Session(engine) as session:
        stale = session.execute(
            select(PromotionEvent, ModelRow.name)
            .join(ModelRow, ModelRow.id == PromotionEvent.model_id)
            .where(*cond).order_by(PromotionEvent.id)).all()
        pending = [(e.id, name, e.action, e.from_version, e.to_version, e.actor,
                    dict(e.details or {})) for e, name in stale]
    closed = []
    for event_id, name, action, from_version, to_version, actor, details in pending:
        try:
            if registry.version(name, to_version) is None:
                undone = _undo(registry, name, from_version)
                _close(engine, event_id, FAILED, now,
                       error=f"version {to_version} is gone; {undone}")
                outcome = "undone"
            else:
                tags = dict(details.get("tags") or _tags(action, actor, None, None, None))
                tags[f"{TAG_PREFIX}reconciled"] = "true"
                _steps(registry, name, action, from_version, to_version, tags, now)
                _close(engine, event_id, DONE, now)
                outcome = "finished"
        except Exception as exc:  # noqa: BLE001 - the next run tries again
            logger.error("could not reconcile %s intent %d of %s: %s", action, event_id, name,
                         exc)
            continue
        write_audit(engine, actor="reconciler", action=f"model.{action}.reconciled",
                    model=name, target=f"version:{to_version}",
                    details={"event_id": event_id, "outcome": outcome,
                             "from_version": from_version}, now=now)
        closed.append(event_id)
        logger.warning("%s intent %d of %s %s by the reconciler", action, event_id, name,
                       outcome)
    return closed


__all__ = ["PROMOTE_ACTION", "REJECT_ACTION", "ROLLBACK_ACTION", "AliasMove", "ManualPromotion",
           "decision_numbers", "has_pending", "manual_promote", "move", "promote",
           "reconcile_promotions", "reject", "rollback"]

"""Job: the shadow evaluation of a model's challenger, and what follows from its decision.

``run_shadow_evaluation(engine, settings, model, window_start, window_end)`` (job kind
``shadow``, ``[models.NAME.schedule.shadow] every = "1h"``):

1. reads the aliases: no ``challenger`` (or no ``champion``) is a normal empty outcome;
2. if an earlier evaluation of this champion/challenger pair already decided PROMOTE or
   REJECT, that decision stands (a group-sequential design stops at the boundary it crossed,
   so a decision never flips back); only its action is retried when it did not happen;
3. pairs every request both versions answered since the challenger was registered (the
   evaluation accumulates) up to ``window_end``, labelled with the outcomes known now
   (:func:`lifecycle.storage.paired.load_paired`);
4. runs the gate (:func:`lifecycle.evaluation.evaluate_shadow`) with the model's
   ``[models.NAME.shadow]`` policy, the serving counters of the shadow period (latency p95s
   from timing both versions on the same recent requests: :mod:`.shadow_latency`), the earlier
   looks of this pair, whether the latest performance report says the champion is
   ``degraded``, and the time since the challenger was registered;
5. stores a ``shadow_evaluations`` row with every number;
6. acts: PROMOTE with ``[models.NAME.promotion] auto`` (default true) moves ``champion``
   (:func:`lifecycle.jobs.promote.promote`: intent row, idempotent steps, audit); REJECT
   with ``reject`` (default true) drops the ``challenger`` alias and tags the version
   ``lifecycle.status = rejected`` (:func:`lifecycle.jobs.promote.reject`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.config import TASKS, Settings
from lifecycle.errors import DataError
from lifecycle.evaluation import evaluate_shadow
from lifecycle.evaluation.policy import ShadowPolicy
from lifecycle.jobs.outcome import EmptyWindow
from lifecycle.jobs.promote import decision_numbers, promote, reject
from lifecycle.jobs.shadow_latency import probe_latency
from lifecycle.registry.base import Registry, VersionInfo
from lifecycle.registry.mlflow_store import registry_for
from lifecycle.states import CHALLENGER, CHAMPION, DEGRADED, PROMOTE, REJECT
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.paired import PairedWindow, load_paired
from lifecycle.storage.shadow_repo import EvaluationRow, evaluation, evaluations, save_evaluation
from lifecycle.storage.tables import PerformanceReport
from lifecycle.storage.types import utcnow

__all__ = ["SHADOW_ACTOR", "ShadowRun", "decision_numbers", "policy_dict",
           "run_shadow_evaluation"]

logger = logging.getLogger("lifecycle.shadow")

#: Who acts on a scheduled decision (audit rows, version tags).
SHADOW_ACTOR = "scheduler:shadow"
#: When the challenger answered nothing, serving counters start this long after its
#: registration (ManagedModel polls the aliases every 30 s by default; several processes).
GRACE = timedelta(minutes=10)
#: Requests of the last minute before the window's end are not counted as lost: their shadow
#: answer may still be in the queue.
SETTLE = timedelta(minutes=1)


@dataclass(frozen=True)
class ShadowRun:
    """One evaluation of a challenger and what was done about it.

    ``evaluation`` is the stored row (this run's, or the earlier terminal one when
    ``decided_earlier``); ``action`` is ``"promoted"``, ``"rejected"``, ``"none"`` (CONTINUE,
    or the policy does not act, or ``act=False``) or ``"failed: ..."``.
    """

    model: str
    champion_version: str
    challenger_version: str
    evaluation: EvaluationRow
    decided_earlier: bool
    action: str
    paired: PairedWindow | None = field(default=None, repr=False, compare=False)

    @property
    def decision(self) -> str:
        return self.evaluation.decision

    def to_dict(self) -> dict[str, Any]:
        record = self.evaluation.record
        return {
            "model": self.model, "champion_version": self.champion_version,
            "challenger_version": self.challenger_version,
            "evaluation_id": self.evaluation.id, "decision": self.decision,
            "decided_earlier": self.decided_earlier, "action": self.action,
            "n_pairs": self.evaluation.n_paired, "p_value": self.evaluation.p_value,
            "nominal_alpha": record.get("nominal_alpha"), "delta": record.get("delta"),
            "reason": record.get("reason"),
        }


def _champion_degraded(engine: Engine, model: str) -> bool:
    with Session(engine) as session:
        model_id = get_model(session, model).id
        verdict = session.scalar(
            select(PerformanceReport.verdict).where(PerformanceReport.model_id == model_id)
            .order_by(PerformanceReport.window_end.desc(), PerformanceReport.id.desc())
            .limit(1))
    return verdict == DEGRADED


def _task(engine: Engine, settings: Settings, model: str) -> str:
    task = settings.model(model).task
    if task is None:
        with Session(engine) as session:
            task = get_model(session, model).task
    if task not in TASKS:
        raise DataError(f"the task of {model!r} is not known; set [models.{model}] task = "
                        "'classification' or 'regression' in lifecycle.toml")
    return task


def _act(engine: Engine, settings: Settings, registry: Registry, row: EvaluationRow, *,
         act: bool, actor: str, now: datetime) -> str:
    policy = settings.model(row.model).promotion
    reason = str(row.record.get("reason") or row.decision)
    try:
        if row.decision == PROMOTE and act and policy.auto:
            promote(engine, registry, row.model, actor=actor, version=row.challenger_version,
                    reason=reason, evaluation_id=row.id, numbers=decision_numbers(row.record),
                    expected_champion=row.champion_version, clock=lambda: now)
            return "promoted"
        if row.decision == REJECT and act and policy.reject:
            reject(engine, registry, row.model, row.challenger_version, actor=actor,
                   reason=reason, evaluation_id=row.id, clock=lambda: now)
            return "rejected"
    except Exception as exc:  # noqa: BLE001 - recorded; the decision stands and is retried
        logger.error("acting on evaluation %d of %s (%s) failed: %s", row.id, row.model,
                     row.decision, exc)
        return f"failed: {type(exc).__name__}: {exc}"[:500]
    return "none"


def _evaluate(engine: Engine, settings: Settings, registry: Registry, model: str,
              champion: VersionInfo, challenger: VersionInfo, window_start: datetime | None,
              window_end: datetime, earlier: list[EvaluationRow], now: datetime,
              ) -> tuple[EvaluationRow, PairedWindow]:
    since = challenger.created_at or window_start
    policy: ShadowPolicy = settings.model(model).shadow.to_policy()
    paired = load_paired(engine, model, champion.version, challenger.version, since,
                         window_end, as_of=now, grace=GRACE, settle=SETTLE)
    sample = paired.sample(_task(engine, settings, model))
    looks = [e.n_paired for e in earlier
             if e.nominal_alpha is not None and e.n_paired <= sample.n]
    stats, latency_source = paired.stats(), "logged"
    timed = _earlier_probe(earlier)
    if timed is not None:  # the same two versions were timed already: their speed stands
        stats = replace(stats, champion_latency_p95=timed[0], challenger_latency_p95=timed[1])
        latency_source = timed[2]
    else:
        probe = probe_latency(engine, settings, registry, model, champion, challenger, since,
                              window_end)
        if probe is not None:
            stats = replace(stats, champion_latency_p95=probe.champion_p95_ms,
                            challenger_latency_p95=probe.challenger_p95_ms)
            latency_source = f"probe ({probe.n_calls} single-row calls each)"
    decision = evaluate_shadow(
        sample, policy, stats=stats, looks=looks,
        champion_degraded=_champion_degraded(engine, model),
        elapsed=None if since is None else now - since)
    record = decision.record()
    guardrails = {g["name"]: {k: v for k, v in g.items() if k != "name"}
                  for g in record["guardrails"]}
    counts = {
        "champion_requests": paired.n_champion_requests,
        "challenger_rows": paired.n_challenger_rows, "pairs": paired.n_pairs,
        "labelled_pairs": paired.n_labelled_pairs, "counted_requests": paired.n_counted,
        "answered_requests": paired.n_answered, "drop_rate": paired.drop_rate,
        "agreement_rate": paired.agreement_rate,
        "champion_latency_p95": stats.champion_latency_p95,
        "challenger_latency_p95": stats.challenger_latency_p95,
        "latency_source": latency_source,
        "logged_latency_p95": {"champion": paired.champion_latency_p95,
                               "challenger": paired.challenger_latency_p95},
        "since": None if since is None else since.isoformat(),
        "shadow_started": (None if paired.shadow_started is None
                           else paired.shadow_started.isoformat()),
        "looks": looks,
    }
    evaluation_id = save_evaluation(
        engine, model, champion_version=champion.version,
        challenger_version=challenger.version, window_start=since, window_end=window_end,
        now=now, record=record, guardrails=guardrails,
        details={"counts": counts, "policy": policy_dict(policy)})
    stored = evaluation(engine, evaluation_id)
    assert stored is not None  # just written in its own committed transaction
    return stored, paired


def _earlier_probe(earlier: list[EvaluationRow]) -> tuple[float, float, str] | None:
    """The latency probe of an earlier evaluation of this same pair of versions (the newest),
    reused: timing the two models again at every look costs seconds and measures the same
    thing."""
    for row in reversed(earlier):
        counts = row.details.get("counts") or {}
        source = str(counts.get("latency_source") or "")
        champ, chall = counts.get("champion_latency_p95"), counts.get("challenger_latency_p95")
        if source.startswith("probe") and champ is not None and chall is not None:
            how = source if "evaluation" in source else f"{source}, evaluation {row.id}"
            return float(champ), float(chall), how
    return None


def policy_dict(policy: ShadowPolicy) -> dict[str, Any]:
    """A policy as stored with an evaluation (durations in seconds)."""
    out: dict[str, Any] = {}
    for key, value in vars(policy).items():
        out[key] = value.total_seconds() if isinstance(value, timedelta) else value
    return out


def run_shadow_evaluation(engine: Engine, settings: Settings, model: str,
                          window_start: datetime | None, window_end: datetime, *,
                          registry: Registry | None = None, now: datetime | None = None,
                          act: bool = True, actor: str = SHADOW_ACTOR,
                          ) -> ShadowRun | EmptyWindow:
    """Evaluate the challenger of ``model`` on every pair up to ``window_end`` and act.

    ``act=False`` records the evaluation and acts on nothing (``lifecycle shadow evaluate
    --no-act``). Raises :class:`~lifecycle.errors.DataError` when the labels or predictions
    cannot be evaluated (the message names the fix), and the registry's errors.
    """
    if registry is None:
        registry = registry_for(settings)
    now = now or utcnow()
    challenger = registry.by_alias(model, CHALLENGER)
    if challenger is None:
        return EmptyWindow(f"{model!r} has no challenger to evaluate")
    champion = registry.by_alias(model, CHAMPION)
    if champion is None:
        return EmptyWindow(f"{model!r} has a challenger but no champion to compare it with")
    if champion.version == challenger.version:
        return EmptyWindow(f"the challenger of {model!r} is the champion (version "
                           f"{champion.version}): a promotion is being finished")
    earlier = evaluations(engine, model, champion_version=champion.version,
                          challenger_version=challenger.version)
    terminal = next((e for e in earlier if e.terminal), None)
    if terminal is not None:
        action = _act(engine, settings, registry, terminal, act=act, actor=actor, now=now)
        return ShadowRun(model, champion.version, challenger.version, terminal, True, action)
    row, paired = _evaluate(engine, settings, registry, model, champion, challenger,
                            window_start, window_end, earlier, now)
    action = _act(engine, settings, registry, row, act=act, actor=actor, now=now)
    logger.info("shadow evaluation %d of %s: %s (champion %s, challenger %s, %d labelled "
                "pairs); action: %s", row.id, model, row.decision, champion.version,
                challenger.version, row.n_paired, action)
    return ShadowRun(model, champion.version, challenger.version, row, False, action, paired)

"""Story lines for the lifecycle half: retrains, shadow decisions, promotions and rejections.

Like :mod:`lifecycle.demo.observe`, this only reads what the real jobs wrote
(``retrain_runs``, ``shadow_evaluations``, ``promotion_events``, ``audit_events``) and turns
what is new since the last poll into :class:`~lifecycle.demo.observe.Event` lines with their
numbers. CONTINUE decisions are told at the first look that ran a test and then once per
simulated day, so a week of shadowing fits in a few lines; PROMOTE and REJECT are always told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.demo.observe import Event, fmt_p, sim_label
from lifecycle.states import CONTINUE, DONE
from lifecycle.storage.shadow_repo import EvaluationRow, evaluations
from lifecycle.storage.tables import AuditEvent, ModelRow, PromotionEvent, RetrainRun

__all__ = ["LoopObserver", "shadow_text"]


def _signed(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:+.{digits}f}"


def shadow_text(row: EvaluationRow) -> str:
    """One evaluation in words: pairs, metric delta with its interval, the test and look."""
    rec = row.record
    metric = str(rec.get("metric") or "metric")
    parts = [f"{row.n_paired:,} labelled pairs"]
    if row.metric_delta is not None:
        ci = ""
        if row.ci_low is not None and row.ci_high is not None:
            level = rec.get("confidence")
            share = f"{float(level):.0%} " if level is not None else ""
            ci = f" ({share}CI {_signed(row.ci_low)} to {_signed(row.ci_high)})"
        champ, chall = rec.get("champion_value"), rec.get("challenger_value")
        values = (f": {float(champ):.3f} -> {float(chall):.3f}"
                  if champ is not None and chall is not None else "")
        parts.append(f"{metric} delta {_signed(row.metric_delta)}{ci}{values}")
    if rec.get("nominal_alpha") is not None:
        parts.append(f"{row.test} p_better {fmt_p(rec.get('p_better'))}, p_worse "
                     f"{fmt_p(rec.get('p_worse'))} vs this look's level "
                     f"{fmt_p(rec.get('nominal_alpha'))} (look {rec.get('look')})")
    elif row.n_paired < int((row.details.get("policy") or {}).get("min_pairs", 0)):
        parts.append("too few to test yet")
    return "; ".join(parts)


class LoopObserver:
    """Polls the lifecycle tables for what the retrain and shadow jobs wrote."""

    def __init__(self, engine: Engine, model: str, start: datetime) -> None:
        self.engine = engine
        self.model = model
        self.start = start
        self._retrains_told: set[int] = set()
        self._evaluations_seen = 0
        self._continue_day: dict[str, int] = {}  # challenger -> last simulated day told
        self._promotions_seen = 0
        self._audit_seen = 0

    def poll(self, now: datetime) -> list[Event]:
        """Events for everything written since the previous poll."""
        with Session(self.engine) as session:
            mid = session.scalar(select(ModelRow.id).where(ModelRow.name == self.model))
            if mid is None:
                return []
            events = self._retrains(session, mid)
            events += self._promotions(session, mid)
            events += self._rejections(session, mid)
        events += self._evaluations(now)
        return sorted(events, key=lambda e: (e.ts, e.kind != "retrain"))

    def _retrains(self, session: Session, mid: int) -> list[Event]:
        events = []
        for run in session.scalars(select(RetrainRun).where(
                RetrainRun.model_id == mid, RetrainRun.finished_at.is_not(None),
                RetrainRun.id.not_in(self._retrains_told or {0})).order_by(RetrainRun.id)):
            self._retrains_told.add(run.id)
            when = run.finished_at or run.started_at
            why = (f"alert #{run.trigger_alert_id}" if run.trigger_alert_id is not None
                   else f"asked by {run.actor}")
            head = f"{sim_label(when, self.start)}: retrain #{run.id} ({why})"
            if run.status != DONE:
                events.append(Event(when, "retrain", f"{head} {run.status}: {run.error}",
                                    {"retrain_id": run.id, "status": run.status}))
                continue
            window = (run.details or {}).get("window") or {}
            counts = (run.details or {}).get("counts") or {}
            new = (run.metrics or {}).get("new") or {}
            old = (run.metrics or {}).get("champion") or {}
            auc = ""
            if "roc_auc" in new and "roc_auc" in old:
                auc = (f"; holdout ROC AUC {new['roc_auc']:.3f} vs champion "
                       f"{old['roc_auc']:.3f} on the same rows")
            text = (f"{head}: MLflow run {str(run.mlflow_run_id)[:8]} trained on "
                    f"{(run.details or {}).get('n_train', '?'):,} labelled rows of the window "
                    f"{window.get('span', '?')} ({counts.get('n_labelled', '?'):,} labelled of "
                    f"{counts.get('n_logged', '?'):,} logged), "
                    f"{(run.details or {}).get('n_holdout', '?'):,} held out{auc} -> version "
                    f"{run.registered_version} is the challenger (vs champion "
                    f"v{run.champion_version})")
            events.append(Event(when, "retrain", text,
                                {"retrain_id": run.id, "version": run.registered_version}))
        return events

    def _evaluations(self, now: datetime) -> list[Event]:
        rows = [r for r in evaluations(self.engine, self.model) if r.id > self._evaluations_seen]
        events = []
        for row in rows:
            self._evaluations_seen = max(self._evaluations_seen, row.id)
            when = row.created_at
            day = int((when - self.start).total_seconds() // 86_400)
            tested = row.record.get("nominal_alpha") is not None
            key = row.challenger_version
            if row.decision == CONTINUE and (not tested or self._continue_day.get(key) == day):
                continue
            if row.decision == CONTINUE:
                self._continue_day[key] = day
            reason = str(row.record.get("reason") or "")
            text = (f"{sim_label(when, self.start)}: shadow evaluation #{row.id}, challenger "
                    f"v{row.challenger_version} vs champion v{row.champion_version}: "
                    f"{row.decision.upper()} ({shadow_text(row)})")
            if row.decision != CONTINUE and reason:
                text += f"; {reason}"
            events.append(Event(when, "shadow", text,
                                {"evaluation_id": row.id, "decision": row.decision}))
        return events

    def _promotions(self, session: Session, mid: int) -> list[Event]:
        events = []
        for move in session.scalars(select(PromotionEvent).where(
                PromotionEvent.model_id == mid, PromotionEvent.id > self._promotions_seen)
                .order_by(PromotionEvent.id)):
            self._promotions_seen = move.id
            when = move.completed_at or move.created_at
            what = ("PROMOTED" if move.action == "promote" else move.action.upper())
            events.append(Event(when, "promotion", (
                f"{sim_label(when, self.start)}: {what} version {move.to_version} to champion "
                f"(was v{move.from_version}, now alias 'previous'; {move.status}, by "
                f"{move.actor}, on evaluation #{move.evaluation_id})"),
                {"to": move.to_version, "from": move.from_version}))
        return events

    def _rejections(self, session: Session, mid: int) -> list[Event]:
        events = []
        for row in session.scalars(select(AuditEvent).where(
                AuditEvent.model_id == mid, AuditEvent.id > self._audit_seen)
                .order_by(AuditEvent.id)):
            self._audit_seen = row.id
            if row.action != "model.reject":
                continue
            details: dict[str, Any] = row.details or {}
            version = details.get("version") or str(row.target or "").rsplit(":", 1)[-1]
            events.append(Event(row.ts, "rejection", (
                f"{sim_label(row.ts, self.start)}: REJECTED version {version}: alias "
                "'challenger' removed, version tagged lifecycle.status = rejected (kept in "
                "the registry for inspection); the champion keeps serving"),
                {"version": version}))
        return events

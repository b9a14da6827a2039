"""``shadow_evaluations`` rows: write one per evaluation, read a challenger's history back.

The table's columns hold the headline numbers (pairs, decision, test, statistic, the p-value
the decision rests on, the metric delta and its interval, the guardrails); ``details`` holds
everything else: the whole :meth:`lifecycle.evaluation.ShadowDecision.record` under
``decision`` (nominal alpha, look, information fraction, pairs still needed, reason ...), the
counts of the paired window under ``counts``, and the policy under ``policy``. ``test`` is the
empty string when no test ran (too few pairs, or a guardrail rejected first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.states import PROMOTE, REJECT
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import ModelRow, ShadowEvaluation

__all__ = ["EvaluationRow", "evaluation", "evaluations", "save_evaluation"]

#: Decisions that end a challenger's evaluation (a group-sequential design stops there).
TERMINAL = (PROMOTE, REJECT)


@dataclass(frozen=True)
class EvaluationRow:
    """One stored evaluation, read back (CLI, dashboard, the next look)."""

    id: int
    model: str
    champion_version: str
    challenger_version: str
    window_start: datetime | None
    window_end: datetime | None
    created_at: datetime
    n_paired: int
    decision: str
    test: str
    statistic: float | None
    p_value: float | None
    metric_delta: float | None
    ci_low: float | None
    ci_high: float | None
    guardrails: dict[str, Any]
    details: dict[str, Any]

    @property
    def record(self) -> dict[str, Any]:
        """The gate's decision record (``ShadowDecision.record()``)."""
        return dict(self.details.get("decision") or {})

    @property
    def nominal_alpha(self) -> float | None:
        """This look's nominal level (None: no test ran, so it was not a look)."""
        value = self.record.get("nominal_alpha")
        return None if value is None else float(value)

    @property
    def terminal(self) -> bool:
        """PROMOTE or REJECT: the evaluation of this challenger against this champion ended."""
        return self.decision in TERMINAL


def save_evaluation(engine: Engine, model: str, *, champion_version: str,
                    challenger_version: str, window_start: datetime | None,
                    window_end: datetime | None, now: datetime, record: dict[str, Any],
                    guardrails: dict[str, Any], details: dict[str, Any]) -> int:
    """Insert one row (``record`` is ``ShadowDecision.record()``); its id."""
    with Session(engine) as session, session.begin():
        model_row = get_or_create_model(session, model)
        row = ShadowEvaluation(
            model_id=model_row.id, champion_version=str(champion_version),
            challenger_version=str(challenger_version), window_start=window_start,
            window_end=window_end, created_at=now, n_paired=int(record["n_pairs"]),
            decision=record["decision"], test=record.get("test") or "",
            statistic=record.get("statistic"), p_value=record.get("p_value"),
            metric_delta=record.get("delta"), ci_low=record.get("ci_low"),
            ci_high=record.get("ci_high"), guardrails=guardrails,
            details={**details, "decision": record})
        session.add(row)
        session.flush()
        return int(row.id)


def evaluations(engine: Engine, model: str, *, champion_version: str | None = None,
                challenger_version: str | None = None,
                limit: int | None = None) -> list[EvaluationRow]:
    """Evaluations of ``model`` (optionally of one champion/challenger pair), oldest first."""
    cond: list[Any] = [ModelRow.name == model]
    if champion_version is not None:
        cond.append(ShadowEvaluation.champion_version == str(champion_version))
    if challenger_version is not None:
        cond.append(ShadowEvaluation.challenger_version == str(challenger_version))
    stmt = (select(ShadowEvaluation, ModelRow.name)
            .join(ModelRow, ModelRow.id == ShadowEvaluation.model_id).where(*cond)
            .order_by(ShadowEvaluation.created_at.desc(), ShadowEvaluation.id.desc()))
    if limit is not None:
        stmt = stmt.limit(limit)
    with Session(engine) as session:
        rows = [_row(e, name) for e, name in session.execute(stmt).all()]
    return rows[::-1]


def evaluation(engine: Engine, evaluation_id: int) -> EvaluationRow | None:
    """One evaluation by id."""
    stmt = (select(ShadowEvaluation, ModelRow.name)
            .join(ModelRow, ModelRow.id == ShadowEvaluation.model_id)
            .where(ShadowEvaluation.id == evaluation_id))
    with Session(engine) as session:
        found = session.execute(stmt).first()
    return None if found is None else _row(found[0], found[1])


def _row(e: ShadowEvaluation, name: str) -> EvaluationRow:
    return EvaluationRow(
        id=e.id, model=name, champion_version=e.champion_version,
        challenger_version=e.challenger_version, window_start=e.window_start,
        window_end=e.window_end, created_at=e.created_at, n_paired=e.n_paired,
        decision=e.decision, test=e.test, statistic=e.statistic, p_value=e.p_value,
        metric_delta=e.metric_delta, ci_low=e.ci_low, ci_high=e.ci_high,
        guardrails=dict(e.guardrails or {}), details=dict(e.details or {}))

"""Cached, read-only queries of the lifecycle pages: retrain runs, shadow evaluations,
promotion events, and the per-model lifecycle status of the Overview.

Same rules as :mod:`dashboard.data` (database URL first, bound parameters, TTL); stored rows
only, never the raw prediction log and never the registry (that is
:mod:`dashboard.registry_view`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifecycle.dashboard.data import TTL_S, engine, fetch
from lifecycle.states import PENDING
from lifecycle.storage.tables import (
    ModelRow,
    PromotionEvent,
    RetrainRun,
    ShadowEvaluation,
    TrafficHourly,
)

#: A promotion intent still pending after this long needs a person (the reconciler finishes
#: intents older than two minutes on each scheduler poll).
STUCK_AFTER = timedelta(minutes=5)


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601") if len(values) else values


@st.cache_data(ttl=TTL_S, show_spinner=False)
def retrain_runs(url: str, start: datetime, model_id: int | None = None,
                 limit: int = 500) -> pd.DataFrame:
    """Retrain runs started after ``start`` (one model, or all), newest first."""
    r = RetrainRun
    stmt = (
        select(r.id, ModelRow.name, r.trigger, r.status, r.started_at, r.finished_at,
               r.actor, r.reason, r.champion_version, r.registered_version, r.n_rows,
               r.mlflow_run_id, r.dataset_hash, r.metrics, r.details, r.error,
               r.trigger_alert_id, r.drift_report_id, r.performance_report_id, r.request_id)
        .join(ModelRow, ModelRow.id == r.model_id)
        .where(r.started_at >= start)
        .order_by(r.started_at.desc(), r.id.desc()).limit(limit)
    )
    if model_id is not None:
        stmt = stmt.where(r.model_id == model_id)
    df = fetch(url, stmt, ["id", "model", "trigger", "status", "started_at", "finished_at",
                            "actor", "reason", "champion_version", "registered_version",
                            "n_rows", "mlflow_run_id", "dataset_hash", "metrics", "details",
                            "error", "trigger_alert_id", "drift_report_id",
                            "performance_report_id", "request_id"])
    df["started_at"] = _utc(df["started_at"])
    df["finished_at"] = _utc(df["finished_at"])
    df["duration_s"] = (df["finished_at"] - df["started_at"]).dt.total_seconds() \
        if len(df) else pd.Series(dtype=float)
    return df


def _record(details: Any) -> Mapping[str, Any]:
    """The gate's record in an evaluation's ``details`` (``details["decision"]``, as
    :attr:`lifecycle.storage.shadow_repo.EvaluationRow.record` reads it)."""
    inner = details.get("decision") if isinstance(details, Mapping) else None
    return inner if isinstance(inner, Mapping) else {}


def _counts(details: Any) -> Mapping[str, Any]:
    counts = details.get("counts") if isinstance(details, Mapping) else None
    return counts if isinstance(counts, Mapping) else {}


#: Columns of :func:`evaluations` read out of ``details`` (gate record, then counts).
RECORD_FIELDS = ("metric", "reason", "pairs_needed", "nominal_alpha", "champion_value",
                 "challenger_value", "p_better", "p_worse", "final", "look", "confidence")
COUNT_FIELDS = ("agreement_rate", "drop_rate", "champion_latency_p95",
                "challenger_latency_p95", "champion_requests", "challenger_rows")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def evaluations(url: str, model_id: int, start: datetime) -> pd.DataFrame:
    """Shadow evaluations of one model created after ``start``, oldest first, with the
    gate's numbers (``details.decision``) and the paired window's counts (``details.counts``)
    as columns."""
    e = ShadowEvaluation
    stmt = (
        select(e.id, e.created_at, e.champion_version, e.challenger_version, e.window_start,
               e.window_end, e.n_paired, e.decision, e.test, e.statistic, e.p_value,
               e.metric_delta, e.ci_low, e.ci_high, e.guardrails, e.details)
        .where(e.model_id == model_id, e.created_at >= start)
        .order_by(e.created_at, e.id)
    )
    df = fetch(url, stmt, ["id", "created_at", "champion_version", "challenger_version",
                            "window_start", "window_end", "n_paired", "decision", "test",
                            "statistic", "p_value", "delta", "ci_low", "ci_high",
                            "guardrails", "details"])
    df["created_at"] = _utc(df["created_at"])
    records = [_record(d) for d in df["details"]]
    counts = [_counts(d) for d in df["details"]]
    for name in RECORD_FIELDS:
        df[name] = [r.get(name) for r in records]
    for name in COUNT_FIELDS:
        df[name] = pd.array([c.get(name) for c in counts], dtype="Float64").astype(float)
    return df.drop(columns=["details"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def promotions(url: str, start: datetime, model_id: int | None = None) -> pd.DataFrame:
    """Promotion and rollback events (intents and outcomes) after ``start``, newest first,
    with who decided, the reason and the numbers behind it."""
    p = PromotionEvent
    stmt = (
        select(p.id, ModelRow.name, p.action, p.from_version, p.to_version, p.status,
               p.evaluation_id, p.actor, p.created_at, p.completed_at, p.details)
        .join(ModelRow, ModelRow.id == p.model_id)
        .where(p.created_at >= start)
        .order_by(p.created_at.desc(), p.id.desc())
    )
    if model_id is not None:
        stmt = stmt.where(p.model_id == model_id)
    df = fetch(url, stmt, ["id", "model", "action", "from_version", "to_version", "status",
                            "evaluation_id", "actor", "created_at", "completed_at", "details"])
    df["created_at"] = _utc(df["created_at"])
    df["completed_at"] = _utc(df["completed_at"])
    details = [d if isinstance(d, Mapping) else {} for d in df["details"]]
    df["reason"] = [d.get("reason") for d in details]
    df["numbers"] = [d.get("numbers") or {} for d in details]
    df["error"] = [d.get("error") for d in details]
    return df.drop(columns=["details"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def shadow_traffic(url: str, model_id: int, start: datetime) -> pd.DataFrame:
    """Hourly predictions and summed latency of one model's champion and challenger rows
    (``traffic_hourly``): the latency of both over time."""
    t = TrafficHourly
    stmt = (
        select(t.bucket_start, t.role, t.model_version, t.n_predictions, t.latency_sum_ms)
        .where(t.model_id == model_id, t.bucket_start >= start)
        .order_by(t.bucket_start)
    )
    df = fetch(url, stmt, ["bucket_start", "role", "version", "n_predictions",
                            "latency_sum_ms"])
    df["bucket_start"] = _utc(df["bucket_start"])
    return df


@st.cache_data(ttl=TTL_S, show_spinner=False)
def loop_status(url: str, now: datetime) -> pd.DataFrame:
    """One row per model: the last retrain (status, time, version), the latest shadow
    evaluation (challenger, decision, pairs, pairs still needed), the latest completed
    champion move (to which version, when) and promotion intents pending since before
    ``now - STUCK_AFTER``. Latest rows per model through the ``(model_id, time)`` indexes."""
    out: list[dict[str, Any]] = []
    with Session(engine(url)) as session:
        models = session.execute(select(ModelRow.id, ModelRow.name)
                                 .order_by(ModelRow.name)).all()
        stuck = dict(session.execute(
            select(PromotionEvent.model_id, func.count())
            .where(PromotionEvent.status == PENDING,
                   PromotionEvent.created_at <= now - STUCK_AFTER)
            .group_by(PromotionEvent.model_id)).all())
        for model_id, name in models:
            retrain = session.execute(
                select(RetrainRun.id, RetrainRun.status, RetrainRun.started_at,
                       RetrainRun.registered_version, RetrainRun.error)
                .where(RetrainRun.model_id == model_id)
                .order_by(RetrainRun.started_at.desc(), RetrainRun.id.desc()).limit(1)).first()
            ev = session.execute(
                select(ShadowEvaluation.id, ShadowEvaluation.challenger_version,
                       ShadowEvaluation.champion_version, ShadowEvaluation.decision,
                       ShadowEvaluation.n_paired, ShadowEvaluation.created_at,
                       ShadowEvaluation.details)
                .where(ShadowEvaluation.model_id == model_id)
                .order_by(ShadowEvaluation.created_at.desc(), ShadowEvaluation.id.desc())
                .limit(1)).first()
            move = session.execute(
                select(PromotionEvent.action, PromotionEvent.to_version,
                       PromotionEvent.completed_at, PromotionEvent.from_version)
                .where(PromotionEvent.model_id == model_id, PromotionEvent.status == "done")
                .order_by(PromotionEvent.created_at.desc(), PromotionEvent.id.desc())
                .limit(1)).first()
            out.append({
                "model_id": model_id, "model": name,
                "retrain_id": retrain[0] if retrain else None,
                "retrain_status": retrain[1] if retrain else None,
                "retrain_at": retrain[2] if retrain else None,
                "retrain_version": retrain[3] if retrain else None,
                "retrain_error": retrain[4] if retrain else None,
                "evaluation_id": ev[0] if ev else None,
                "challenger": ev[1] if ev else None,
                "evaluated_champion": ev[2] if ev else None,
                "decision": ev[3] if ev else None,
                "n_paired": ev[4] if ev else None,
                "evaluated_at": ev[5] if ev else None,
                "pairs_needed": _record(ev[6]).get("pairs_needed") if ev else None,
                "moved_action": move[0] if move else None,
                "moved_to": move[1] if move else None,
                "moved_at": move[2] if move else None,
                "moved_from": move[3] if move else None,
                "stuck_intents": int(stuck.get(model_id, 0)),
            })
    df = pd.DataFrame(out, columns=[
        "model_id", "model", "retrain_id", "retrain_status", "retrain_at", "retrain_version",
        "retrain_error", "evaluation_id", "challenger", "evaluated_champion", "decision",
        "n_paired", "evaluated_at", "pairs_needed", "moved_action", "moved_to", "moved_at",
        "moved_from", "stuck_intents"])
    for column in ("retrain_at", "evaluated_at", "moved_at"):
        df[column] = _utc(df[column])
    return df

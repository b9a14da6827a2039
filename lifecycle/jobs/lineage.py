"""Lineage of a model version: why it exists and what became of it.

The chain, each link read from where it is recorded::

    drift / performance report  (retrain_runs.drift_report_id / performance_report_id)
      -> alert                  (retrain_runs.trigger_alert_id)
      -> retrain run            (retrain_runs.registered_version, else the version's
                                 lifecycle.retrain_id tag)
      -> MLflow run             (the version's run id; params, metrics and tags from the store)
      -> version                (registry: aliases and lifecycle.* tags)
      -> shadow evaluations     (shadow_evaluations.challenger_version)
      -> promotion / rollback / rejection  (promotion_events, audit_events ``model.reject``)

:func:`version_lineage` returns typed frozen dataclasses (``lifecycle lineage`` prints them;
the dashboard renders them). A link that is missing (a version registered by hand has no
retrain run) is None or empty, never an error; an MLflow run the store cannot read is None
with the reason in ``notes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from lifecycle.errors import RegistryError
from lifecycle.registry.base import TAG_PREFIX, Registry
from lifecycle.states import CHAMPION
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.retrain_repo import RetrainRow, list_runs
from lifecycle.storage.shadow_repo import EvaluationRow, evaluations
from lifecycle.storage.tables import (
    Alert,
    AuditEvent,
    DriftReportRow,
    PerformanceReport,
    PromotionEvent,
    RetrainRun,
)

__all__ = ["AliasChange", "LineageAlert", "LineageReport", "LineageRun", "LineageVersion",
           "Rejection", "VersionLineage", "version_lineage"]


@dataclass(frozen=True)
class LineageReport:
    """The drift or performance report behind the alert (``kind``: data, prediction, label
    for drift reports; ``performance``)."""

    kind: str
    id: int
    window_start: datetime
    window_end: datetime
    verdict: str


@dataclass(frozen=True)
class LineageAlert:
    id: int
    kind: str
    feature: str | None
    severity: str
    status: str
    first_seen: datetime
    message: str


@dataclass(frozen=True)
class LineageRun:
    """The MLflow run that trained the version."""

    run_id: str
    experiment_id: str
    status: str
    params: Mapping[str, str]
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class LineageVersion:
    version: str
    aliases: tuple[str, ...]
    status: str | None
    created_at: datetime | None
    run_id: str | None
    source: str | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class AliasChange:
    """A promotion or rollback that moved ``champion`` to or away from the version."""

    id: int
    action: str
    from_version: str | None
    to_version: str
    status: str
    actor: str
    created_at: datetime
    completed_at: datetime | None
    reason: str | None
    evaluation_id: int | None


@dataclass(frozen=True)
class Rejection:
    actor: str
    at: datetime
    reason: str | None
    evaluation_id: int | None


@dataclass(frozen=True)
class VersionLineage:
    """Everything known about how ``version`` of ``model`` came to be and what became of it."""

    model: str
    version: LineageVersion
    reports: tuple[LineageReport, ...]
    alert: LineageAlert | None
    retrain: RetrainRow | None
    run: LineageRun | None
    evaluations: tuple[EvaluationRow, ...]
    moves: tuple[AliasChange, ...]
    rejections: tuple[Rejection, ...]
    notes: tuple[str, ...] = ()


def _retrain(engine: Engine, model: str, info: Any) -> RetrainRow | None:
    tag = info.tags.get(f"{TAG_PREFIX}retrain_id")
    if tag is not None and str(tag).isdigit():
        found = list_runs(engine, model, run_ids=[int(tag)], limit=1)
        if found:
            return found[0]
    with Session(engine) as session:
        model_id = get_model(session, model).id
        run_id = session.scalar(
            select(RetrainRun.id).where(RetrainRun.model_id == model_id,
                                        RetrainRun.registered_version == info.version)
            .order_by(RetrainRun.id.desc()).limit(1))
    if run_id is None:
        return None
    found = list_runs(engine, model, run_ids=[run_id], limit=1)
    return found[0] if found else None


def _upstream(engine: Engine, retrain: RetrainRow | None
              ) -> tuple[tuple[LineageReport, ...], LineageAlert | None]:
    if retrain is None:
        return (), None
    reports: list[LineageReport] = []
    alert = None
    with Session(engine) as session:
        if retrain.drift_report_id is not None:
            d = session.get(DriftReportRow, retrain.drift_report_id)
            if d is not None:
                reports.append(LineageReport(d.kind, d.id, d.window_start, d.window_end,
                                             d.verdict))
        if retrain.performance_report_id is not None:
            p = session.get(PerformanceReport, retrain.performance_report_id)
            if p is not None:
                reports.append(LineageReport("performance", p.id, p.window_start,
                                             p.window_end, p.verdict))
        if retrain.alert_id is not None:
            a = session.get(Alert, retrain.alert_id)
            if a is not None:
                alert = LineageAlert(a.id, a.kind, a.feature, a.severity, a.status,
                                     a.first_seen, a.message)
    return tuple(reports), alert


def _run(registry: Registry, run_id: str | None, notes: list[str]) -> LineageRun | None:
    if not run_id:
        return None
    try:
        run = registry.get_run(run_id)
    except RegistryError as exc:
        notes.append(f"MLflow run {run_id} could not be read: {exc}")
        return None
    return LineageRun(run.run_id, run.experiment_id, run.status, dict(run.params),
                      dict(run.metrics))


def _moves_and_rejections(engine: Engine, model: str, version: str
                          ) -> tuple[tuple[AliasChange, ...], tuple[Rejection, ...]]:
    with Session(engine) as session:
        model_id = get_model(session, model).id
        events = session.scalars(
            select(PromotionEvent).where(
                PromotionEvent.model_id == model_id,
                or_(PromotionEvent.to_version == version,
                    PromotionEvent.from_version == version))
            .order_by(PromotionEvent.created_at, PromotionEvent.id)).all()
        moves = tuple(AliasChange(
            e.id, e.action, e.from_version, e.to_version, e.status, e.actor, e.created_at,
            e.completed_at, (e.details or {}).get("reason"), e.evaluation_id) for e in events)
        audits = session.scalars(
            select(AuditEvent).where(AuditEvent.model_id == model_id,
                                     AuditEvent.action == "model.reject",
                                     AuditEvent.target == f"version:{version}")
            .order_by(AuditEvent.ts, AuditEvent.id)).all()
        rejections = tuple(Rejection(a.actor, a.ts, (a.details or {}).get("reason"),
                                     (a.details or {}).get("evaluation_id")) for a in audits)
    return moves, rejections


def version_lineage(engine: Engine, registry: Registry, model: str,
                    version: str | None = None) -> VersionLineage:
    """The lineage of ``version`` of ``model`` (default: the champion).

    Raises
    ------
    RegistryError
        No such version, or no champion when no version is named.
    UnknownModelError
        ``model`` has never been logged or evaluated in this database.
    """
    info = (registry.by_alias(model, CHAMPION) if version is None
            else registry.version(model, str(version)))
    if info is None:
        what = "champion" if version is None else f"version {version!r}"
        raise RegistryError(f"{model!r} has no {what} in the registry at "
                            f"{registry.tracking_uri}; see `lifecycle runs {model}` for the "
                            "versions retraining registered, or name one that exists")
    notes: list[str] = []
    retrain = _retrain(engine, model, info)
    reports, alert = _upstream(engine, retrain)
    run = _run(registry, info.run_id or (retrain.mlflow_run_id if retrain else None), notes)
    moves, rejections = _moves_and_rejections(engine, model, info.version)
    evals = tuple(evaluations(engine, model, challenger_version=info.version))
    return VersionLineage(
        model=model,
        version=LineageVersion(info.version, tuple(info.aliases),
                               info.tags.get(f"{TAG_PREFIX}status"), info.created_at,
                               info.run_id, info.source, dict(info.tags)),
        reports=reports, alert=alert, retrain=retrain, run=run, evaluations=evals,
        moves=moves, rejections=rejections, notes=tuple(notes))

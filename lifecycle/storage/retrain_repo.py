"""``retrain_runs`` rows: open one, record each step as it happens, close it, find lost ones.

Every step a retrain takes is written as soon as it happened, each in its own short
transaction, so a process that dies mid-way leaves a row that says how far it got: the MLflow
run id once the run exists, the registered version once it is registered. The reconciler
(:func:`lifecycle.jobs.retrain.reconcile_retrain_runs`) reads those to mark the row ``lost`` and
tidy the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from lifecycle.states import LOST, RUNNING
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import JobRequest, ModelRow, RetrainRun

__all__ = ["Lineage", "RetrainRow", "finish_run", "list_runs", "mark_lost", "open_run",
           "orphaned_runs", "update_run"]


@dataclass(frozen=True)
class Lineage:
    """What a retrain answers to: who or what asked, and the reports behind the alert."""

    trigger: str  # "alert" or "manual"
    actor: str
    reason: str | None = None
    alert_id: int | None = None
    drift_report_id: int | None = None
    performance_report_id: int | None = None
    request_id: int | None = None
    #: start of the first window of the triggering alert (``window = "since_drift"``)
    drift_began: datetime | None = None


@dataclass(frozen=True)
class RetrainRow:
    """A ``retrain_runs`` row, read back (``lifecycle runs``, the dashboard, tests)."""

    id: int
    model: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    actor: str
    reason: str | None
    alert_id: int | None
    drift_report_id: int | None
    performance_report_id: int | None
    request_id: int | None
    champion_version: str | None
    mlflow_run_id: str | None
    registered_version: str | None
    n_rows: int | None
    dataset_hash: str | None
    metrics: dict[str, Any]
    details: dict[str, Any]
    error: str | None


def open_run(engine: Engine, model: str, lineage: Lineage, *, now: datetime,
             champion_version: str | None) -> int:
    """Insert a ``running`` row (creating the model row if it has none yet); its id."""
    with Session(engine) as session, session.begin():
        model_row = get_or_create_model(session, model)
        row = RetrainRun(
            model_id=model_row.id, trigger=lineage.trigger, status=RUNNING, started_at=now,
            trigger_alert_id=lineage.alert_id, drift_report_id=lineage.drift_report_id,
            performance_report_id=lineage.performance_report_id,
            request_id=lineage.request_id, actor=lineage.actor[:200], reason=lineage.reason,
            champion_version=champion_version, metrics={}, details={},
        )
        session.add(row)
        session.flush()
        return int(row.id)


def update_run(engine: Engine, run_id: int, **values: Any) -> None:
    """Record a step (``mlflow_run_id``, ``registered_version``, ``details`` ...) at once."""
    with engine.begin() as conn:
        conn.execute(update(RetrainRun).where(RetrainRun.id == run_id).values(**values))


def finish_run(engine: Engine, run_id: int, *, status: str, now: datetime,
               **values: Any) -> bool:
    """Close a row that is still ``running``; False when someone else closed it (lost)."""
    with engine.begin() as conn:
        done = conn.execute(
            update(RetrainRun).where(RetrainRun.id == run_id, RetrainRun.status == RUNNING)
            .values(status=status, finished_at=now, **values))
        return done.rowcount == 1


def orphaned_runs(engine: Engine, *, request_id: int | None = None) -> list[RetrainRow]:
    """``running`` rows nobody runs any more: their request is no longer ``running`` (it
    finished or gave up), or - with ``request_id`` - every running row of that request (called
    when the request is claimed again: the previous owner died)."""
    cond = [RetrainRun.status == RUNNING]
    if request_id is not None:
        cond.append(RetrainRun.request_id == request_id)
    else:
        live = select(JobRequest.id).where(JobRequest.status == RUNNING)
        cond.append(RetrainRun.request_id.is_not(None))
        cond.append(RetrainRun.request_id.not_in(live))
    return _read(engine, cond, limit=1000)


def mark_lost(engine: Engine, run_id: int, *, now: datetime, note: str) -> bool:
    """``running`` -> ``lost`` with ``note`` as the error (False: it was not running)."""
    return finish_run(engine, run_id, status=LOST, now=now, error=note[:4000])


def list_runs(engine: Engine, model: str | None = None, *, limit: int = 50,
              run_ids: Sequence[int] | None = None) -> list[RetrainRow]:
    """Newest first."""
    cond: list[Any] = []
    if model is not None:
        cond.append(ModelRow.name == model)
    if run_ids is not None:
        cond.append(RetrainRun.id.in_(list(run_ids)))
    return _read(engine, cond, limit=limit)


def _read(engine: Engine, cond: list[Any], *, limit: int) -> list[RetrainRow]:
    stmt = (select(RetrainRun, ModelRow.name).join(ModelRow, ModelRow.id == RetrainRun.model_id)
            .where(*cond).order_by(RetrainRun.started_at.desc(), RetrainRun.id.desc())
            .limit(limit))
    with Session(engine) as session:
        return [
            RetrainRow(
                id=r.id, model=name, trigger=r.trigger, status=r.status,
                started_at=r.started_at, finished_at=r.finished_at, actor=r.actor,
                reason=r.reason, alert_id=r.trigger_alert_id,
                drift_report_id=r.drift_report_id,
                performance_report_id=r.performance_report_id, request_id=r.request_id,
                champion_version=r.champion_version, mlflow_run_id=r.mlflow_run_id,
                registered_version=r.registered_version, n_rows=r.n_rows,
                dataset_hash=r.dataset_hash, metrics=dict(r.metrics or {}),
                details=dict(r.details or {}), error=r.error,
            )
            for r, name in session.execute(stmt).all()
        ]

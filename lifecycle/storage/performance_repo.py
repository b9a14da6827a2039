"""Persistence of performance reports, their metrics and detected change points.

A report is unique per (model, window_start, window_end): saving the same window again
replaces its metrics and change points in one transaction (the job is idempotent).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lifecycle.storage.tables import ChangePoint, PerformanceMetric, PerformanceReport
from lifecycle.storage.types import utcnow

__all__ = [
    "json_safe",
    "load_report_summary",
    "save_performance_report",
]


def json_safe(value: Any) -> Any:
    """Replace NaN/inf by None (PostgreSQL JSONB rejects them) and datetimes by ISO text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def load_report_summary(session: Session, model_id: int, window_start: datetime,
                        window_end: datetime) -> tuple[int, dict[str, Any]] | None:
    """The id and summary of the stored report of one model and window, if any (a re-run
    compares the labels the report saw and appends to its coverage history)."""
    row = session.execute(
        select(PerformanceReport.id, PerformanceReport.summary).where(
            PerformanceReport.model_id == model_id,
            PerformanceReport.window_start == window_start,
            PerformanceReport.window_end == window_end,
        )
    ).first()
    return None if row is None else (int(row[0]), dict(row[1] or {}))


def save_performance_report(
    session: Session,
    *,
    model_id: int,
    window_start: datetime,
    window_end: datetime,
    task: str,
    n_predictions: int,
    n_labelled: int,
    label_coverage: float | None,
    label_delay_median_s: float | None,
    verdict: str,
    summary: Mapping[str, Any],
    metrics: Sequence[Mapping[str, Any]],
    change_points: Iterable[Mapping[str, Any]],
) -> int:
    """Insert or replace the report of one model and window; returns its id.

    ``metrics`` items have keys metric, kind, value, ci_low, ci_high, reference_value,
    p_value, verdict, details. ``change_points`` items have detector, ts, stream_index,
    details; a change point already stored for the same model, detector and time (found by an
    overlapping window) is kept as it is.
    """
    report = session.scalar(
        select(PerformanceReport).where(
            PerformanceReport.model_id == model_id,
            PerformanceReport.window_start == window_start,
            PerformanceReport.window_end == window_end,
        )
    )
    if report is None:
        report = PerformanceReport(model_id=model_id, window_start=window_start,
                                   window_end=window_end)
        session.add(report)
    else:
        session.execute(delete(PerformanceMetric).where(PerformanceMetric.report_id == report.id))
        session.execute(delete(ChangePoint).where(ChangePoint.report_id == report.id))
    report.created_at = utcnow()
    report.task = task
    report.n_predictions = n_predictions
    report.n_labelled = n_labelled
    report.label_coverage = _num(label_coverage)
    report.label_delay_median_s = _num(label_delay_median_s)
    report.verdict = verdict
    report.summary = json_safe(dict(summary))
    session.flush()
    for item in metrics:
        session.add(
            PerformanceMetric(
                report_id=report.id,
                metric=item["metric"],
                kind=item.get("kind", "realised"),
                value=_num(item.get("value")),
                ci_low=_num(item.get("ci_low")),
                ci_high=_num(item.get("ci_high")),
                reference_value=_num(item.get("reference_value")),
                p_value=_num(item.get("p_value")),
                verdict=item["verdict"],
                details=json_safe(dict(item.get("details", {}))),
            )
        )
    for cp in change_points:
        taken = session.scalar(
            select(ChangePoint.id).where(
                ChangePoint.model_id == model_id,
                ChangePoint.detector == cp["detector"],
                ChangePoint.ts == cp["ts"],
            )
        )
        if taken is None:
            session.add(
                ChangePoint(
                    model_id=model_id,
                    report_id=report.id,
                    detector=cp["detector"],
                    ts=cp["ts"],
                    stream_index=int(cp["stream_index"]),
                    details=json_safe(dict(cp.get("details", {}))),
                )
            )
    session.flush()
    return int(report.id)

"""Persist reference profiles and drift reports.

* A reference profile is one ``reference_profiles`` row per (model, kind) that is active:
  saving a new one deactivates the previous one in the same transaction. The JSON part goes to
  ``profile``, the numeric CDF arrays to ``arrays`` (an ``.npz`` blob, no pickle).
* A drift report is one ``drift_reports`` row per (model, kind, window) - the table's unique
  key - plus one ``drift_feature_results`` row per (feature, statistic). Saving a report for a
  window that already has one replaces it (same row id, feature rows rewritten), so a job that
  runs twice for a window never duplicates it.

All functions take a :class:`~sqlalchemy.orm.Session` inside the caller's transaction.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from lifecycle.drift.profile import ReferenceProfile
from lifecycle.drift.report import DriftReport
from lifecycle.storage.tables import DriftFeatureResult, DriftReportRow, ReferenceProfileRow
from lifecycle.storage.types import utcnow

__all__ = [
    "ProfileRecord",
    "load_active_profiles",
    "save_profile",
    "save_report",
]

ProfileRecord = tuple[int, ReferenceProfile]


def save_profile(
    session: Session,
    model_id: int,
    profile: ReferenceProfile,
    *,
    kind: str = "data",
    source: str,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Store ``profile`` as the active reference of ``kind`` for the model; returns its id.

    ``now`` is the row's ``created_at`` (default: the wall clock)."""
    doc, blob = profile.to_payload()
    session.execute(
        update(ReferenceProfileRow)
        .where(ReferenceProfileRow.model_id == model_id, ReferenceProfileRow.kind == kind,
               ReferenceProfileRow.is_active.is_(True))
        .values(is_active=False)
    )
    row = ReferenceProfileRow(
        model_id=model_id,
        kind=kind,
        created_at=now or utcnow(),
        source=source,
        n_rows=profile.n_rows,
        digest=profile.digest(),
        is_active=True,
        window_start=window_start,
        window_end=window_end,
        profile=doc,
        arrays=blob,
    )
    session.add(row)
    session.flush()
    return int(row.id)


def load_active_profiles(session: Session, model_id: int) -> dict[str, ProfileRecord]:
    """Active profiles of the model by kind (``data``, ``prediction``, ``label``)."""
    rows = session.scalars(
        select(ReferenceProfileRow)
        .where(ReferenceProfileRow.model_id == model_id, ReferenceProfileRow.is_active.is_(True))
        .order_by(ReferenceProfileRow.created_at, ReferenceProfileRow.id)
    ).all()
    return {r.kind: (int(r.id), ReferenceProfile.from_payload(r.profile, r.arrays)) for r in rows}


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _summary(report: DriftReport, extra: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "drifted": [f.feature for f in report.features if f.verdict == "drift"],
        "warning": [f.feature for f in report.features if f.verdict == "warning"],
        "insufficient_data": [
            f.feature for f in report.features if f.verdict == "insufficient_data"
        ],
        "reasons": {f.feature: list(f.reasons) for f in report.features if f.reasons},
        "unseen_categories": {
            f.feature: [list(t) for t in f.unseen_categories[:20]]
            for f in report.features if f.unseen_categories
        },
        "path": report.path,
        "rank_error": report.rank_error,
        **(extra or {}),
    }


def save_report(
    session: Session,
    model_id: int,
    report: DriftReport,
    *,
    window_start: datetime,
    window_end: datetime,
    reference_id: int | None,
    extra_summary: dict[str, Any] | None = None,
) -> int:
    """Insert or replace the report of (model, ``report.kind``, window); returns its id."""
    existing = session.scalar(
        select(DriftReportRow).where(
            DriftReportRow.model_id == model_id, DriftReportRow.kind == report.kind,
            DriftReportRow.window_start == window_start, DriftReportRow.window_end == window_end,
        )
    )
    values: dict[str, Any] = {
        "reference_id": reference_id,
        "created_at": utcnow(),
        "n_reference": report.n_reference,
        "n_current": report.n_current,
        "verdict": report.verdict,
        "drift_share": report.drift_share,
        "n_features": report.n_features,
        "n_drifted": report.n_drifted,
        "policy": dict(report.policy),
        "summary": _summary(report, extra_summary),
    }
    if existing is None:
        row = DriftReportRow(model_id=model_id, kind=report.kind, window_start=window_start,
                          window_end=window_end, **values)
        session.add(row)
        session.flush()
        report_id = int(row.id)
    else:
        for key, value in values.items():
            setattr(existing, key, value)
        report_id = int(existing.id)
        session.execute(delete(DriftFeatureResult).where(DriftFeatureResult.report_id ==
                                                         report_id))
    rows: list[dict[str, Any]] = []
    for f in report.features:
        for s in f.statistics:
            details = s.to_dict()
            details["deciding"] = s.name in f.deciding
            details["feature_reasons"] = list(f.reasons)
            if f.importance is not None:
                details["importance"] = f.importance
            rows.append({
                "report_id": report_id,
                "feature": f.feature,
                "feature_type": f.kind,
                "statistic_name": s.name,
                "statistic": _num(s.statistic),
                "p_value": _num(s.p_value),
                "p_adjusted": _num(s.p_adjusted),
                "threshold": _num(s.drift_threshold),
                "verdict": f.verdict,
                "missing_share_reference": _num(f.missing_share_reference),
                "missing_share_current": _num(f.missing_share_current),
                "out_of_range_share": _num(f.out_of_range_share),
                "unseen_share": _num(f.unseen_share),
                "details": details,
            })
    if rows:
        session.execute(insert(DriftFeatureResult), rows)
    return report_id

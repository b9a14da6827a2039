"""Persisting alert decisions: dedup by ``alerts.open_key``, cooldown, resolve, acknowledge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lifecycle.alerts.policy import (
    ESCALATED,
    OPENED,
    REOPENED,
    RESOLVED,
    SEVERITY_RANK,
    UPDATED,
    AlertChange,
    Decision,
    open_key,
)
from lifecycle.errors import LifecycleError
from lifecycle.storage.tables import Alert, AuditEvent, ModelRow


class AlertStateError(LifecycleError, ValueError):
    """The alert cannot change to the requested state (e.g. acknowledging a resolved alert)."""


def _change(alert: Alert, model: str, action: str) -> AlertChange:
    return AlertChange(
        alert_id=alert.id, model=model, kind=alert.kind, feature=alert.feature,
        severity=alert.severity, status=alert.status, action=action, message=alert.message,
        occurrences=alert.occurrences, details=dict(alert.details or {}),
    )


def apply_decision(
    session: Session,
    model: ModelRow,
    *,
    kind: str,
    feature: str | None,
    decision: Decision,
    now: datetime,
    cooldown_s: float,
    window_key: str,
    message: str,
    report_id: int | None,
    details: dict[str, Any],
) -> AlertChange | None:
    """Open, update, reopen or resolve the live alert of (model, kind, feature).

    Must run inside a transaction; concurrent openers race on the unique ``open_key`` and the
    loser (IntegrityError inside a SAVEPOINT) updates the winner's row instead.
    """
    key = open_key(model.id, kind, feature)
    live = session.scalar(select(Alert).where(Alert.open_key == key).with_for_update())
    if decision.fire:
        severity = decision.severity or "warning"
        if live is not None:
            return _bump(live, model.name, severity, now, window_key, message, report_id)
        recent = session.scalar(
            select(Alert)
            .where(Alert.model_id == model.id, Alert.kind == kind,
                   Alert.feature.is_(None) if feature is None else Alert.feature == feature,
                   Alert.status == "resolved")
            .order_by(Alert.resolved_at.desc()).limit(1)
        )
        if (recent is not None and recent.resolved_at is not None
                and (now - recent.resolved_at).total_seconds() < cooldown_s):
            recent.status, recent.open_key, recent.resolved_at = "open", key, None
            recent.details = {**(recent.details or {}),
                              "reopened": int((recent.details or {}).get("reopened", 0)) + 1}
            change = _bump(recent, model.name, severity, now, window_key, message, report_id)
            session.flush()
            return AlertChange(**{**change.__dict__, "action": REOPENED})
        alert = Alert(
            model_id=model.id, kind=kind, feature=feature, severity=severity, status="open",
            open_key=key, message=message, first_seen=now, last_seen=now, occurrences=1,
            source_report_id=report_id,
            details={**details, "last_window": window_key, "first_window": window_key},
        )
        try:
            with session.begin_nested():
                session.add(alert)
        except IntegrityError:
            live = session.scalar(select(Alert).where(Alert.open_key == key))
            if live is None:
                raise
            return _bump(live, model.name, severity, now, window_key, message, report_id)
        return _change(alert, model.name, OPENED)
    if decision.clear and live is not None:
        live.status, live.open_key, live.resolved_at = "resolved", None, now
        live.last_seen = max(live.last_seen, now)
        live.details = {**(live.details or {}), "resolved_window": window_key}
        session.flush()
        return _change(live, model.name, RESOLVED)
    return None


def _bump(alert: Alert, model: str, severity: str, now: datetime, window_key: str,
          message: str, report_id: int | None) -> AlertChange:
    action = UPDATED
    details = dict(alert.details or {})
    if details.get("last_window") != window_key:  # a rerun of the same window counts once
        alert.occurrences += 1
        details["last_window"] = window_key
    if SEVERITY_RANK.get(severity, 1) > SEVERITY_RANK.get(alert.severity, 1):
        alert.severity = severity
        action = ESCALATED
    alert.details = details
    alert.last_seen = max(alert.last_seen, now)
    alert.message = message
    alert.source_report_id = report_id
    return _change(alert, model, action)


def acknowledge(session: Session, alert_id: int, *, actor: str, now: datetime) -> Alert:
    """Acknowledge an open alert and write an audit row. Stays deduplicated until resolved."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertStateError(f"no alert with id {alert_id}; list them with `lifecycle alerts`")
    if alert.status != "open":
        raise AlertStateError(
            f"alert {alert_id} is {alert.status}, only open alerts can be acknowledged"
        )
    alert.status, alert.acknowledged_by, alert.acknowledged_at = "acknowledged", actor, now
    session.add(AuditEvent(ts=now, actor=actor, action="alert.acknowledge",
                           model_id=alert.model_id, target=f"alert:{alert_id}",
                           details={"kind": alert.kind, "feature": alert.feature,
                                    "severity": alert.severity}))
    session.flush()
    return alert

"""Audit rows: who changed what, when (``audit_events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.storage.tables import AuditEvent, ModelRow


def record_audit(session: Session, *, actor: str, action: str, target: str | None,
                 now: datetime, model: str | None = None,
                 details: dict[str, Any] | None = None) -> AuditEvent:
    """Add one ``audit_events`` row; ``model`` is a model name (its row, when it has one)."""
    model_id = None
    if model is not None:
        model_id = session.scalar(select(ModelRow.id).where(ModelRow.name == model))
    event = AuditEvent(ts=now, actor=actor, action=action, model_id=model_id, target=target,
                       details=details or {})
    session.add(event)
    return event


__all__ = ["record_audit"]

"""``audit_events``: one row per state-changing action, whoever took it (CLI, dashboard,
scheduler)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.storage.tables import AuditEvent, ModelRow

__all__ = ["record_audit"]


def record_audit(engine: Engine, *, actor: str, action: str, model: str | None,
                 target: str | None, details: dict[str, Any], now: datetime) -> None:
    """Write one audit row in its own transaction (the model is looked up by name; an
    unknown model leaves ``model_id`` empty)."""
    with Session(engine) as session, session.begin():
        model_id = None if model is None else session.scalar(
            select(ModelRow.id).where(ModelRow.name == model))
        session.add(AuditEvent(ts=now, actor=actor[:200], action=action, model_id=model_id,
                               target=None if target is None else target[:400],
                               details=details))

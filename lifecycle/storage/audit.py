"""Audit rows: who changed what, when (``audit_events``)."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
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


def os_actor(prefix: str) -> str:
    """``prefix:<OS user>`` (``prefix`` alone when the OS does not say): who acts when no
    actor is given (``cli:``, ``api:``)."""
    try:
        return f"{prefix}:{getpass.getuser()}"
    except (OSError, KeyError):
        return prefix


def write_audit(engine: Engine, *, actor: str, action: str, target: str | None, now: datetime,
                model: str | None = None, details: dict[str, Any] | None = None) -> None:
    """:func:`record_audit` in a transaction of its own."""
    with Session(engine) as session, session.begin():
        record_audit(session, actor=actor[:200], action=action,
                     target=None if target is None else target[:400], now=now, model=model,
                     details=details)


__all__ = ["os_actor", "record_audit", "write_audit"]

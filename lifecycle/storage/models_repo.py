"""Lookups of monitored models by name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifecycle.errors import UnknownModelError
from lifecycle.storage.tables import Model
from lifecycle.storage.types import utcnow


def get_model(session: Session, name: str) -> Model:
    """The model called ``name``; raises :class:`UnknownModelError` listing known names."""
    model = session.scalar(select(Model).where(Model.name == name))
    if model is None:
        known = session.scalars(select(Model.name).order_by(Model.name)).all()
        hint = f"known models: {', '.join(known)}" if known else "no model has logged data yet"
        raise UnknownModelError(
            f"unknown model {name!r} ({hint}); wrap a predictor with "
            f"@lifecycle.monitor({name!r}) or check the spelling"
        )
    return model


def get_or_create_model(session: Session, name: str, task: str | None = None) -> Model:
    """The model called ``name``, created if missing (safe under concurrent writers)."""
    model = session.scalar(select(Model).where(Model.name == name))
    if model is not None:
        return model
    dialect = session.get_bind().dialect.name
    values: dict[str, object] = {"name": name, "task": task, "created_at": utcnow(), "details": {}}
    if dialect == "postgresql":
        session.execute(
            pg_insert(Model).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
    else:
        session.execute(
            sqlite_insert(Model).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
    model = session.scalar(select(Model).where(Model.name == name))
    assert model is not None
    return model

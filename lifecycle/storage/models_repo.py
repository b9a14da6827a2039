"""Lookups of monitored models by name."""

from __future__ import annotations

import difflib

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifecycle.errors import UnknownModelError
from lifecycle.storage.tables import ModelRow
from lifecycle.storage.types import utcnow


def get_model(session: Session, name: str) -> ModelRow:
    """The model called ``name``; raises :class:`UnknownModelError` saying it does not exist,
    with the closest names first and the known ones."""
    model = session.scalar(select(ModelRow).where(ModelRow.name == name))
    if model is None:
        known = list(session.scalars(select(ModelRow.name).order_by(ModelRow.name)).all())
        raise UnknownModelError(unknown_model_message(name, known))
    return model


#: Known model names listed in an "unknown model" message, at most.
MAX_LISTED = 20


def unknown_model_message(name: str, known: list[str]) -> str:
    """``unknown model 'chrun' (it does not exist; did you mean 'churn'? known models: ...)``:
    close matches by :func:`difflib.get_close_matches` (similarity >= 0.6), then up to
    :data:`MAX_LISTED` known names."""
    if not known:
        hint = "it does not exist: no model has logged data yet"
    else:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        guess = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        listed = ", ".join(known[:MAX_LISTED]) + (
            f" and {len(known) - MAX_LISTED} more" if len(known) > MAX_LISTED else "")
        hint = f"it does not exist; {guess}known models: {listed}"
    return (f"unknown model {name!r} ({hint}); wrap a predictor with "
            f"@lifecycle.monitor({name!r}) or check the spelling")


def get_or_create_model(session: Session, name: str, task: str | None = None) -> ModelRow:
    """The model called ``name``, created if missing (safe under concurrent writers)."""
    model = session.scalar(select(ModelRow).where(ModelRow.name == name))
    if model is not None:
        return model
    dialect = session.get_bind().dialect.name
    values: dict[str, object] = {"name": name, "task": task, "created_at": utcnow(), "details": {}}
    if dialect == "postgresql":
        session.execute(
            pg_insert(ModelRow).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
    else:
        session.execute(
            sqlite_insert(ModelRow).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
    model = session.scalar(select(ModelRow).where(ModelRow.name == name))
    assert model is not None
    return model

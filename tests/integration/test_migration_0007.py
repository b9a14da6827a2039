"""Revision 0007 adds ``window_profiles``: unique per (model, kind, hour), rows go with their
model; downgrade drops the table and leaves the rest alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from lifecycle.storage.migrate import downgrade, upgrade

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
INSERT = text(
    "INSERT INTO window_profiles (model_id, hour_start, kind, n_rows, format, created_at, "
    "summary) VALUES (1, :h, 'data', 10, 'rollup-v1', :h, '{}')")


def _tables(engine: Engine) -> set[str]:
    engine.dispose()
    return set(inspect(engine).get_table_names())


def test_upgrade_creates_a_unique_table_and_downgrade_drops_it(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    engine = engine_for(blank_url)
    upgrade(blank_url, "0006")
    assert "window_profiles" not in _tables(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO models (id, name, created_at, details) "
                          "VALUES (1, 'm', :now, '{}')"), {"now": NOW})

    upgrade(blank_url)
    assert "window_profiles" in _tables(engine)
    with engine.begin() as conn:
        conn.execute(INSERT, {"h": NOW})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(INSERT, {"h": NOW})  # one row per model, kind and hour
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA foreign_keys=ON"))
        conn.execute(text("DELETE FROM models WHERE id = 1"))
        assert conn.execute(text("SELECT count(*) FROM window_profiles")).scalar() == 0

    downgrade(blank_url, "0006")
    tables = _tables(engine)
    assert "window_profiles" not in tables and "models" in tables

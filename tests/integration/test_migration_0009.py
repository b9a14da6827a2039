"""Revision 0009 adds ``performance_baselines`` (one cached reference per model and key, the
pair unique); downgrade drops it (a cache: nothing else is touched)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from lifecycle.storage.migrate import downgrade, upgrade

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
ROW = ("INSERT INTO performance_baselines (model_id, key, created_at, fingerprint, summary, "
       "arrays) VALUES (1, 'k', :now, '{}', '{}', :blob)")


def _tables(engine: Engine) -> set[str]:
    engine.dispose()
    return set(inspect(engine).get_table_names())


def test_upgrade_adds_the_table_and_downgrade_drops_it(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    engine = engine_for(blank_url)
    upgrade(blank_url, "0008")
    assert "performance_baselines" not in _tables(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO models (id, name, created_at, details) "
                          "VALUES (1, 'm', :now, '{}')"), {"now": NOW})

    upgrade(blank_url, "0009")
    assert "performance_baselines" in _tables(engine)
    with engine.begin() as conn:
        conn.execute(text(ROW), {"now": NOW, "blob": b"\x00npz"})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(ROW), {"now": NOW, "blob": b"again"})

    downgrade(blank_url, "0008")
    assert "performance_baselines" not in _tables(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM models")).scalar() == 1

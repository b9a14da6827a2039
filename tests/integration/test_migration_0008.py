"""Revision 0008 adds ``archive_parts`` (the Parquet archive's manifest): its state check
refuses unknown states, its URL is unique, and downgrade drops it and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from lifecycle.storage.migrate import downgrade, upgrade

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
_INSERT = text(
    "INSERT INTO archive_parts (model_id, day, url, n_rows, n_batches, size_bytes, "
    "content_sha256, batch_ids, state, created_at, updated_at, ts_min, ts_max) VALUES "
    "(1, '2026-05-01', :url, 10, 1, 100, :sha, '[]', :state, :now, :now, :now, :now)")


def _tables(engine: Engine) -> set[str]:
    engine.dispose()
    return set(inspect(engine).get_table_names())


def test_upgrade_and_downgrade(blank_url: str, engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(blank_url)
    upgrade(blank_url, "0008")
    assert "archive_parts" in _tables(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO models (id, name, created_at, details) "
                          "VALUES (1, 'm', :now, '{}')"), {"now": NOW})
        conn.execute(_INSERT, {"url": "/a/p1", "sha": "0" * 64, "state": "written", "now": NOW})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(_INSERT, {"url": "/a/p2", "sha": "0" * 64, "state": "halfway", "now": NOW})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(_INSERT, {"url": "/a/p1", "sha": "0" * 64, "state": "written", "now": NOW})
    before = _tables(engine)
    downgrade(blank_url, "0007")
    assert _tables(engine) == before - {"archive_parts"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM models")).scalar() == 1

"""Revision 0006 adds lineage columns to ``retrain_runs``: a row written before it keeps its
values and reads actor ``scheduler`` and empty details; the status check refuses unknown
statuses; downgrade drops the columns and keeps the row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from lifecycle.storage.migrate import downgrade, upgrade

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
NEW = {"request_id", "performance_report_id", "champion_version", "actor", "reason", "details"}


def _columns(engine: Engine) -> set[str]:
    engine.dispose()
    return {c["name"] for c in inspect(engine).get_columns("retrain_runs")}


def test_upgrade_keeps_rows_and_checks_status(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    engine = engine_for(blank_url)
    upgrade(blank_url, "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO models (id, name, created_at, details) "
                          "VALUES (1, 'm', :now, '{}')"), {"now": NOW})
        conn.execute(text(
            "INSERT INTO retrain_runs (id, model_id, trigger, status, started_at, metrics) "
            "VALUES (1, 1, 'manual', 'done', :now, '{}')"), {"now": NOW})
    assert not NEW & _columns(engine)

    upgrade(blank_url)
    assert NEW <= _columns(engine)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT trigger, status, actor, details FROM retrain_runs")).one()
    assert row[:3] == ("manual", "done", "scheduler")
    assert row[3] in ({}, "{}")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO retrain_runs (model_id, trigger, status, started_at, metrics) "
            "VALUES (1, 'manual', 'halfway', :now, '{}')"), {"now": NOW})

    downgrade(blank_url, "0005")
    assert not NEW & _columns(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM retrain_runs")).scalar() == 1

"""Capture fixtures: a configured runtime writing to a real database, reset around each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from lifecycle.capture import runtime
from lifecycle.monitor import configure

FAST = {"flush_interval_s": 0.02, "db_timeout_s": 1.0, "shutdown_timeout_s": 5.0,
        "handle_sigterm": False}


@pytest.fixture
def capture_to(tmp_home: Path, tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``capture_to(url, **overrides)`` configures capture into ``url``; returns the spill dir."""
    spill = tmp_path / "spill"

    def setup(url: str, **overrides: Any) -> Path:
        configure(database_url=url, spill_dir=str(spill), **{**FAST, **overrides})
        return spill

    yield setup
    runtime.reset()


def _count_rows(engine: Engine, model: str | None = None) -> tuple[int, int]:
    """(rows, distinct prediction ids) in ``predictions`` (optionally for one model)."""
    sql = "SELECT COUNT(*), COUNT(DISTINCT p.prediction_id) FROM predictions p"
    params: dict[str, Any] = {}
    if model is not None:
        sql += " JOIN models m ON m.id = p.model_id WHERE m.name = :m"
        params["m"] = model
    with engine.connect() as conn:
        total, distinct = conn.execute(text(sql), params).one()
    return int(total), int(distinct)


@pytest.fixture
def count_rows() -> Callable[..., tuple[int, int]]:
    """``count_rows(engine, model=None)`` -> (rows, distinct prediction ids)."""
    return _count_rows

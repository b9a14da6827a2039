"""Capture fixtures: a configured runtime writing to a real database, reset around each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from lifecycle.capture import runtime
from lifecycle.capture.monitor import configure
from lifecycle.storage.capture_repo import logged_keys
from lifecycle.storage.codec import decode_table

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
    """(stored predictions, distinct prediction ids), optionally for one model.

    Predictions are read where they live, the batch blobs; the key table (ranges expanded) and
    the batches' row counts must agree with them (a batch and its keys share one transaction).
    """
    where, params = "", {}
    if model is not None:
        where = " WHERE model_id = (SELECT id FROM models WHERE name = :m)"
        params["m"] = model
    with engine.connect() as conn:
        blobs = conn.execute(text(f"SELECT outputs, n_rows FROM prediction_batches{where}"),
                             params).all()
        model_id = (conn.execute(text("SELECT id FROM models WHERE name = :m"), params).scalar()
                    if model is not None else None)
        keys = 0 if model is not None and model_id is None else len(logged_keys(conn, model_id))
    ids: list[str] = []
    for blob, n_rows in blobs:
        batch_ids = decode_table(bytes(blob)).column("_prediction_id").to_pylist()
        assert len(batch_ids) == n_rows
        ids.extend(batch_ids)
    assert keys == len(ids), f"{keys} keys for {len(ids)} stored predictions"
    return len(ids), len(set(ids))


@pytest.fixture
def count_rows() -> Callable[..., tuple[int, int]]:
    """``count_rows(engine, model=None)`` -> (rows, distinct prediction ids)."""
    return _count_rows

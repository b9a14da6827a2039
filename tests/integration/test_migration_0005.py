"""Revision 0005 adds ``traffic_hourly.n_calls`` and ``call_latency_sum_ms``: rows written
before it read as "calls not counted" (0), new batches count their calls, and downgrade drops
the columns without touching the row counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, inspect, text

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.storage.capture_repo import write_batch
from lifecycle.storage.migrate import downgrade, upgrade

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
OLD_HOUR = datetime(2026, 5, 1, 9, tzinfo=UTC)
WALL = datetime(2026, 5, 1, 11, 30, tzinfo=UTC).timestamp()


def _columns(engine: Engine) -> list[str]:
    engine.dispose()  # a fresh connection sees the migrated schema
    return [c["name"] for c in inspect(engine).get_columns("traffic_hourly")]


def _rows(engine: Engine, columns: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            f"SELECT {columns} FROM traffic_hourly ORDER BY bucket_start"))]


def test_upgrade_counts_new_calls_and_downgrade_keeps_rows(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    engine = engine_for(blank_url)
    upgrade(blank_url, "0004")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO models (id, name, created_at, details) "
                          "VALUES (1, 'm', :now, '{}')"), {"now": NOW})
        conn.execute(text(
            "INSERT INTO traffic_hourly (model_id, bucket_start, role, model_version, "
            "n_predictions, latency_sum_ms, latency_max_ms) "
            "VALUES (1, :h, 'unmanaged', '', 7, 70.0, 10.0)"), {"h": OLD_HOUR})
    assert "n_calls" not in _columns(engine)

    upgrade(blank_url)
    assert {"n_calls", "call_latency_sum_ms"} <= set(_columns(engine))
    assert _rows(engine, "n_predictions, n_calls, call_latency_sum_ms") == [(7, 0, 0.0)]
    spec = CaptureSpec(name="m")
    batch = encode(build_batch(
        [(spec, np.zeros((4, 1)), np.zeros(4), WALL, 0.005, 1, "call", None),
         (spec, np.zeros((1, 1)), np.zeros(1), WALL + 1, 0.002, 2, "call", None)],
        lambda k, m: None))
    with engine.begin() as conn:
        assert write_batch(conn, 1, batch)
    assert _rows(engine, "n_predictions, n_calls, call_latency_sum_ms") == [
        (7, 0, 0.0), (5, 2, 7.0)]

    downgrade(blank_url, "0004")
    assert "n_calls" not in _columns(engine)
    assert _rows(engine, "n_predictions, latency_sum_ms") == [(7, 70.0), (5, 22.0)]
    upgrade(blank_url)
    assert _rows(engine, "n_predictions, n_calls") == [(7, 0), (5, 0)]

"""``traffic_hourly`` gets exactly the counts and latencies of the written batches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import Engine, select

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.storage.capture_repo import model_id_for, write_batch
from lifecycle.storage.tables import TrafficHourly

HOUR = 3600.0
T0 = datetime(2026, 3, 1, 10, tzinfo=UTC).timestamp()


def _rec(spec: CaptureSpec, rows: int, wall: float, latency_s: float) -> tuple[object, ...]:
    return (spec, np.zeros((rows, 2)), np.zeros(rows), wall, latency_s, 1, "call", None)


def _traffic(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(
            TrafficHourly.bucket_start, TrafficHourly.role, TrafficHourly.model_version,
            TrafficHourly.n_predictions, TrafficHourly.latency_sum_ms,
            TrafficHourly.latency_max_ms,
        ).order_by(TrafficHourly.bucket_start, TrafficHourly.model_version)).all()
    return [tuple(r) for r in rows]


def test_one_group_and_many_groups(db_url: str, engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    v1, v2 = CaptureSpec(name="t", version="1"), CaptureSpec(name="t", version="2")
    single = encode(build_batch([_rec(v1, 3, T0 + 60, 0.002), _rec(v1, 2, T0 + 120, 0.004)],
                                lambda k, m: None))
    mixed = encode(build_batch([_rec(v1, 1, T0 + 30, 0.010), _rec(v2, 4, T0 + 90, 0.001),
                                _rec(v1, 2, T0 + HOUR + 5, 0.003)], lambda k, m: None))
    with engine.begin() as conn:
        mid = model_id_for(conn, "t")
        assert write_batch(conn, mid, single) and write_batch(conn, mid, mixed)
    h0 = datetime.fromtimestamp(T0, UTC)
    h1 = datetime.fromtimestamp(T0 + HOUR, UTC)
    assert _traffic(engine) == [
        (h0, "unmanaged", "1", 6, pytest.approx(3 * 2 + 2 * 4 + 10.0), pytest.approx(10.0)),
        (h0, "unmanaged", "2", 4, pytest.approx(4 * 1.0), pytest.approx(1.0)),
        (h1, "unmanaged", "1", 2, pytest.approx(2 * 3.0), pytest.approx(3.0)),
    ]

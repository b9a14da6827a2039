"""``traffic_hourly`` counts calls (revision 0004): ``n_calls`` and the latency of each call
counted once, so the dashboard can show latency per call and model time per prediction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import Engine, select

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.storage.capture_repo import call_starts, model_id_for, write_batch, write_batches
from lifecycle.storage.tables import TrafficHourly

HOUR = 3600.0
T0 = datetime(2026, 3, 1, 10, tzinfo=UTC).timestamp()


def _rec(spec: CaptureSpec, rows: int, wall: float, latency_s: float,
         rand: int = 1) -> tuple[object, ...]:
    return (spec, np.zeros((rows, 2)), np.zeros(rows), wall, latency_s, rand, "call", None)


def _calls(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(
            TrafficHourly.model_version, TrafficHourly.n_predictions, TrafficHourly.n_calls,
            TrafficHourly.call_latency_sum_ms, TrafficHourly.latency_sum_ms,
        ).order_by(TrafficHourly.bucket_start, TrafficHourly.model_version)).all()
    return [tuple(r) for r in rows]


def test_one_big_call_counts_once(db_url: str, engine_for: Callable[[str], Engine]) -> None:
    """A 200,000-row call of 900 ms and ten 1-row calls of 10 ms: per call the mean is
    (900 + 10 * 10) / 11 ms, per prediction (900 + 100) / 200,010 ms; the row-weighted
    sum that the Overview used to divide is 200,000 * 900 + 100 ms."""
    engine = engine_for(db_url)
    spec = CaptureSpec(name="t", version="1")
    records = [_rec(spec, 200_000, T0 + 1, 0.9)]
    records += [_rec(spec, 1, T0 + 2 + i, 0.010, rand=i + 2) for i in range(10)]
    with engine.begin() as conn:
        assert write_batch(conn, model_id_for(conn, "t"), encode(build_batch(
            records, lambda k, m: None)))
    [(version, n, calls, call_ms, row_ms)] = _calls(engine)
    assert (version, n, calls) == ("1", 200_010, 11)
    assert call_ms == pytest.approx(1000.0)
    assert row_ms == pytest.approx(200_000 * 900.0 + 100.0)
    assert call_ms / calls == pytest.approx(1000.0 / 11)


def test_groups_and_replayed_batches_add_up(db_url: str,
                                            engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    v1, v2 = CaptureSpec(name="t", version="1"), CaptureSpec(name="t", version="2")
    single = encode(build_batch([_rec(v1, 3, T0 + 60, 0.002), _rec(v1, 2, T0 + 120, 0.004)],
                                lambda k, m: None))
    mixed = encode(build_batch([_rec(v1, 1, T0 + 30, 0.010), _rec(v2, 4, T0 + 90, 0.001),
                                _rec(v1, 2, T0 + HOUR + 5, 0.003)], lambda k, m: None))
    with engine.begin() as conn:
        mid = model_id_for(conn, "t")
        assert write_batches(conn, [(mid, single), (mid, mixed)]) == [True, True]
        assert write_batches(conn, [(mid, single)]) == [False]  # a replay adds nothing
    assert _calls(engine) == [
        ("1", 6, 3, pytest.approx(2.0 + 4.0 + 10.0), pytest.approx(3 * 2 + 2 * 4 + 10.0)),
        ("2", 4, 1, pytest.approx(1.0), pytest.approx(4.0)),
        ("1", 2, 1, pytest.approx(3.0), pytest.approx(6.0)),
    ]


def test_call_starts_by_id_prefix_and_fallback() -> None:
    prefix_a, prefix_b = "a" * 24, "b" * 24
    ids = pa.array([f"{prefix_a}{i:08x}" for i in range(3)] + [f"{prefix_b}{0:08x}"])
    same = np.zeros(4, dtype=np.int64)
    assert call_starts(ids, same, np.zeros(4)).tolist() == [True, False, False, True]
    # ids of another shape: a call is a run of rows with one timestamp and one latency
    other = pa.array(["k1", "k2", "k3", "k4"])
    ts = np.array([5, 5, 6, 6])
    lat = np.array([1.0, 1.0, 1.0, 2.0])
    assert call_starts(other, ts, lat).tolist() == [True, False, True, True]
    assert call_starts(pa.array(["x"]), np.array([1]), np.array([1.0])).tolist() == [True]

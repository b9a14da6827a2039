"""Revision 0003 adds ``prediction_keys.last_key`` (key ranges); downgrade expands every range
back into one row per key, so no logged key is lost either way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, inspect, text

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec, ids_of
from lifecycle.storage.capture_repo import (
    OutcomeRow,
    logged_keys,
    upsert_outcomes,
    write_batches,
)
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.migrate import downgrade, upgrade

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
WALL = datetime(2026, 5, 1, 11, tzinfo=UTC).timestamp()
OLD_PREFIX = "019de2a1b2c3d4e5f6a7b8c9"  # a pre-0003 call: three ids, one row each
OLD_KEYS = ["customer-17", *(f"{OLD_PREFIX}{i:08x}" for i in range(3))]


def _fail(kind: str, message: str) -> None:
    raise AssertionError(f"{kind}: {message}")


def _columns(engine: Engine) -> list[str]:
    engine.dispose()  # a fresh connection sees the migrated schema
    return [c["name"] for c in inspect(engine).get_columns("prediction_keys")]


def _key_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM prediction_keys ORDER BY join_key"))
        return [tuple(r) for r in rows]


def _index(engine: Engine) -> list[tuple[str | None, list[str | None]]]:
    return [(ix["name"], ix["column_names"]) for ix in inspect(engine).get_indexes(
        "prediction_keys")]


def test_upgrade_keeps_points_and_downgrade_expands_ranges(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    engine = engine_for(blank_url)
    upgrade(blank_url, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO models (id, name, created_at, details) "
                          "VALUES (1, 'm', :now, '{}')"), {"now": NOW})
        for key in OLD_KEYS:
            conn.execute(text("INSERT INTO prediction_keys (model_id, join_key) "
                              "VALUES (1, :k)"), {"k": key})
    assert _columns(engine) == ["model_id", "join_key"]
    index_0002 = _index(engine)
    assert index_0002 == [("ix_prediction_keys_model_id_join_key", ["model_id", "join_key"])]

    upgrade(blank_url)
    assert _columns(engine) == ["model_id", "join_key", "last_key"]
    assert _key_rows(engine) == [(1, key, None) for key in sorted(OLD_KEYS)]
    with engine.connect() as conn:
        assert sorted(logged_keys(conn)) == sorted(OLD_KEYS)
    # old per-row keys are points: each is logged, a neighbour that was never logged is not
    with engine.begin() as conn:
        upsert_outcomes(conn, 1, [OutcomeRow(k, '"a"', None, NOW) for k in
                                  [OLD_KEYS[0], OLD_KEYS[2], f"{OLD_PREFIX}{3:08x}"]],
                        received_at=NOW)
    window = load_labelled_window(engine, "m", None, None, as_of=NOW)
    assert window.n_orphan_outcomes == 1

    spec = CaptureSpec(name="m", version="1", role="champion")
    records = [(spec, np.ones((4, 2)), np.tile([0.4, 0.6], (4, 1)), WALL, 0.002,
                0x0A0B0C0D0E0F, "predict_proba", None),
               (spec, np.ones((1, 2)), np.array([[0.9, 0.1]]), WALL + 1, 0.002,
                0x123456789ABC, "predict_proba", None)]
    new_ids = ids_of(records[0]) + ids_of(records[1])
    with engine.begin() as conn:
        batch = encode(build_batch(records, _fail), "e" * 32)
        assert write_batches(conn, [(1, batch)]) == [True]
    new_rows = [r for r in _key_rows(engine) if r[1] in new_ids]
    assert new_rows == [(1, new_ids[0], new_ids[3]), (1, new_ids[4], None)]

    downgrade(blank_url, "0002")
    everything = sorted(OLD_KEYS + new_ids)
    assert _columns(engine) == ["model_id", "join_key"]
    assert _key_rows(engine) == [(1, key) for key in everything]  # one row per key
    assert _index(engine) == index_0002

    upgrade(blank_url)
    assert _columns(engine) == ["model_id", "join_key", "last_key"]
    assert _key_rows(engine) == [(1, key, None) for key in everything]
    with engine.connect() as conn:
        assert sorted(logged_keys(conn)) == everything

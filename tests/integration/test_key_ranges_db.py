"""Join keys stored as ranges: one ``prediction_keys`` row per call, exact orphan counting.

Real batches go through ``write_batches`` (SQLite ``json_each`` inserts, PostgreSQL ``COPY``);
the stored rows, their expansion by ``logged_keys`` and the orphan count of
``load_labelled_window`` are checked against the keys the batches really carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec, ids_of
from lifecycle.storage.capture_repo import (
    OutcomeRow,
    StoredBatch,
    logged_keys,
    model_id_for,
    upsert_outcomes,
    write_batches,
)
from lifecycle.storage.codec import decode_table
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.tables import prediction_keys

W = datetime(2026, 3, 1, 10, tzinfo=UTC).timestamp()
RECEIVED = datetime(2026, 3, 2, tzinfo=UTC)
AS_OF = datetime(2026, 3, 3, tzinfo=UTC)
QUOTED = 'c,"4"\\'  # a comma, quotes and a backslash: CSV (COPY) and JSON escaping


def _fail(kind: str, message: str) -> None:
    raise AssertionError(f"{kind}: {message}")


def _rec(spec: CaptureSpec, inputs: object, rows: int, wall: float, rand48: int) -> tuple:
    outputs = np.tile([0.3, 0.7], (rows, 1))
    return (spec, inputs, outputs, wall, 0.002, rand48, "predict_proba", None)


@dataclass
class Logged:
    ids: dict[str, list[str]]  # call name -> its prediction ids
    batches: list[StoredBatch]
    models: dict[str, int]


def _log(engine: Engine) -> Logged:
    plain = CaptureSpec(name="plain", role="champion")
    keyed = CaptureSpec(name="keyed", role="champion", id_column="customer")
    other = CaptureSpec(name="other", role="champion")
    calls = {
        "one": _rec(plain, np.ones((1, 2)), 1, W, 0x111111111111),
        "big": _rec(plain, np.arange(2000.0).reshape(1000, 2), 1000, W + 1, 0xABCDEF012345),
        "three": _rec(plain, np.ones((3, 2)), 3, W + 2, 0x333333333333),
        "keyed": _rec(keyed, pd.DataFrame({"customer": ["c-1", None, None, QUOTED, None],
                                           "x": [1.0, 2.0, 3.0, 4.0, 5.0]}), 5, W + 3, 0x444),
        "other": _rec(other, np.ones((5, 2)), 5, W + 4, 0x555555555555),
    }
    batches = [encode(build_batch([calls["one"], calls["big"]], _fail), "a" * 32),
               encode(build_batch([calls["keyed"]], _fail), "b" * 32),
               encode(build_batch([calls["other"]], _fail), "c" * 32),
               encode(build_batch([calls["three"]], _fail), "d" * 32)]
    with engine.begin() as conn:
        models = {name: model_id_for(conn, name) for name in ("plain", "keyed", "other")}
        items = list(zip([models[m] for m in ("plain", "keyed", "other", "plain")], batches,
                         strict=True))
        assert write_batches(conn, items) == [True] * 4
    return Logged({name: ids_of(rec) for name, rec in calls.items()}, batches, models)


def _rows(engine: Engine, model_id: int) -> set[tuple[str, str | None]]:
    k = prediction_keys.c
    with engine.connect() as conn:
        rows = conn.execute(select(k.join_key, k.last_key).where(k.model_id == model_id))
        return {(first, last) for first, last in rows}


def _outcomes(engine: Engine, model_id: int, keys: list[str]) -> None:
    with engine.begin() as conn:
        upsert_outcomes(conn, model_id, [OutcomeRow(key, json.dumps("1"), None, RECEIVED)
                                         for key in keys], received_at=RECEIVED)


def test_a_call_is_one_key_row_and_other_keys_are_points(engine: Engine) -> None:
    logged = _log(engine)
    big, keyed = logged.ids["big"], logged.ids["keyed"]
    assert _rows(engine, logged.models["plain"]) == {
        (big[0], big[-1]),  # 1,000 predictions, ONE row
        (logged.ids["one"][0], None),  # a run of one is a point
        (logged.ids["three"][0], logged.ids["three"][2]),
    }
    # id_column values are points; the two adjacent None rows fall back to consecutive ids
    assert _rows(engine, logged.models["keyed"]) == {
        ("c-1", None), (keyed[1], keyed[2]), (QUOTED, None), (keyed[4], None)}
    assert _rows(engine, logged.models["other"]) == {(logged.ids["other"][0],
                                                      logged.ids["other"][4])}
    # replaying the same batches writes nothing (no duplicate key rows)
    with engine.begin() as conn:
        items = [(logged.models["plain"], logged.batches[0])]
        assert write_batches(conn, items) == [False]
    assert len(_rows(engine, logged.models["plain"])) == 3


def test_logged_keys_expand_to_exactly_the_batch_keys(engine: Engine) -> None:
    logged = _log(engine)
    batch_keys = [k for b in logged.batches
                  for k in decode_table(b.outputs_blob).column("_join_key").to_pylist()]
    assert len(batch_keys) == 1 + 1000 + 5 + 5 + 3
    with engine.connect() as conn:
        assert sorted(logged_keys(conn)) == sorted(batch_keys)
        plain = logged_keys(conn, logged.models["plain"])
        keyed = logged_keys(conn, logged.models["keyed"])
    assert sorted(plain) == sorted(logged.ids["one"] + logged.ids["big"] + logged.ids["three"])
    ids = logged.ids["keyed"]
    assert sorted(keyed) == sorted(["c-1", ids[1], ids[2], QUOTED, ids[4]])


def test_orphan_outcomes_are_counted_exactly(engine: Engine) -> None:
    logged = _log(engine)
    big, three = logged.ids["big"], logged.ids["three"]
    labelled = [big[0], big[500], big[-1], logged.ids["one"][0]]
    between = f"{(int(big[-1], 16) + int(three[0], 16)) // 2:032x}"
    assert big[-1] < between < three[0] and between[:24] not in (big[0][:24], three[0][:24])
    assert big[0].upper() != big[0]
    orphans = [
        big[0][:24] + f"{1000:08x}",  # one past the range's last id
        big[0] + "0",  # 33 chars: sorts inside the range, only the id-shape check rejects it
        big[0].upper(),  # keys are case-sensitive (byte collation)
        between,  # between two calls: the row found before it is a range that ends earlier
        logged.ids["other"][2],  # inside ANOTHER model's range: the model filter rejects it
        "not-a-key",
    ]
    _outcomes(engine, logged.models["plain"], labelled + orphans)
    window = load_labelled_window(engine, "plain", None, None, as_of=AS_OF)
    assert window.n_orphan_outcomes == len(orphans) == 6
    assert window.n_predictions == 1004 and window.n_labelled == 4
    assert window.coverage == pytest.approx(4 / 1004)
    assert sorted(window.labelled["join_key"]) == sorted(labelled)
    assert set(window.labelled["label"]) == {"1"}
    # the as_of cut-off applies to orphans too
    before = load_labelled_window(engine, "plain", None, None,
                                  as_of=RECEIVED - timedelta(seconds=1))
    assert (before.n_orphan_outcomes, before.n_labelled) == (0, 0)


def test_id_column_keys_and_fallback_ids_are_not_orphans(engine: Engine) -> None:
    logged = _log(engine)
    ids = logged.ids["keyed"]
    labelled = ["c-1", QUOTED, ids[2], ids[4]]  # ids[2]: end of a fallback range
    orphans = ["c-2", ids[3], logged.ids["big"][7]]  # ids[3] was replaced by QUOTED
    _outcomes(engine, logged.models["keyed"], labelled + orphans)
    window = load_labelled_window(engine, "keyed", None, None, as_of=AS_OF)
    assert window.n_orphan_outcomes == 3
    assert (window.n_predictions, window.n_labelled) == (5, 4)
    assert sorted(window.labelled["join_key"]) == sorted(labelled)


def test_a_non_hex_tail_inside_a_range_is_an_orphan(engine: Engine) -> None:
    logged = _log(engine)
    prefix = logged.ids["big"][0][:24]
    _outcomes(engine, logged.models["plain"], [prefix + "000001A0", prefix + "000001g0"])
    window = load_labelled_window(engine, "plain", None, None, as_of=AS_OF)
    assert window.n_labelled == 0  # no prediction has these keys...
    assert window.n_orphan_outcomes == 2  # ...so they are orphans


def test_id_column_values_shaped_like_ids_are_a_range_and_escaped(engine: Engine) -> None:
    # 32 characters, a shared 24-character prefix with a quote in it, consecutive hex tails:
    # stored as one range, whose JSON text (SQLite) or CSV (COPY) must escape the quote
    spec = CaptureSpec(name="shaped", role="champion", id_column="order")
    prefix = 'ord"' + "x" * 20
    orders = [f"{prefix}{i:08x}" for i in range(3)] + ["plain-key"]
    record = _rec(spec, pd.DataFrame({"order": orders, "x": [1.0, 2.0, 3.0, 4.0]}), 4, W, 0x9)
    with engine.begin() as conn:
        model_id = model_id_for(conn, "shaped")
        assert write_batches(conn, [(model_id, encode(build_batch([record], _fail)))]) == [True]
        assert sorted(logged_keys(conn, model_id)) == sorted(orders)
    assert _rows(engine, model_id) == {(orders[0], orders[2]), ("plain-key", None)}
    _outcomes(engine, model_id, [orders[1], f"{prefix}00000003", "plain-key"])
    window = load_labelled_window(engine, "shaped", None, None, as_of=AS_OF)
    assert (window.n_labelled, window.n_orphan_outcomes) == (2, 1)

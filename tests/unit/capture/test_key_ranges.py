"""Join keys as ranges: one row per call of assigned ids, points for everything else."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.capture.ids import prediction_id_array, prediction_ids
from lifecycle.storage import key_ranges as kr


def _ids(calls: list[tuple[float, int, int]]) -> pa.StringArray:
    """Assigned ids of calls ``(wall_time_s, rand48, n_rows)``, in batch order."""
    walls, rands, counts = zip(*calls, strict=True)
    return prediction_id_array(np.array(walls), np.array(rands), np.array(counts))


def _rows(keys: pa.Array) -> list[tuple[str, str | None]]:
    starts, lasts = kr.key_ranges(keys)
    return list(zip(starts.to_pylist(), lasts.to_pylist(), strict=True))


def _expanded(rows: list[tuple[str, str | None]]) -> list[str]:
    return [key for first, last in rows for key in kr.expand(first, last)]


def test_a_call_of_many_rows_is_one_row_and_a_one_row_call_a_point() -> None:
    keys = _ids([(1_700_000_000.0, 11, 1000), (1_700_000_000.0, 12, 1), (1_700_000_001.5, 13, 3)])
    rows = _rows(keys)
    ids = keys.to_pylist()
    assert rows == [(ids[0], ids[999]), (ids[1000], None), (ids[1001], ids[1003])]
    assert ids[999].endswith("000003e7")
    assert [len(kr.expand(*r)) for r in rows] == [1000, 1, 3]
    assert _expanded(rows) == ids


def test_other_keys_are_points_and_break_runs() -> None:
    ids = _ids([(1_700_000_000.0, 7, 6)]).to_pylist()
    weird = ids[2][:-1] + "g"  # 32 characters, not hex: never part of a range
    upper = ids[3].upper()
    keys = pa.array([ids[0], ids[1], "customer-17", ids[2], weird, upper, ids[4], ids[5],
                     ids[5]])
    rows = _rows(keys)
    assert rows == [(ids[0], ids[1]), ("customer-17", None), (ids[2], None), (weird, None),
                    (upper, None), (ids[4], ids[5]), (ids[5], None)]
    assert _expanded(rows) == keys.to_pylist()


def test_chunked_and_sliced_arrays_read_their_own_bytes() -> None:
    keys = _ids([(1_700_000_000.0, 1, 10), (1_700_000_002.0, 2, 10)])
    sliced = keys.slice(3, 12)  # offset into shared buffers
    assert _expanded(_rows(sliced)) == sliced.to_pylist()
    chunked = pa.chunked_array([keys.slice(0, 5), keys.slice(5)])
    assert _rows(chunked) == _rows(keys)


def test_empty_and_null_keys() -> None:
    starts, lasts = kr.key_ranges(pa.array([], pa.string()))
    assert len(starts) == len(lasts) == 0
    with pytest.raises(ValueError, match="must not be null"):
        kr.key_ranges(pa.array(["a", None]))


def test_hex_round_trip_covers_every_digit() -> None:
    values = np.array([0, 1, 0x9, 0xA, 0xF, 0x10, 0xDEADBEEF, 0xFFFFFFFF], dtype=np.uint64)
    words = kr._hex_digits(values)
    texts = [int(w).to_bytes(8, "big").decode() for w in words]
    assert texts == [f"{int(v):08x}" for v in values]
    assert np.array_equal(kr._hex_value(words), values)


_call = st.tuples(st.integers(1_600_000_000_000, 1_900_000_000_000),
                  st.integers(0, 2**48 - 1), st.integers(1, 40))
_item = st.one_of(_call, st.text(min_size=1, max_size=40))


@settings(max_examples=200, deadline=None)
@given(st.lists(_item, max_size=12))
def test_ranges_expand_to_the_keys_and_each_row_is_a_maximal_run(items: list) -> None:
    keys: list[str] = []
    for item in items:
        if isinstance(item, tuple):
            ms, rand, n = item
            keys.extend(prediction_ids(f"{ms:012x}{rand:012x}", n))
        else:
            keys.append(item)
    rows = _rows(pa.array(keys, pa.string()))
    assert _expanded(rows) == keys
    assert sum(len(kr.expand(*r)) for r in rows) == len(keys)
    for (first, last), (nxt, _) in zip(rows, rows[1:], strict=False):
        # a row never stops where its next key would have continued it
        tail = last if last is not None else first
        continued = kr.expand(tail, None)[0]
        assert not (len(nxt) == kr.ID_LENGTH and len(tail) == kr.ID_LENGTH
                    and _is_id(nxt) and _is_id(tail) and nxt[:24] == tail[:24]
                    and int(nxt[24:], 16) == int(continued[24:], 16) + 1)


def _is_id(key: str) -> bool:
    return all(c in "0123456789abcdef" for c in key[24:])

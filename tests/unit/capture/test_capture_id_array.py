"""The writer's vectorised ids are exactly the ids the caller can read back."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.capture.ids import call_prefix, prediction_id_array, prediction_ids

calls = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=2e10, allow_nan=False),  # up to the year 2603
        st.integers(min_value=0, max_value=(1 << 63) - 1),  # rand48 bits (masked to 48)
        st.integers(min_value=1, max_value=40),
    ),
    min_size=1, max_size=20,
)


@given(calls)
def test_id_array_equals_the_per_call_ids(items: list[tuple[float, int, int]]) -> None:
    walls = np.array([w for w, _, _ in items])
    rands = np.array([r for _, r, _ in items], dtype=np.int64)
    counts = np.array([n for _, _, n in items])
    expected: list[str] = []
    for wall, rand, n in items:
        expected.extend(prediction_ids(call_prefix(wall, rand), n))
    got = prediction_id_array(walls, rands, counts)
    assert got.to_pylist() == expected
    assert got.null_count == 0


def test_id_array_row_index_uses_all_eight_hex_digits() -> None:
    ids = prediction_id_array(np.array([1.0]), np.array([7]), np.array([70_000])).to_pylist()
    assert ids[65_536][24:] == "00010000" and ids[-1][24:] == f"{69_999:08x}"
    assert ids[0] == call_prefix(1.0, 7) + "00000000"

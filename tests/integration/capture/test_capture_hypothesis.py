"""Property: odd inputs and outputs never change what the wrapped call returns or raises,
and the capture process stays healthy (everything logged is written, nothing rejected)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lifecycle

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
    st.builds(np.float32, st.floats(width=32)),
    st.builds(np.int64, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    st.just(pd.NA),
    st.just(pd.NaT),
    st.just(Decimal("NaN")),
    st.just(object()),
)
nested = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)
rows = st.dictionaries(st.text(min_size=1, max_size=6), nested, max_size=5)
inputs = st.one_of(
    rows,
    st.lists(rows, min_size=1, max_size=4),
    nested,
    st.builds(lambda v: np.array(v, dtype=object), st.lists(scalars, min_size=1, max_size=4)),
    st.builds(lambda n: np.full((n, 3), np.nan), st.integers(0, 3)),
    st.builds(lambda d: pd.DataFrame(d), st.lists(
        st.fixed_dictionaries({"a": scalars, "b": st.floats()}), max_size=4)),
)
outputs = st.one_of(nested, st.builds(np.array, st.lists(st.floats(), max_size=4)),
                    st.builds(lambda n: np.zeros((n, 2)), st.integers(0, 3)))


class Boom(Exception):
    pass


@pytest.mark.slow
def test_odd_values_never_change_the_result(sqlite_url: str, capture_to: Callable[..., Any],
                                            count_rows: Callable[..., Any],
                                            engine_for: Callable[..., Any]) -> None:
    capture_to(sqlite_url)
    seen = {"calls": 0}

    @lifecycle.monitor("odd", id_column="a")
    def predict(features: Any, out: Any, fail: bool) -> Any:
        seen["calls"] += 1
        if fail:
            raise Boom(out)
        return out

    @settings(max_examples=120, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(features=inputs, out=outputs, fail=st.booleans())
    def check(features: Any, out: Any, fail: bool) -> None:
        if fail:
            with pytest.raises(Boom) as info:
                predict(features, out, True)
            assert info.value.args[0] is out
        else:
            assert predict(features, out, False) is out

    check()
    assert lifecycle.flush(60)
    stats = lifecycle.stats()
    assert stats["rejected"] == 0
    assert stats["errors_by_kind"].get("record", 0) == 0
    assert stats["errors_by_kind"].get("convert", 0) == 0
    assert stats["logged"] == stats["written"]
    assert count_rows(engine_for(sqlite_url), "odd")[0] == stats["written"]
    assert seen["calls"] > 0

"""The writer's vectorised build paths give exactly what the general paths give.

A writer batch joins many records; for the usual case (numpy inputs of one width, typed
``predict_proba`` outputs) the columns are joined with numpy instead of value by value, and
the SQLite key list is turned into JSON by Arrow. These tests pin each fast path to the slow
one (or to values computed here) so a faster writer can never store something different.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.capture.build import build_batch
from lifecycle.capture.columns import concat_tables, output_columns, to_arrow
from lifecycle.capture.records import CaptureSpec
from lifecycle.storage.capture_repo import keys_json


def record(spec: CaptureSpec, inputs: Any, outputs: Any, method: str = "predict_proba",
           rand: int = 7) -> tuple[Any, ...]:
    return (spec, inputs, outputs, time.time(), 0.002, rand, method, None)


def no_note(kind: str, message: str) -> None:
    raise AssertionError(f"unexpected note {kind}: {message}")


def _proba(rng: np.random.Generator, n: int, k: int = 2) -> np.ndarray:
    raw = rng.random((n, k))
    return raw / raw.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("sizes", [[1000] * 10, [3, 1, 250, 7], [1] * 100, [5]])
def test_joined_numpy_batch_equals_the_records_built_one_by_one(sizes: list[int]) -> None:
    rng = np.random.default_rng(1)
    spec = CaptureSpec(name="m", classes=("no", "yes"))
    recs = [record(spec, rng.normal(size=(n, 4)), _proba(rng, n), rand=i)
            for i, n in enumerate(sizes)]
    joined = build_batch(recs, no_note)
    alone = [build_batch([r], no_note) for r in recs]
    assert joined.inputs.equals(concat_tables([b.inputs for b in alone]).combine_chunks())
    assert joined.outputs.equals(concat_tables([b.outputs for b in alone]).combine_chunks())
    x = np.concatenate([r[1] for r in recs])
    p = np.concatenate([r[2] for r in recs])
    assert joined.inputs.column_names == ["x0", "x1", "x2", "x3"]
    for c in range(4):
        np.testing.assert_array_equal(joined.inputs.column(c).to_numpy(), x[:, c])
    np.testing.assert_array_equal(joined.outputs.column("proba_yes").to_numpy(), p[:, 1])
    assert joined.outputs.column("prediction").type == pa.string()
    assert joined.outputs.column("prediction").to_pylist() == [
        ("no", "yes")[i] for i in p.argmax(axis=1)]


def test_one_dimensional_rows_join_like_two_dimensional_ones() -> None:
    spec = CaptureSpec(name="m")
    rows = [np.arange(3.0) + i for i in range(5)]
    built = build_batch([record(spec, r, float(i), method="predict") for i, r in
                         enumerate(rows)], no_note)
    np.testing.assert_array_equal(built.inputs.column("x2").to_numpy(), [2.0, 3, 4, 5, 6])
    assert built.outputs.column("prediction").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("classes, arrow_type, expected", [
    ((0, 1), pa.int64(), [1, 0]),
    ((False, True), pa.bool_(), [True, False]),
    ((0.5, 1.5), pa.float64(), [1.5, 0.5]),
    (("cat", "dog"), pa.string(), ["dog", "cat"]),
    ((1, "b"), pa.string(), ["b", "1"]),  # mixed classes: stored as text, as before
])
def test_predicted_labels_keep_their_type(classes: tuple[Any, ...], arrow_type: pa.DataType,
                                          expected: list[Any]) -> None:
    spec = CaptureSpec(name="m", classes=classes)
    out = np.array([[0.2, 0.8], [0.9, 0.1]])
    cols = output_columns(out, 2, spec, "predict_proba")
    label = to_arrow(cols["prediction"])
    assert label.type == arrow_type
    assert label.to_pylist() == expected
    # a second call reuses the cached label array; new classes are not served stale labels
    assert to_arrow(output_columns(out, 2, spec, "predict_proba")["prediction"]).equals(label)
    other = CaptureSpec(name="m", classes=("x", "y"))
    assert to_arrow(output_columns(out, 2, other, "predict_proba")["prediction"]).to_pylist() \
        == ["y", "x"]


def test_tuple_classes_stay_whole() -> None:
    spec = CaptureSpec(name="m", classes=((1, 2), (3, 4)))
    cols = output_columns(np.array([[0.2, 0.8]]), 1, spec, "predict_proba")
    # one value per row (numpy would otherwise make a 2-D label array of the tuples)
    assert to_arrow(cols["prediction"]).to_pylist() == [[3, 4]]


def test_records_with_different_output_dtypes_take_the_general_path() -> None:
    spec = CaptureSpec(name="m")
    recs = [
        record(spec, np.zeros((2, 2)), np.array([1.5, 2.5]), method="predict"),
        record(spec, np.zeros((2, 2)), np.array([3, 4]), method="predict"),
        record(spec, np.zeros((1, 2)), np.array(["x"], dtype=object), method="predict"),
    ]
    built = build_batch(recs, lambda kind, message: None)
    assert built.outputs.column("prediction").to_pylist() == ["1.5", "2.5", "3", "4", "x"]


@pytest.mark.parametrize("values, arrow_type", [
    (np.array([1, 2], dtype=np.int32), pa.int32()),
    (np.array([1, 2], dtype=np.uint8), pa.uint8()),
    (np.array([True, False]), pa.bool_()),
    (np.array([1.5, np.nan]), pa.float64()),
    (np.array([1.5, 2.0], dtype=np.float32), pa.float32()),
])
def test_typed_numpy_columns_keep_their_dtype(values: np.ndarray,
                                              arrow_type: pa.DataType) -> None:
    arr = to_arrow(values)
    assert arr.type == arrow_type
    assert arr.null_count == 0  # NaN stays a float, as documented
    np.testing.assert_array_equal(arr.to_numpy(zero_copy_only=False), values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=30), st.integers(0, 5))
def test_keys_json_is_the_json_of_the_keys(keys: list[str], cut: int) -> None:
    arr = pa.array(keys, pa.string())
    assert json.loads(keys_json(arr)) == keys
    cut = min(cut, len(keys))
    chunked = pa.chunked_array([arr[:cut], arr[cut:]], pa.string())
    assert json.loads(keys_json(chunked)) == keys
    assert json.loads(keys_json(arr[cut:])) == keys[cut:]  # a slice (non-zero offset)


def test_keys_json_of_prediction_ids_needs_no_escaping() -> None:
    from lifecycle.capture.ids import prediction_id_array

    ids = prediction_id_array(np.full(3, 1.7e9), np.arange(3), np.full(3, 4))
    text = keys_json(ids)
    assert text.startswith('["') and text.count('","') == 11
    assert json.loads(text) == ids.to_pylist()


def _frames_by_kind(kind: str, rng: np.random.Generator) -> list[Any]:
    import pandas as pd

    cols = ["a", "b", "c"]
    if kind == "float":
        data = [rng.normal(size=(n, 3)) for n in (4, 1, 6)]
        data[0][1, 2] = np.nan
        return [pd.DataFrame(d, columns=cols) for d in data]
    if kind == "float32":
        return [pd.DataFrame(rng.normal(size=(n, 3)).astype(np.float32), columns=cols)
                for n in (2, 3)]
    if kind == "int":
        return [pd.DataFrame(rng.integers(-5, 5, size=(n, 3)), columns=cols,
                             index=[10 + i for i in range(n)]) for n in (3, 2)]
    if kind == "bool":
        return [pd.DataFrame(rng.random((n, 3)) > 0.5, columns=cols) for n in (2, 2)]
    if kind == "blocks":  # one dtype in two blocks (a column added after construction)
        frames = []
        for n in (2, 3):
            df = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
            df["c"] = rng.normal(size=n)
            frames.append(df)
        return frames
    if kind == "duplicate names":
        return [pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "a", "b"]) for n in (2, 2)]
    assert kind == "mixed"  # not typed: the general path on both sides
    return [pd.DataFrame({"a": rng.normal(size=n), "b": ["x"] * n}) for n in (2, 2)]


@pytest.mark.parametrize("kind", ["float", "float32", "int", "bool", "blocks",
                                  "duplicate names", "mixed"])
def test_typed_dataframes_joined_like_numpy_equal_the_general_path(
        kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.capture import build

    rng = np.random.default_rng(5)
    spec = CaptureSpec(name="m", classes=(0, 1), id_column="a" if kind == "int" else None)
    recs = [record(spec, df, _proba(rng, len(df)), rand=i)
            for i, df in enumerate(_frames_by_kind(kind, rng))]
    assert (build._typed_frames(recs) is None) == (kind == "mixed")
    fast = build_batch(recs, no_note)
    monkeypatch.setattr(build, "_typed_frames", lambda run: None)
    general = build_batch(recs, no_note)
    for got, want in ((fast.inputs, general.inputs), (fast.outputs, general.outputs)):
        assert got.schema == want.schema
        for name in got.column_names:  # NaN == NaN here (Table.equals says NaN != NaN)
            np.testing.assert_array_equal(got.column(name).to_numpy(zero_copy_only=False),
                                          want.column(name).to_numpy(zero_copy_only=False))
    assert fast.inputs.num_rows == sum(len(r[1]) for r in recs)
    if kind == "float":  # the NaN travelled as a NaN, in its place
        assert np.isnan(fast.inputs.column("c").to_numpy()).nonzero()[0].tolist() == [1]

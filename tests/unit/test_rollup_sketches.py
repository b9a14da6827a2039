"""Per-feature accumulators of the rollup: exact counts, reference bins, the cardinality cap,
KLL quantiles within the stated rank error, and merges in any order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lifecycle.drift.profile import build_numeric_profile
from lifecycle.rollup.hourly import pack_sketches, unpack_sketches
from lifecycle.rollup.sketches import (
    CategoricalAccumulator,
    NumericAccumulator,
    as_float64,
    frequent_from_bytes,
    kll_from_bytes,
)
from lifecycle.rollup.window import numeric_summary


def _bins(values: np.ndarray, edges: np.ndarray) -> list[int]:
    idx = np.searchsorted(edges, values, side="right")  # (-inf,e1) -> 0, [e1,e2) -> 1, ...
    return np.bincount(idx, minlength=edges.size + 1).tolist()


def test_numeric_counts_and_reference_bins_are_exact() -> None:
    rng = np.random.default_rng(1)
    ref = build_numeric_profile(rng.normal(size=20_000))
    values = rng.normal(0.3, 1.2, 50_000)
    values[::97] = np.nan
    values[5], values[6] = np.inf, -np.inf
    acc = NumericAccumulator(bin_edges=ref.bin_edges, ref_min=ref.minimum,
                             ref_max=ref.maximum)
    for part in np.array_split(values, 7):  # parts, as batches arrive
        acc.add(part)
    acc.add_missing(10)
    doc, blob = acc.to_record()
    finite = values[np.isfinite(values)]
    assert doc["n"] == finite.size
    assert doc["n_missing"] == int(np.isnan(values).sum()) + 10
    assert doc["n_infinite"] == 2
    assert doc["min"] == finite.min() and doc["max"] == finite.max()
    assert doc["sum"] == pytest.approx(finite.sum()) and doc["sum_sq"] == pytest.approx(
        np.dot(finite, finite))
    assert doc["bin_counts"] == _bins(finite, ref.bin_edges)
    assert doc["n_below"] == int((finite < ref.minimum).sum())
    assert doc["n_above"] == int((finite > ref.maximum).sum())
    assert kll_from_bytes(blob).n == finite.size


def test_text_in_a_numeric_feature_counts_as_missing_and_non_numeric() -> None:
    values, bad = as_float64(pa.chunked_array([pa.array(["1.5", "abc", None, "inf", "2"])]))
    assert bad == 1
    assert np.isnan(values[1]) and np.isnan(values[2]) and values[3] == np.inf
    values, bad = as_float64(pa.array([True, False, None]))
    assert bad == 2 and np.isnan(values).all()
    ints, bad = as_float64(pa.array([1, None, 3]))
    assert bad == 0 and ints[0] == 1.0 and np.isnan(ints[1])


def test_categorical_counts_are_exact_under_the_cap() -> None:
    acc = CategoricalAccumulator(category_cap=10)
    acc.add(pa.chunked_array([pa.array(["a", "b", None, "a"])]))
    acc.add(pa.array([1.0, float("nan"), 2.0]))  # NaN is missing; labels are str(value)
    doc, blob = acc.to_record()
    assert blob is None
    assert doc["counts"] == {"a": 2, "1.0": 1, "2.0": 1, "b": 1}
    assert doc["n"] == 5 and doc["n_missing"] == 2


def test_past_the_cap_a_frequent_items_sketch_bounds_every_count() -> None:
    rng = np.random.default_rng(2)
    labels = np.array([f"c{i}" for i in rng.zipf(1.3, 200_000) % 50_000], dtype=object)
    acc = CategoricalAccumulator(category_cap=1000, lg_max_k=11)
    acc.add(pa.array(labels))
    doc, blob = acc.to_record()
    assert doc["sketched"] and "counts" not in doc and blob is not None
    sketch = frequent_from_bytes(blob)
    err = doc["count_error"]
    assert 0 < err <= 3.5 / 2**11 * labels.size  # the a priori bound
    true = dict(zip(*np.unique(labels, return_counts=True), strict=True))
    for label, count in sorted(true.items(), key=lambda kv: -kv[1])[:50]:
        assert abs(sketch.get_estimate(label) - count) <= err


def test_kll_quantiles_are_within_the_stated_rank_error() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.lognormal(size=400_000), rng.normal(5, 1, 200_000)])
    parts = []
    for chunk in np.array_split(values, 6):  # six hours
        acc = NumericAccumulator()
        acc.add(chunk)
        parts.append(kll_from_bytes(acc.to_record()[1]))
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(p)
    counts = {"n": values.size, "n_missing": 0, "n_infinite": 0, "sum": 0.0, "sum_sq": 0.0}
    summary = numeric_summary(merged, counts)
    assert summary.points[0] == values.min() and summary.points[-1] == values.max()
    assert 0.0035 < summary.rank_error < 0.0035 + 0.002
    exact = np.searchsorted(np.sort(values), summary.points, side="right") / values.size
    assert np.max(np.abs(exact - summary.cdf)) <= summary.rank_error
    x = np.sort(values)
    probes = rng.uniform(values.min(), 20, 500)
    i = np.clip(np.searchsorted(summary.points, probes, side="right") - 1, 0, None)
    true = np.searchsorted(x, probes, side="right") / x.size
    assert np.max(np.abs(summary.cdf[i] - true)) <= summary.rank_error  # between points too


def test_hours_merge_in_any_order_to_the_same_counts() -> None:
    rng = np.random.default_rng(4)
    blobs = []
    for shift in (0.0, 1.0, 2.0):
        acc = NumericAccumulator(k=200)
        acc.add(rng.normal(shift, 1, 30_000))
        blobs.append(acc.to_record()[1])
    a, b, c = (kll_from_bytes(x) for x in blobs)
    left = kll_from_bytes(blobs[0])
    left.merge(b)
    left.merge(c)
    bc = kll_from_bytes(blobs[1])
    bc.merge(kll_from_bytes(blobs[2]))
    right = kll_from_bytes(blobs[0])
    right.merge(bc)
    assert left.n == right.n == a.n + b.n + c.n == 90_000
    assert left.get_min_value() == right.get_min_value()
    assert left.get_max_value() == right.get_max_value()
    eps = left.normalized_rank_error(False)
    for q in (0.1, 0.5, 0.9):
        assert abs(left.get_rank(right.get_quantile(q)) - q) <= 2 * eps


def test_sketch_blob_round_trip() -> None:
    packed = pack_sketches({"x": b"\x00\x01", "y": b""})
    assert unpack_sketches(packed) == {"x": b"\x00\x01", "y": b""}
    assert unpack_sketches(None) == {}

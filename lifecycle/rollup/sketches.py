"""Per-feature mergeable summaries of one hour: exact counts plus an Apache DataSketches sketch.

Numeric feature (:class:`NumericAccumulator`): a KLL quantile sketch of the finite values
(``datasketches.kll_doubles_sketch(k)``, default ``k = 800``: normalised rank error 0.35% at
99% confidence, about 19 KB serialised) and exact counts: ``n`` (finite values),
``n_missing`` (NaN, null and non-numeric values; ``n_non_numeric`` of them were text,
booleans or dates), ``n_infinite`` (+/-inf), exact ``min``/``max`` (the sketch keeps them),
``sum`` and ``sum_sq`` of the finite values; when a reference profile is given, the exact
counts of finite values in its PSI bins ``(-inf, e1), [e1, e2), ..., [ek, +inf)`` and below its
minimum / above its maximum.

Categorical feature (:class:`CategoricalAccumulator`): exact counts per category (labels as
``str(value)``, as :func:`lifecycle.drift_check.categorical_sample` makes them; NaN and null
are missing) up to ``category_cap`` distinct values per feature and hour (default 1,000). Past
the cap the hour keeps a frequent-items sketch instead
(``datasketches.frequent_strings_sketch(lg_max_k)``, default ``lg_max_k = 11``: a map of 2,048
slots holding up to 1,536 items): every category's estimate is then within the sketch's
``upper_bound - lower_bound`` of its true count, at most ``3.5 / 2^lg_max_k`` (0.17%) of the
hour's total weight (DataSketches' a priori bound, ``get_epsilon_for_lg_size``).

Both serialise to a JSON-safe dict of exact counts (readable: stored in
``window_profiles.summary``) plus the sketch bytes (stored in the hour's one blob).

The only package that imports ``datasketches`` is ``lifecycle.rollup``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import datasketches as ds
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

__all__ = ["DEFAULT_CATEGORY_CAP", "DEFAULT_K", "DEFAULT_LG_MAX_K", "CategoricalAccumulator",
           "NumericAccumulator", "as_float64", "frequent_from_bytes", "frequent_offset",
           "frequent_sketch", "kll_from_bytes"]

DEFAULT_K = 800
DEFAULT_CATEGORY_CAP = 1000
DEFAULT_LG_MAX_K = 11


def _num(value: float) -> float | None:
    """JSON-safe float: None for NaN and +/-inf (PostgreSQL's JSONB refuses them)."""
    return float(value) if math.isfinite(value) else None


def _to_float(value: Any) -> float:
    """Text that reads as a number, as a float; anything else NaN."""
    try:
        return float(value) if isinstance(value, str) else np.nan
    except ValueError:
        return np.nan


def kll_from_bytes(blob: bytes) -> Any:
    return ds.kll_doubles_sketch.deserialize(blob)


def frequent_from_bytes(blob: bytes) -> Any:
    return ds.frequent_strings_sketch.deserialize(blob)


def frequent_offset(sketch: Any) -> int:
    """The sketch's error on any count: ``upper_bound - lower_bound`` (the same for every
    item; an item it does not keep may have up to this many rows)."""
    probe = "\x00lifecycle-probe"
    return int(sketch.get_upper_bound(probe) - sketch.get_lower_bound(probe))


def as_float64(column: pa.Array | pa.ChunkedArray) -> tuple[NDArray[np.float64], int]:
    """A column as float64 (NaN = null or non-numeric) and its count of non-numeric values.

    Numbers convert as they are; text that reads as a number (``"2.5"``, ``"inf"``) too, other
    text, booleans, dates and anything else are non-numeric (what the exact path does:
    :func:`lifecycle.drift_check.numeric_values`).
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    t = column.type
    if pa.types.is_floating(t) and t != pa.float16():
        if t != pa.float64():
            column = pc.cast(column, pa.float64())
        return column.to_numpy(zero_copy_only=False), 0
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or t == pa.float16():
        return pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False), 0
    if pa.types.is_null(t):
        return np.full(len(column), np.nan), 0
    present = len(column) - column.null_count
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = np.fromiter((_to_float(v) for v in column.to_pylist()), dtype=np.float64,
                                 count=len(column))
        return values, int(present - np.count_nonzero(~np.isnan(values)))
    return np.full(len(column), np.nan), int(present)  # booleans, dates, nested: not numbers


class NumericAccumulator:
    """One numeric feature of one hour (see the module docstring)."""

    kind = "numeric"

    def __init__(self, k: int = DEFAULT_K, bin_edges: NDArray[np.float64] | None = None,
                 ref_min: float | None = None, ref_max: float | None = None) -> None:
        self.sketch = ds.kll_doubles_sketch(k)
        self.edges = None if bin_edges is None else np.asarray(bin_edges, dtype=np.float64)
        self.ref_min, self.ref_max = ref_min, ref_max
        self.n_missing = 0
        self.n_non_numeric = 0
        self.n_infinite = 0
        self.total = 0.0
        self.total_sq = 0.0
        self.lt_edges = np.zeros(0 if self.edges is None else self.edges.size, dtype=np.int64)
        self.n_below = 0
        self.n_above = 0
        self._buf = np.empty(0, dtype=np.float64)

    def add_missing(self, n: int) -> None:
        """``n`` rows where the feature was not logged at all (missing)."""
        self.n_missing += int(n)

    def add(self, values: NDArray[np.float64], n_non_numeric: int = 0) -> None:
        """Add float64 ``values`` (NaN = missing; ``n_non_numeric`` of the NaN were values
        that are not numbers)."""
        with np.errstate(invalid="ignore", over="ignore"):
            total = float(np.sum(values))
        if not math.isfinite(total):  # some NaN or inf (or an overflowing sum): split them out
            nan = np.isnan(values)
            n_nan = int(np.count_nonzero(nan))
            if n_nan:
                values = values[~nan]
            inf = np.isinf(values)
            n_inf = int(np.count_nonzero(inf))
            if n_inf:
                values = values[~inf]
            self.n_missing += n_nan
            self.n_infinite += n_inf
            total = float(np.sum(values))
        self.n_non_numeric += int(n_non_numeric)
        if not values.size:
            return
        self.total += total
        self.total_sq += float(np.dot(values, values))
        if not values.flags.writeable or not values.flags.c_contiguous:
            values = self._writable(values)  # the sketch's binding refuses read-only arrays
        self.sketch.update(values)
        if self.edges is not None:
            for i, edge in enumerate(self.edges):
                self.lt_edges[i] += np.count_nonzero(values < edge)
            if self.ref_min is not None:
                self.n_below += int(np.count_nonzero(values < self.ref_min))
            if self.ref_max is not None:
                self.n_above += int(np.count_nonzero(values > self.ref_max))

    def _writable(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``values`` copied into a buffer reused across parts (Arrow's zero-copy arrays are
        read-only; a warm buffer copies at memory speed, a fresh one page-faults)."""
        if self._buf.size < values.size:
            self._buf = np.empty(values.size, dtype=np.float64)
        out = self._buf[:values.size]
        np.copyto(out, values)
        return out

    @property
    def n(self) -> int:
        return int(self.sketch.n)

    def bin_counts(self) -> list[int] | None:
        """Exact counts in the reference bins, or None without a reference."""
        if self.edges is None:
            return None
        bounds = np.concatenate(([0], self.lt_edges, [self.n]))
        return [int(c) for c in np.diff(bounds)]

    def to_record(self) -> tuple[dict[str, Any], bytes]:
        empty = self.sketch.is_empty()
        doc: dict[str, Any] = {
            "kind": self.kind,
            "n": self.n,
            "n_missing": self.n_missing,
            "n_non_numeric": self.n_non_numeric,
            "n_infinite": self.n_infinite,
            "min": None if empty else _num(self.sketch.get_min_value()),
            "max": None if empty else _num(self.sketch.get_max_value()),
            "sum": _num(self.total),
            "sum_sq": _num(self.total_sq),
        }
        if self.edges is not None:
            doc["bin_counts"] = self.bin_counts()
            doc["n_below"] = self.n_below
            doc["n_above"] = self.n_above
        return doc, bytes(self.sketch.serialize())


class CategoricalAccumulator:
    """One categorical feature of one hour (see the module docstring)."""

    kind = "categorical"

    def __init__(self, category_cap: int = DEFAULT_CATEGORY_CAP,
                 lg_max_k: int = DEFAULT_LG_MAX_K) -> None:
        self.cap = category_cap
        self.lg_max_k = lg_max_k
        self.counts: dict[str, int] = {}
        self.n_missing = 0

    def add_missing(self, n: int) -> None:
        self.n_missing += int(n)

    def add(self, column: pa.Array | pa.ChunkedArray) -> None:
        """Count a column's values by ``str(value)``; null and NaN are missing."""
        if pa.types.is_floating(column.type):
            nan = pc.is_nan(column)
            column = pc.if_else(nan, pa.scalar(None, column.type), column)
        n_null = column.null_count
        self.n_missing += int(n_null)
        if n_null == len(column):
            return
        if n_null:
            column = pc.drop_null(column)
        vc = pc.value_counts(column)
        labels = vc.field("values").to_pylist()
        counts = vc.field("counts").to_numpy(zero_copy_only=False)
        for label, count in zip(labels, counts, strict=True):
            key = str(label)
            self.counts[key] = self.counts.get(key, 0) + int(count)

    @property
    def n(self) -> int:
        return int(sum(self.counts.values()))

    def to_record(self) -> tuple[dict[str, Any], bytes | None]:
        doc: dict[str, Any] = {"kind": self.kind, "n": self.n, "n_missing": self.n_missing,
                               "n_distinct": len(self.counts)}
        if len(self.counts) <= self.cap:
            doc["counts"] = dict(sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])))
            return doc, None
        sketch = frequent_sketch(self.counts, self.lg_max_k)
        doc["sketched"] = True
        doc["count_error"] = frequent_offset(sketch)
        return doc, bytes(sketch.serialize())


def frequent_sketch(counts: Mapping[str, int], lg_max_k: int = DEFAULT_LG_MAX_K) -> Any:
    """A frequent-items sketch of exact ``counts`` (weighted updates, largest first)."""
    sketch = ds.frequent_strings_sketch(lg_max_k)
    for label, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        sketch.update(label, int(count))
    return sketch

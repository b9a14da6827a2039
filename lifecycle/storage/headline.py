"""The headline output of a logged prediction: one number and one label per row.

Computed when a window is read (``load_window(..., with_headline=True)``), from the outputs a
batch stored, so it never costs the writer anything and every reader agrees on it.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

_LABEL_MAX = 255
#: The columns of a function's unlabelled 2-D output (``capture/columns.py``).
_RAW = re.compile(r"output_\d+")


def _numeric(arr: pa.ChunkedArray) -> bool:
    t = arr.type
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def _floats(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """As float64; NaN becomes null (SQLite stores NaN as NULL, so both backends agree)."""
    values = arr.cast(pa.float64())
    return pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)


def _labels(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        text = arr.cast(pa.string())
    else:
        text = pa.chunked_array([pa.array(
            [None if v is None else str(v) for v in arr.to_pylist()], type=pa.string())])
    return pc.utf8_slice_codeunits(text, 0, _LABEL_MAX)


def headline(outputs: pa.Table) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """The headline output of each row: ``output_value`` (float) and ``output_label`` (text).

    * ``proba_<class>`` columns: value = probability of the last class when there are two
      (the positive class), else the largest probability; label = ``prediction`` (the argmax).
    * ``prediction``: numeric -> value (and label too when integer/boolean, i.e. a class);
      text -> label.
    * ``score``: value.
    * Only ``output_<i>`` columns (a function returning several numbers per row that nothing
      declared as class probabilities): no headline, neither value nor label. No single
      column stands for the row (taking ``output_0`` made a classifier's P(class 0) look like
      a regression prediction); the performance check then says how to log them
      (``monitor(classes=...)`` / ``output="proba"``).
    * Otherwise the first numeric column gives the value.
    """
    n = outputs.num_rows
    names = outputs.column_names
    proba = [c for c in names if c.startswith("proba_") and _numeric(outputs.column(c))]
    value = pa.chunked_array([pa.nulls(n, type=pa.float64())])
    label = pa.chunked_array([pa.nulls(n, type=pa.string())])
    if proba:
        if len(proba) == 2:
            value = _floats(outputs.column(proba[1]))
        else:
            value = pc.max_element_wise(*[_floats(outputs.column(c)) for c in proba],
                                        skip_nulls=True)
        if "prediction" in names:
            label = _labels(outputs.column("prediction"))
        return value, label
    if "prediction" in names:
        col = outputs.column("prediction")
        if _numeric(col):
            value = _floats(col)
            if not pa.types.is_floating(col.type):
                label = _labels(col)
        else:
            label = _labels(col)
        return value, label
    if names and all(_RAW.fullmatch(c) for c in names):
        return value, label
    for name in ["score", *names]:
        if name in names and _numeric(outputs.column(name)):
            return _floats(outputs.column(name)), label
    return value, label

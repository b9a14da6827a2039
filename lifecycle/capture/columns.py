"""Normalise one record's inputs and outputs to named columns, and columns to Arrow.

Conversion never raises for odd values: a column Arrow cannot type is stored as strings
(``str(value)``, bytes as hex), ``None`` stays null, NaN/inf stay floats.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lifecycle.capture.records import CaptureSpec, count_rows

log = logging.getLogger("lifecycle.capture")

#: numpy dtypes converted with an explicit Arrow type: without one, ``pa.array`` spends ~160
#: us inferring the type of a 10,000-row float column that it then wraps without copying (5 us)
_TYPED_KINDS = frozenset("biuf")


def to_arrow(values: Any) -> pa.Array:
    """An Arrow array for ``values``, never failing: untypeable values become strings."""
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in _TYPED_KINDS:
        try:
            return pa.array(values, type=pa.from_numpy_dtype(values.dtype))
        except (pa.ArrowException, TypeError, ValueError):
            pass  # e.g. float16 on an old pyarrow: the inferring path below
    for from_pandas in (False, True):
        try:
            return pa.array(values, from_pandas=from_pandas)
        except (pa.ArrowException, TypeError, ValueError, OverflowError, IndexError):
            continue
    seq = values.tolist() if isinstance(values, np.ndarray | pd.Series) else list(values)
    return pa.array([_as_text(v) for v in seq], type=pa.string())


def _as_text(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def piece_from_input(obj: Any, spec: CaptureSpec) -> tuple[tuple[str, ...], Any, int]:
    """(column names, data, n_rows) where data is a 2-D ndarray, a DataFrame or a dict of
    equal-length lists."""
    if isinstance(obj, np.ndarray):
        if obj.ndim == 1:
            obj = obj.reshape(1, -1)
        if obj.ndim == 2:
            return array_names(obj.shape[1], spec), obj, obj.shape[0]
        if obj.ndim == 0:
            return ("input",), {"input": [obj.item()]}, 1
        rows = [str(row.tolist()) for row in obj]
        return ("input",), {"input": rows}, len(rows)
    if isinstance(obj, pd.DataFrame):
        names = tuple(str(c) for c in obj.columns)
        if len(set(names)) != len(names):
            obj = obj.set_axis(_dedupe(names), axis=1)
            names = tuple(obj.columns)
        return names, obj, len(obj)
    if isinstance(obj, pd.Series):
        names = _dedupe(tuple(str(k) for k in obj.index))
        return names, {n: [v] for n, v in zip(names, obj.tolist(), strict=True)}, 1
    if isinstance(obj, dict):
        names = _dedupe(tuple(str(k) for k in obj))
        return names, {n: [v] for n, v in zip(names, obj.values(), strict=True)}, 1
    if isinstance(obj, list | tuple) and obj and all(isinstance(r, dict) for r in obj):
        keys: dict[str, None] = {}
        for row in obj:
            for k in row:
                keys.setdefault(str(k), None)
        cols: dict[str, list[Any]] = {k: [] for k in keys}
        for row in obj:
            srow = {str(k): v for k, v in row.items()}
            for k in keys:
                cols[k].append(srow.get(k))
        return tuple(keys), cols, len(obj)
    if isinstance(obj, list | tuple):
        n = count_rows(obj)
        arr: np.ndarray
        if n == 1 and not (obj and isinstance(obj[0], list | tuple | np.ndarray)):
            arr = np.asarray(obj, dtype=object).reshape(1, -1)
        else:
            try:
                arr = np.asarray(obj, dtype=object)
            except ValueError:
                arr = np.empty(0)
            if arr.ndim != 2 or arr.shape[0] != n:
                return ("input",), {"input": [str(r) for r in obj]}, n
        return array_names(arr.shape[1], spec), _object_columns(arr, spec), n
    return ("input",), {"input": [obj]}, 1


def _object_columns(arr: np.ndarray, spec: CaptureSpec) -> dict[str, list[Any]]:
    names = array_names(arr.shape[1], spec)
    return {n: arr[:, i].tolist() for i, n in enumerate(names)}


def _dedupe(names: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}.{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return tuple(out)


def array_names(n_cols: int, spec: CaptureSpec) -> tuple[str, ...]:
    key = f"names{n_cols}"
    names = spec._cache.get(key)
    if names is None:
        names = spec.feature_names
        if names is None and spec.estimator is not None:
            fin = getattr(spec.estimator, "feature_names_in_", None)
            names = tuple(str(n) for n in fin) if fin is not None else None
        if names is None or len(names) != n_cols:
            names = tuple(f"x{i}" for i in range(n_cols))
        spec._cache[key] = names
    return names


def _classes(spec: CaptureSpec, k: int) -> tuple[Any, ...]:
    classes = spec.classes
    if classes is None and spec.estimator is not None:
        found = getattr(spec.estimator, "classes_", None)
        classes = tuple(found.tolist()) if found is not None else None
    if classes is None or len(classes) != k:
        classes = tuple(range(k))
    return classes


def _label_array(spec: CaptureSpec, classes: tuple[Any, ...]) -> np.ndarray:
    """The classes as an array to index with ``argmax``: typed (int, float, bool, str) when
    every class has the same plain type, so the column converts without per-row Python;
    object otherwise (mixed classes keep their own types). Cached on the spec."""
    key = f"labels{len(classes)}"
    cached = spec._cache.get(key)
    if cached is not None and cached[0] == classes:
        return cached[1]
    kinds = {type(c) for c in classes}
    labels = np.asarray(classes) if len(kinds) == 1 and kinds <= {int, float, bool, str} else None
    if labels is None or labels.ndim != 1 or labels.dtype.kind == "O":
        labels = np.empty(len(classes), dtype=object)  # each class kept as it is
        labels[:] = list(classes)
    spec._cache[key] = (classes, labels)
    return labels


def _reads_proba(spec: CaptureSpec, method: str) -> bool:
    """Whether 2-D outputs of ``method`` are class probabilities: always for
    ``predict_proba``; for a function, when ``output="proba"`` or ``classes`` were given."""
    if method == "predict_proba":
        return True
    return method == "call" and (spec.output == "proba" or spec.classes is not None)


def _proba_columns(out: np.ndarray, spec: CaptureSpec) -> dict[str, Any]:
    """``proba_<class>`` columns and the predicted class (argmax) of a 2-D array."""
    classes = _classes(spec, out.shape[1])
    cols: dict[str, Any] = {f"proba_{c}": out[:, i] for i, c in enumerate(classes)}
    if out.dtype.kind in "fiu":
        cols["prediction"] = _label_array(spec, classes)[out.argmax(axis=1)]
    return cols


def _warn_raw_columns(spec: CaptureSpec, k: int) -> None:
    """Once per monitor: a function returned several numbers per row and nothing says they
    are class probabilities, so no predicted class is stored (see ``monitor(classes=)``)."""
    if spec._cache.get("warned_raw"):
        return
    spec._cache["warned_raw"] = True
    log.warning(
        "lifecycle capture: model %r: the monitored function returns %d columns per row, "
        "stored as output_0..output_%d with no predicted class. If they are class "
        "probabilities (predict_proba), pass lifecycle.monitor(%r, classes=[...]) (or "
        "output=\"proba\"): a performance check cannot read these outputs as classes, nor "
        "as one number per row", spec.name, k, k - 1, spec.name)


def output_columns(out: Any, n: int, spec: CaptureSpec, method: str) -> dict[str, Any]:
    """Output columns (name -> array/list of length n) of one record."""
    if out is None:
        return {}
    if isinstance(out, pd.DataFrame):
        if len(out) == n:
            return {str(c): out.iloc[:, i].to_numpy() for i, c in enumerate(out.columns)}
        return {"prediction": [str(out)] * n}
    if isinstance(out, pd.Series):
        out = out.to_numpy()
    elif (spec.output == "proba" and method == "call" and n == 1
          and isinstance(out, float | int | np.floating | np.integer)
          and not isinstance(out, bool | np.bool_)):
        out = np.asarray([out])  # one row's P(second class)
    if isinstance(out, list | tuple):
        try:
            out = np.asarray(out)
        except ValueError:
            out = np.asarray(out, dtype=object) if len(out) == n else str(out)
    if isinstance(out, np.ndarray):
        if out.ndim == 0:
            return {"prediction": [out.item()] * n}
        proba = _reads_proba(spec, method)
        if out.ndim == 1 and proba and method == "call":
            k = len(spec.classes) if spec.classes is not None else 2
            if n == 1 and len(out) == k > 1:  # one row of probabilities, flattened
                out = out.reshape(1, -1)
            elif (len(out) == n and k == 2 and spec.output == "proba"
                  and out.dtype.kind in "fiu"):  # P(second class) of a binary model
                p = out.astype(np.float64)
                out = np.column_stack([1.0 - p, p])
        if out.ndim == 1 and (len(out) == n or (n == 1 and method == "predict_proba")):
            if n == 1 and len(out) != 1:
                out = out.reshape(1, -1)
            else:
                return {("score" if method == "decision_function" else "prediction"): out}
        if out.ndim == 2 and out.shape[0] == n:
            k = out.shape[1]
            if k == 1:
                return {"prediction": out[:, 0]}
            if proba:
                return _proba_columns(out, spec)
            if method == "decision_function":
                return {f"score_{c}": out[:, i] for i, c in enumerate(_classes(spec, k))}
            if method == "call" and out.dtype.kind in "fiu":
                _warn_raw_columns(spec, k)
            return {f"output_{i}": out[:, i] for i in range(k)}
        return {"prediction": [str(out.tolist())] * n}
    if isinstance(out, str | bytes | int | float | bool | complex | Decimal | np.generic):
        return {"prediction": [out] * n}
    return {"prediction": [str(out)] * n}



def concat_tables(tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables whose columns may differ; conflicting types fall back to strings."""
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowException, TypeError, ValueError):
        pass
    types: dict[str, set[pa.DataType]] = {}
    for t in tables:
        for f in t.schema:
            types.setdefault(f.name, set()).add(f.type)
    conflicting = {n for n, ts in types.items() if len({t for t in ts if t != pa.null()}) > 1}
    fixed = []
    for t in tables:
        for name in conflicting & set(t.column_names):
            idx = t.column_names.index(name)
            text = pa.array([_as_text(v) for v in t.column(idx).to_pylist()], type=pa.string())
            t = t.set_column(idx, name, text)
        fixed.append(t)
    return pa.concat_tables(fixed, promote_options="permissive")

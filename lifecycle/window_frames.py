"""What a drift check compares, read out of a logged window (the pandas edge of drift).

:func:`window_frames` turns a loaded window into the frames that the drift engine compares:
served rows only (roles ``champion`` and ``unmanaged``), the configured features or every
logged input, and never an identifier column: ``[models.NAME] id_column``,
``identifier_columns`` and ``timestamp_columns``, the capture's ``id_column`` (an input column
whose values are the rows' join keys) and date/time columns. :func:`label_frame` gives a
window's labels as one ``label`` column. The drift job and :func:`lifecycle.reference.set_reference`
both read windows through here, so a reference and a check see the same columns.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from pandas.api import types as ptypes
from sqlalchemy import Engine

from lifecycle.capture.records import normalize_key
from lifecycle.config import ModelSettings
from lifecycle.errors import DataError
from lifecycle.performance.data import canonical_label
from lifecycle.states import SERVED_ROLES
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.window import LoadedWindow

__all__ = ["identifier_columns", "is_time_column", "label_frame", "labels_as_frame",
           "served_rows", "window_frames"]

#: Rows compared when looking for the capture's ``id_column`` among the inputs.
ID_PROBE_ROWS = 200


def served_rows(window: LoadedWindow) -> pd.Series:
    """Boolean mask (0-based index) of the window's served rows: roles ``champion`` and
    ``unmanaged`` (every row of a window logged without roles)."""
    if len(window) == 0 or "role" not in window.meta.columns:
        return pd.Series(True, index=range(len(window)))
    return window.meta["role"].isin(SERVED_ROLES).reset_index(drop=True)


def label_frame(engine: Engine, model: str, since: datetime | None, until: datetime | None,
                task: str | None) -> pd.DataFrame:
    """The window's labels as one ``label`` column: numbers for regression, one text form per
    class otherwise (``1``, ``1.0`` and ``"1"`` are one class, as in the performance job).
    With no task configured, labels that are not classes are compared as numbers."""
    labelled = load_labelled_window(engine, model, since, until, with_proba=False).labelled
    return labels_as_frame(labelled, task)


def labels_as_frame(labelled: pd.DataFrame, task: str | None) -> pd.DataFrame:
    """``label`` column of a labelled window's rows (see :func:`label_frame`)."""
    numeric = pd.DataFrame({"label": labelled["label_value"].astype(float)})
    if task == "regression":
        return numeric
    try:
        classes = [None if v is None else canonical_label(v) for v in labelled["label"]]
    except DataError:
        if task == "classification":
            raise
        return numeric
    return pd.DataFrame({"label": pd.Series(classes, dtype=object)})


def _join_key_columns(inputs: pd.DataFrame, meta: pd.DataFrame) -> set[str]:
    """Input columns whose values are the rows' join keys: the capture's ``id_column``."""
    if "join_key" not in meta.columns or not len(meta) or not len(inputs.columns):
        return set()
    keys = meta["join_key"].iloc[:ID_PROBE_ROWS].tolist()
    found: set[str] = set()
    for col in inputs.columns:
        values = inputs[col].iloc[:ID_PROBE_ROWS]
        if ptypes.is_bool_dtype(values.dtype) or ptypes.is_complex_dtype(values.dtype):
            continue
        pairs = [(normalize_key(v), k) for v, k in zip(values.astype(object), keys,
                                                       strict=False)
                 if v is not None and not (isinstance(v, float) and v != v)]
        if pairs and len(pairs) * 2 >= len(keys) and all(a == b for a, b in pairs):
            found.add(str(col))
    return found


_TIME_KINDS = frozenset({"datetime64", "datetime", "date", "time", "timedelta",
                         "timedelta64", "period"})


def is_time_column(series: pd.Series) -> bool:
    """A date/time column: a datetime64 / timedelta64 dtype, or an object column whose first
    1,000 non-missing values are all dates, times or datetimes (Arrow ``date32`` loads so)."""
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return True
    if dtype != object:  # noqa: E721
        return False
    head = series.dropna().iloc[:1000]
    return bool(len(head)) and ptypes.infer_dtype(head, skipna=True) in _TIME_KINDS


def identifier_columns(window: LoadedWindow, ms: ModelSettings) -> set[str]:
    """Input columns of ``window`` that are never drift features (see the module docstring)."""
    found = set(ms.not_features)
    found |= {str(c) for c in window.inputs.columns if is_time_column(window.inputs[c])}
    return found | _join_key_columns(window.inputs, window.meta)


def window_frames(window: LoadedWindow, ms: ModelSettings, *,
                  identifiers: set[str] | None = None,
                  ) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """``{"data": (inputs, categorical), "prediction": (outputs, categorical)}`` of served rows.

    Data columns are ``[models.NAME] features`` when configured, else every logged input;
    identifier columns (:func:`identifier_columns`, or ``identifiers`` when the caller found
    them on the window's first rows itself) are dropped either way. The ``prediction``
    column is categorical for classifiers.
    """
    served = served_rows(window).to_numpy()
    if identifiers is None:
        identifiers = identifier_columns(window, ms)
    inputs = window.inputs.reset_index(drop=True)[served].reset_index(drop=True)
    outputs = window.outputs.reset_index(drop=True)[served].reset_index(drop=True)
    if ms.features:
        missing = [f for f in ms.features if f not in inputs.columns]
        if missing and len(inputs):
            raise DataError(
                f"logged inputs of model {ms.name!r} lack configured feature(s) {missing}; "
                f"fix [models.{ms.name}] features or log those columns"
            )
        inputs = inputs[[f for f in ms.features if f in inputs.columns]]
    inputs = inputs[[c for c in inputs.columns if str(c) not in identifiers]]
    cat_data = [c for c in ms.categorical if c in inputs.columns]
    cat_pred = ["prediction"] if ms.task == "classification" and "prediction" in outputs else []
    return {"data": (inputs, cat_data), "prediction": (outputs, cat_pred)}

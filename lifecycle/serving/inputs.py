"""What a served model is given: the caller's input as a 2-D array or a DataFrame.

ManagedModel takes the input types ``@lifecycle.monitor`` logs (capture's rules, one place:
``lifecycle.capture.columns.piece_from_input``): a DataFrame or a 2-D numpy array as is, a
1-D array or a flat list as one row, a dict as one row (column -> value), a list of dicts
or of lists as rows. Models are scikit-learn or pyfunc models, which take arrays and frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifecycle.capture.columns import piece_from_input
from lifecycle.capture.records import CaptureSpec
from lifecycle.errors import DataError

_ndarray = np.ndarray
_frame = pd.DataFrame
#: ``piece_from_input`` names array columns from a spec; ours only needs the data.
_NO_NAMES = CaptureSpec(name="serving-input")


def model_input(obj: Any) -> Any:
    """``obj`` as a model takes it (a DataFrame or a numpy array, never copied when it is
    one already). Raises :class:`~lifecycle.errors.DataError` for an empty input or a type
    capture cannot read as rows."""
    kind = type(obj)
    if kind is _frame:
        return obj
    if kind is _ndarray:
        return obj.reshape(1, -1) if obj.ndim == 1 else obj
    if isinstance(obj, pd.Series):
        return obj.to_frame().T
    if isinstance(obj, _frame | _ndarray):  # subclasses
        return model_input(np.asarray(obj)) if isinstance(obj, _ndarray) else obj
    if isinstance(obj, dict) or (isinstance(obj, list | tuple) and obj
                                 and all(isinstance(r, dict) for r in obj)):
        names, data, _ = piece_from_input(obj, _NO_NAMES)
        return pd.DataFrame(data, columns=list(names))
    if isinstance(obj, list | tuple) and obj:
        arr = np.asarray(obj)
        if arr.ndim == 1:
            return arr.reshape(1, -1)
        if arr.ndim == 2:
            return arr
    raise DataError(
        f"ManagedModel cannot serve a {type(obj).__name__} input; pass a DataFrame, a numpy "
        "array, a dict (one row), or a list of dicts or of lists (rows)")

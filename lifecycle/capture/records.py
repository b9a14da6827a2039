"""What the hot path enqueues (:data:`Record`) and the cheap helpers it uses.

The caller's thread only builds a tuple (see ``hotpath.py``); the conversion to columns runs
in the writer thread (``columns.py``, ``build.py``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.capture.ids import call_prefix, prediction_ids
from lifecycle.capture.importances import FeatureImportances

#: A record: (spec, inputs, outputs, wall_time_s, latency_s, rand48, method, request_id).
#: ``request_id`` is None, one id for every row of the call, or (``CaptureSpec.requests ==
#: SHADOW_REQUESTS``) a tuple with one id per row.
Record = tuple[Any, ...]
R_SPEC, R_IN, R_OUT, R_TS, R_LAT, R_RAND, R_METHOD, R_REQ = range(8)

#: ``CaptureSpec.requests``: each row opens a request, its request id is its own prediction id
#: (the champion of a ``ManagedModel``).
OWN_REQUESTS = "own"
#: ``CaptureSpec.requests``: rows answer requests opened elsewhere (a challenger scored in
#: shadow): ``R_REQ`` holds one request id per row, and a row joins outcomes by its
#: ``id_column`` value or else by its request id, i.e. by the served row's join key.
SHADOW_REQUESTS = "shadow"

#: Arrays up to this many elements are copied on the caller's thread (cheap: < 1 us).
COPY_LIMIT = 4096
#: Output arrays up to this many elements are copied (one-row results).
OUTPUT_COPY_LIMIT = 256

Note = Callable[[str, str], None]


@dataclass(eq=False)
class CaptureSpec:
    """Everything fixed at decoration time for one monitored predictor."""

    name: str
    version: str | None = None
    role: str = "unmanaged"
    id_column: str | None = None
    redact: frozenset[str] = frozenset()
    hash_columns: frozenset[str] = frozenset()
    hash_key: bytes | None = None
    feature_names: tuple[str, ...] | None = None
    classes: tuple[Any, ...] | None = None
    #: ``"proba"``: 2-D (and, for two classes, 1-D) outputs of a function are class
    #: probabilities; ``None``: they are when ``classes`` is given (see ``columns.py``).
    output: str | None = None
    estimator: Any = None
    #: The estimator's importances, read once when it was wrapped (``importances.py``);
    #: the writer stores them in ``models.details`` (None: unknown).
    importances: FeatureImportances | None = None
    database_url: str | None = None
    sample_rate: float = 1.0
    rng: random.Random | None = None
    #: The seed ``rng`` was made from (a clone or an unpickled copy starts from it again).
    seed: int | None = None
    durable: bool = False
    copy_inputs: bool | None = None
    #: How rows get their request id: None (from the record), ``OWN_REQUESTS`` or
    #: ``SHADOW_REQUESTS`` (see above). Read by the writer only, never on the hot path.
    requests: str | None = None
    #: Time source for the record timestamp (aware datetime); None = the wall clock.
    #: Simulations and backfills pass their own clock.
    clock: Callable[[], datetime] | None = None
    # caches filled by the writer thread
    _cache: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        """Safe to log: the hash key shows as ``'***'``, the database URL without its
        password, the estimator by its type only; caches are left out."""
        from lifecycle.storage.engine import redact_url

        url = None if self.database_url is None else redact_url(self.database_url)
        key = None if self.hash_key is None else "***"
        estimator = None if self.estimator is None else type(self.estimator).__name__
        return (f"CaptureSpec(name={self.name!r}, version={self.version!r}, "
                f"role={self.role!r}, id_column={self.id_column!r}, "
                f"redact={sorted(self.redact)!r}, hash_columns={sorted(self.hash_columns)!r}, "
                f"hash_key={key!r}, feature_names={self.feature_names!r}, "
                f"classes={self.classes!r}, estimator={estimator!r}, database_url={url!r}, "
                f"sample_rate={self.sample_rate!r}, durable={self.durable!r})")


_ndarray = np.ndarray
# tuples, not ``X | Y``: a union written in a function body is built again on every call
_FRAMES = (pd.DataFrame, pd.Series)
_SEQUENCES = (list, tuple)
_ROW_LIKE = (dict, list, tuple, np.ndarray)


def count_rows(obj: Any) -> int:
    """How many prediction rows an input object holds (the same rule everywhere)."""
    if isinstance(obj, _ndarray):
        return len(obj) if obj.ndim > 1 else 1
    if isinstance(obj, pd.DataFrame):
        return len(obj)
    if isinstance(obj, _SEQUENCES) and obj:
        if isinstance(obj[0], _ROW_LIKE):
            return len(obj)
    return 1


def guard_output(obj: Any, copy: bool | None) -> Any:
    """Outputs are fresh objects made by the predictor: copy only small arrays (one-row
    results) unless ``copy=True``; DataFrames/Series get a copy-on-write snapshot."""
    if obj is None:
        return obj
    if isinstance(obj, _ndarray):
        if copy or (copy is None and obj.size <= OUTPUT_COPY_LIMIT):
            return obj.copy()
        return obj
    return guard_input(obj, copy)


def guard_input(obj: Any, copy: bool | None) -> Any:
    """Protect the record from later in-place changes by the caller (cheap cases only).

    numpy arrays are copied when small (or always with ``copy=True``); DataFrames get a
    shallow copy, which pandas' copy-on-write turns into a snapshot; other objects are kept
    by reference (see docs/capture.md).
    """
    if obj is None:
        return obj
    if isinstance(obj, _ndarray):
        if copy or (copy is None and obj.size <= COPY_LIMIT):
            return obj.copy()
        return obj
    if isinstance(obj, _FRAMES):
        return obj.copy(deep=bool(copy))
    if copy:
        if isinstance(obj, dict):
            return dict(obj)
        if isinstance(obj, list):
            return list(obj)
    return obj


def ids_of(record: Record) -> list[str]:
    """Prediction ids of a record, in input row order."""
    return prediction_ids(call_prefix(record[R_TS], record[R_RAND]), count_rows(record[R_IN]))


def normalize_key(value: Any) -> str | None:
    """The join-key string of a value: integral numbers lose their ``.0``; None/NaN -> None."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        if math.isnan(f):
            return None
        return str(int(f)) if f.is_integer() else repr(f)
    if isinstance(value, bytes):
        return value.hex()
    text = str(value)
    return text[:255] if text else None

"""Shadow predictions: a challenger's answers to requests another model served.

A served row (``@monitor``, or a :class:`lifecycle.ManagedModel`'s champion) opens a request
whose id is its prediction id. A challenger's prediction for the same input row is logged
with role ``challenger``, its own version, the served row's prediction id as request id, and
the served row's join key (its ``id_column`` value, else that same prediction id), so one
label logged with :func:`lifecycle.log_outcomes` labels both rows.

>>> @lifecycle.monitor("churn")                                    # doctest: +SKIP
... def predict(features):
...     return champion.predict(features)
>>> served = predict(X)                                            # doctest: +SKIP
>>> ids = lifecycle.last_prediction_ids()                          # doctest: +SKIP
>>> lifecycle.log_shadow("churn", X, challenger.predict(X),        # doctest: +SKIP
...                      request_ids=ids, version="7")

See ``docs/serving.md``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from lifecycle.capture import ids, runtime
from lifecycle.capture.monitor import capture_spec
from lifecycle.capture.records import (
    SHADOW_REQUESTS,
    CaptureSpec,
    count_rows,
    guard_input,
    guard_output,
)
from lifecycle.errors import DataError
from lifecycle.states import CHALLENGER

#: The method recorded for :func:`log_shadow` rows: outputs are read like a monitored
#: function's (``classes`` / ``output="proba"`` make 2-D outputs class probabilities).
CALL = "call"

_specs: dict[tuple[Any, ...], CaptureSpec] = {}
_specs_lock = threading.Lock()


def shadow_spec(model: str, *, version: str | int | None, id_column: str | None = None,
                **options: Any) -> CaptureSpec:
    """The capture spec of ``model``'s challenger rows (role ``challenger``, request ids
    given per row). ``options`` are :func:`lifecycle.monitor`'s (``redact``,
    ``hash_columns``, ``feature_names``, ``classes``, ``output``, ``database_url``...)."""
    return capture_spec(model, version=version, id_column=id_column, role=CHALLENGER,
                        requests=SHADOW_REQUESTS, **options)


def submit_shadow(spec: CaptureSpec, features: Any, outputs: Any,
                  request_ids: Sequence[str], *, method: str, latency_s: float,
                  wall: float | None = None) -> None:
    """Queue one shadow record (``request_ids``: one per row of ``features``, already
    checked by the caller). Never blocks; a full writer queue spills like any record."""
    record = (spec, features, outputs, time.time() if wall is None else wall,
              latency_s, ids.getrandbits(48), method, tuple(request_ids))
    runtime.writer_for(spec.database_url).submit(record, len(request_ids))


def log_shadow(
    model: str,
    features: Any,
    predictions: Any,
    *,
    request_ids: Iterable[str],
    version: str | int,
    id_column: str | None = None,
    latency_ms: float | None = None,
    redact: str | Iterable[str] = (),
    hash_columns: str | Iterable[str] = (),
    feature_names: Iterable[str] | None = None,
    classes: Iterable[Any] | None = None,
    output: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Log a challenger's predictions for requests a monitored model served.

    Parameters
    ----------
    model
        The monitored model's name (the one given to ``@lifecycle.monitor``).
    features
        The rows the served model answered (same input types as ``@monitor``), in the order
        of ``request_ids``.
    predictions
        The challenger's outputs for ``features`` (read like a monitored function's: pass
        ``classes`` or ``output="proba"`` for class probabilities).
    request_ids
        One per row: the served rows' prediction ids, from
        :func:`lifecycle.last_prediction_ids` or ``capture_context().prediction_ids``.
    version
        The challenger's model version.
    id_column
        The served model's ``id_column``, if it has one: a row's join key is then that
        column's value, as on the served row; otherwise its request id (the served row's
        prediction id, which is that row's join key too).
    latency_ms
        The challenger's time for the whole call, if measured (stored on every row, like a
        monitored call's); None stores no latency.
    redact, hash_columns, feature_names, classes, output, database_url, clock
        As for :func:`lifecycle.monitor` (use the served model's ``redact`` and
        ``hash_columns``).

    Returns
    -------
    The number of rows queued (written by the background writer; :func:`lifecycle.flush`
    waits for them).

    Raises
    ------
    DataError
        ``request_ids`` does not hold one id per row of ``features``.
    ConfigError
        An invalid option (as :func:`lifecycle.monitor`).
    """
    ids_list = [str(r) for r in request_ids]
    rows = count_rows(features)
    if len(ids_list) != rows or any(not r for r in ids_list):
        raise DataError(
            f"log_shadow({model!r}): {rows} feature rows and {len(ids_list)} request ids; "
            "pass one request id per row: the served call's lifecycle.last_prediction_ids()")
    key = (model, str(version), id_column, _frozen(redact), _frozen(hash_columns),
           None if feature_names is None else tuple(feature_names),
           None if classes is None else tuple(classes), output, database_url, clock)
    with _specs_lock:
        spec = _specs.get(key)
    if spec is None:
        spec = shadow_spec(model, version=version, id_column=id_column, redact=redact,
                           hash_columns=hash_columns, feature_names=feature_names,
                           classes=classes, output=output, database_url=database_url,
                           clock=clock)
        runtime.note_monitored(model)
        with _specs_lock:
            spec = _specs.setdefault(key, spec)
    wall = None if clock is None else clock().timestamp()
    latency = float("nan") if latency_ms is None else float(latency_ms) / 1000.0
    submit_shadow(spec, guard_input(features, None), guard_output(predictions, None),
                  ids_list, method=CALL, latency_s=latency, wall=wall)
    return rows


def _frozen(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(sorted(value))

"""Capture every prediction: ``@lifecycle.monitor``, ``flush``, ``stats``, ``log_outcomes``.

>>> import lifecycle
>>> @lifecycle.monitor("churn", id_column="customer_id")       # doctest: +SKIP
... def predict(features):
...     return model.predict_proba(features)
>>> clf = lifecycle.monitor("churn")(fitted_estimator)          # doctest: +SKIP

See ``docs/capture.md`` for the guarantees (what can be lost, when) and the measured cost.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifecycle.capture import runtime
from lifecycle.capture.build import build_batch
from lifecycle.capture.estimator import MonitoredEstimator
from lifecycle.capture.hotpath import (
    ESTIMATOR_METHODS,
    features_position,
    last_record,
    pop_context,
    push_context,
    wrap_callable,
)
from lifecycle.capture.importances import read_importances
from lifecycle.capture.records import CaptureSpec, Record, ids_of
from lifecycle.capture.runtime import FlushResult
from lifecycle.errors import ConfigError, DataError
from lifecycle.states import ROLES, UNMANAGED

__all__ = [
    "monitor", "flush", "stats", "log_outcomes", "configure", "capture_context",
    "last_prediction_ids", "CaptureContext", "FlushResult",
]

#: Values of ``monitor(output=...)``.
OUTPUT_KINDS = (None, "proba")


def _names(value: str | Iterable[str] | None, arg: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset([value])
    items = list(value)
    if not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"{arg} must be a column name or a list of column names, "
                          f"got {value!r}")
    return frozenset(items)


def monitor(
    model: str,
    *,
    id_column: str | None = None,
    version: str | int | None = None,
    redact: str | Iterable[str] = (),
    hash_columns: str | Iterable[str] = (),
    sample_rate: float = 1.0,
    seed: int | None = None,
    feature_names: Iterable[str] | None = None,
    classes: Iterable[Any] | None = None,
    output: str | None = None,
    database_url: str | None = None,
    durable: bool = False,
    copy_inputs: bool | None = None,
    hash_key: str | bytes | None = None,
    role: str = UNMANAGED,
    clock: Callable[[], datetime] | None = None,
) -> Callable[[Any], Any]:
    """Log every prediction of a function or an estimator.

    Parameters
    ----------
    model
        Name of the monitored model (created in the database on first write).
    id_column
        Input column whose value is the join key for :func:`log_outcomes`; without it the
        join key is the prediction id.
    version
        Model version stored with each row.
    redact
        Input columns dropped before anything is stored or spilled.
    hash_columns
        Input columns stored as keyed HMAC-SHA256 (key: ``hash_key``, else the
        ``LIFECYCLE_HASH_KEY`` / ``hash_key`` setting).
    sample_rate
        Share of calls logged, in (0, 1]; ``seed`` makes the sampling reproducible.
    feature_names
        Column names for numpy inputs (default: the estimator's ``feature_names_in_``,
        else ``x0, x1, ...``).
    classes
        Class labels of a function's outputs: with them, a function returning a 2-D array
        (one column per class, e.g. ``predict_proba``) is logged as class probabilities,
        ``proba_<class>`` plus the predicted class (estimators: ``classes_``).
    output
        ``"proba"``: the function returns class probabilities (2-D, one column per class in
        ``classes`` order, else ``0, 1, ...``; or 1-D for two classes: P(second class)).
        Default ``None``: 2-D outputs are probabilities when ``classes`` is given, other
        2-D outputs are stored as ``output_0, output_1, ...``.
    database_url
        Write to this database instead of the configured one.
    durable
        Write each call synchronously before returning (zero loss even on SIGKILL, at the
        cost of a database round trip per call).
    copy_inputs
        ``None`` (default): copy numpy arrays up to 4,096 values and snapshot DataFrames
        (copy-on-write), keep larger arrays by reference; ``True``: always copy;
        ``False``: never copy.
    role
        ``unmanaged`` (default), ``champion`` or ``challenger`` (used by serving).
    clock
        Zero-argument callable returning an aware UTC ``datetime`` used as each record's
        timestamp (default: the wall clock). For simulations, replays and backfills; a
        clock that raises or returns a naive datetime falls back to the wall clock and is
        counted as an error.

    Returns
    -------
    A decorator: apply it to a function (first argument = features) or to an object with
    ``predict`` / ``predict_proba`` / ``decision_function``.

    Raises
    ------
    ConfigError
        An invalid argument, or settings (``lifecycle.toml``, ``LIFECYCLE_*``) that cannot be
        loaded: decoration happens at import / deploy time, so a broken configuration stops
        the deploy instead of silently dropping every record.
    """
    spec = capture_spec(
        model, id_column=id_column, version=version, redact=redact, hash_columns=hash_columns,
        sample_rate=sample_rate, seed=seed, feature_names=feature_names, classes=classes,
        output=output, database_url=database_url, durable=durable, copy_inputs=copy_inputs,
        hash_key=hash_key, role=role, clock=clock)
    runtime.note_monitored(model)

    def decorate(target: Any) -> Any:
        return wrap_target(spec, target)

    return decorate


def wrap_target(spec: CaptureSpec, target: Any) -> Any:
    """``target`` logged under ``spec``: a :class:`MonitoredEstimator` for an object with
    predict / predict_proba / decision_function, else a wrapped function."""
    if any(callable(getattr(target, m, None)) for m in ESTIMATOR_METHODS) and not (
        inspect.isfunction(target) or inspect.ismethod(target)
    ):
        spec.estimator = target
        spec.importances = read_importances(target, spec.feature_names)  # never raises
        return MonitoredEstimator(target, spec)
    if callable(target):
        index, name = features_position(target)
        return wrap_callable(target, spec, "call", index, name)
    raise TypeError(
        f"lifecycle.monitor({spec.name!r}) needs a function or an object with predict / "
        f"predict_proba / decision_function, got {type(target).__name__}"
    )


def capture_spec(
    model: str,
    *,
    id_column: str | None = None,
    version: str | int | None = None,
    redact: str | Iterable[str] = (),
    hash_columns: str | Iterable[str] = (),
    sample_rate: float = 1.0,
    seed: int | None = None,
    feature_names: Iterable[str] | None = None,
    classes: Iterable[Any] | None = None,
    output: str | None = None,
    database_url: str | None = None,
    durable: bool = False,
    copy_inputs: bool | None = None,
    hash_key: str | bytes | None = None,
    role: str = UNMANAGED,
    clock: Callable[[], datetime] | None = None,
    requests: str | None = None,
) -> CaptureSpec:
    """The validated :class:`CaptureSpec` of :func:`monitor`'s arguments (serving and
    :func:`lifecycle.log_shadow` build theirs here too). ``requests``: see
    ``CaptureSpec.requests``. Raises :class:`~lifecycle.errors.ConfigError` like
    :func:`monitor`."""
    if not isinstance(model, str) or not model.strip() or len(model) > 200:
        raise ConfigError(f"model name must be a non-empty string of at most 200 characters, "
                          f"got {model!r}")
    if version is not None:
        version = str(version)
        if len(version) > 64:
            raise ConfigError(f"version {version!r} is longer than 64 characters; shorten it")
    if clock is not None and not callable(clock):
        raise ConfigError(f"clock must be a zero-argument callable returning a datetime, "
                          f"got {clock!r}")
    if role not in ROLES:
        raise ConfigError(f"role={role!r} is not valid; choose one of {', '.join(ROLES)}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | float) or not (
        0.0 < sample_rate <= 1.0
    ):
        raise ConfigError(f"sample_rate must be a number in (0, 1], got {sample_rate!r}")
    if id_column is not None and (not isinstance(id_column, str) or not id_column):
        raise ConfigError(f"id_column must be a column name, got {id_column!r}")
    if output not in OUTPUT_KINDS:
        raise ConfigError(f"output={output!r} is not valid; use output=\"proba\" for a "
                          "function returning class probabilities, or leave it unset")
    class_list = tuple(classes) if classes is not None else None
    if class_list is not None and (not class_list or len(set(map(str, class_list)))
                                   != len(class_list)):
        raise ConfigError(f"classes must list each class once, got {classes!r}")
    runtime.validate_settings()
    hashed = _names(hash_columns, "hash_columns")
    key: bytes | None = None
    if hashed:
        raw_key = hash_key if hash_key is not None else runtime.current_settings().hash_key
        if not raw_key:
            raise ConfigError(
                f"hash_columns={sorted(hashed)} needs a secret key: set LIFECYCLE_HASH_KEY "
                "or hash_key in lifecycle.toml, or pass monitor(..., hash_key=...)"
            )
        key = raw_key.encode("utf-8") if isinstance(raw_key, str) else bytes(raw_key)
    return CaptureSpec(
        name=model, version=version, role=role, id_column=id_column,
        redact=_names(redact, "redact"), hash_columns=hashed, hash_key=key,
        feature_names=tuple(str(n) for n in feature_names) if feature_names is not None
        else None,
        classes=class_list, output=output,
        database_url=database_url, sample_rate=float(sample_rate),
        rng=random.Random(seed) if seed is not None else None, seed=seed,
        durable=bool(durable), copy_inputs=copy_inputs, clock=clock, requests=requests,
    )


def configure(*, database_url: str | None = None, settings: Any = None, **capture: Any) -> None:
    """Set the database and capture settings explicitly (see :func:`runtime.configure`).

    Stops running writers first (after draining them), so it takes effect for new records;
    the counters of :func:`stats` start again from zero, like the new writers'.
    """
    runtime.shutdown()
    runtime.configure(database_url=database_url, settings=settings, **capture)


def flush(timeout: float | None = None) -> FlushResult:
    """Block until everything logged so far is in the database; say what was lost.

    Returns a :class:`FlushResult`, true only when every row logged before the call is in
    the database and no row was lost since the previous flush (so ``assert
    lifecycle.flush()`` and ``if not lifecycle.flush(5): ...`` keep working). It is false
    when ``timeout`` (seconds) passed first, e.g. while the database is down (the rows are
    then safe in the spill file and are written when it comes back: ``complete`` is False),
    or when rows were dropped (``dropped``, and ``lost`` by kind: invalid settings, a record
    that could not be built, a batch the database refused); a dropped row is reported by
    one flush only and logged as a warning.
    """
    return runtime.flush(timeout)


def stats() -> dict[str, Any]:
    """Counters of this process: logged, written, spilled, replayed, dropped_sampling,
    dropped (rows lost before reaching a writer, e.g. invalid settings; per kind in
    ``dropped_by_kind``), errors (and per kind), overflow, rejected, duplicates_skipped,
    queued, degraded."""
    totals: dict[str, Any] = {
        "logged": 0, "written": 0, "spilled": 0, "replayed": 0, "dropped_sampling": 0,
        "dropped": 0, "dropped_by_kind": {},
        "errors": 0, "overflow": 0, "rejected": 0, "duplicates_skipped": 0, "queued": 0,
        "spill_pending_rows": 0, "degraded": False, "errors_by_kind": {},
    }
    for writer in runtime.writers():
        snap = writer.snapshot()
        for name, value in snap.items():
            if name == "errors_by_kind":
                for kind, n in value.items():
                    totals["errors_by_kind"][kind] = totals["errors_by_kind"].get(kind, 0) + n
            elif name == "degraded":
                totals["degraded"] = totals["degraded"] or value
            else:
                totals[name] += value
    for kind, n in runtime.caller_health().snapshot()["errors_by_kind"].items():
        totals["errors"] += n
        totals["errors_by_kind"][kind] = totals["errors_by_kind"].get(kind, 0) + n
    totals["dropped_sampling"] = runtime.sampled_out()
    totals["dropped_by_kind"] = runtime.dropped()
    totals["dropped"] = sum(totals["dropped_by_kind"].values())
    return totals


def log_outcomes(
    model: str,
    keys: Any,
    labels: Any,
    *,
    timestamps: Any = None,
    received_at: datetime | None = None,
    database_url: str | None = None,
    create: bool = False,
) -> int:
    """Record ground truth for logged predictions, one or many, at any time.

    ``timestamps`` are the event times of the labels (default: now). ``received_at`` is when
    the labels reached you (default: now); label delay is measured with it, so replays,
    backfills and simulations pass their own.

    ``keys`` are join keys (``id_column`` values, or prediction ids). Labels are stored as
    JSON (and as a number when numeric). A key logged again replaces the earlier label
    (latest received wins; ``revisions`` counts replacements). Written synchronously;
    raises :class:`~lifecycle.errors.DataError` for bad input and
    :class:`~lifecycle.errors.DatabaseError` when the database refuses.

    The model must be known, so a typo does not create a phantom model: it has logged
    predictions, or is configured (``[models.NAME]`` in ``lifecycle.toml``), or a
    ``lifecycle.monitor(NAME)`` exists in this process (labels may arrive before the first
    prediction is flushed). Otherwise :class:`~lifecycle.errors.UnknownModelError` names
    close matches; ``create=True`` records labels for a model that has logged nothing yet.

    Returns the number of distinct keys written.
    """
    from lifecycle.capture.outcomes import build_rows, write_outcomes

    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f"model must be a model name, got {model!r}")
    if received_at is not None and (
        not isinstance(received_at, datetime) or received_at.tzinfo is None
    ):
        raise DataError(f"received_at must be an aware datetime (e.g. datetime.now(UTC)), "
                        f"got {received_at!r}")
    rows = build_rows(keys, labels, timestamps)
    if not rows:
        return 0
    known = create or runtime.is_monitored(model) or model in runtime.current_settings().models
    engine = runtime.writer_for(database_url)._engine_or_make()
    return write_outcomes(engine, model, rows, received_at=received_at, create=known)


@dataclass
class CaptureContext:
    """What was logged on this thread inside a :func:`capture_context` block."""

    records: list[Record] = field(default_factory=list)

    @property
    def prediction_ids(self) -> list[str]:
        """Ids of every logged row, in call order then row order."""
        return [pid for rec in self.records for pid in ids_of(rec)]

    @property
    def join_keys(self) -> list[str]:
        """Join keys of every logged row (``id_column`` values, else the prediction ids)."""
        keys: list[str] = []
        for rec in self.records:
            built = build_batch([rec], lambda _kind, _msg: None)
            keys.extend(built.outputs.column("_join_key").to_pylist())
        return keys


@contextmanager
def capture_context() -> Iterator[CaptureContext]:
    """Collect the ids of what monitored calls log on this thread inside the block.

    >>> with lifecycle.capture_context() as cap:                    # doctest: +SKIP
    ...     clf.predict_proba(X)
    >>> cap.prediction_ids                                          # doctest: +SKIP
    """
    ctx = CaptureContext()
    push_context(ctx.records)
    try:
        yield ctx
    finally:
        pop_context(ctx.records)


def last_prediction_ids() -> list[str]:
    """Ids of the rows logged by the last monitored call on this thread ([] if sampled out)."""
    record = last_record()
    return ids_of(record) if record is not None else []


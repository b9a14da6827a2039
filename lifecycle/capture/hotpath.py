"""The caller's side of capture: wrap a function or an estimator method.

The wrapped call runs first, untouched: its return value and its exceptions are exactly
those of the bare call (an exception is not logged and propagates as is). Then, inside a
``try`` that swallows everything, the wrapper builds one tuple and appends it to the
writer's queue; that is all the caller pays for.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from lifecycle.capture import ids, runtime
from lifecycle.capture.records import (
    COPY_LIMIT,
    OUTPUT_COPY_LIMIT,
    CaptureSpec,
    Record,
    count_rows,
    guard_input,
    guard_output,
)
from lifecycle.errors import ConfigError

ESTIMATOR_METHODS = ("predict", "predict_proba", "decision_function")


class _Local(threading.local):
    # class-level defaults: reading an attribute a thread never set is a plain lookup, not
    # a caught AttributeError (``getattr(local, name, None)`` costs ~0.6 us when missing)
    last: Record | None = None
    ctx: list[list[Record]] | None = None


_tls = _Local()
_perf = time.perf_counter
_wall = time.time
_rand = ids.getrandbits
_generation = runtime.generation
_terminating = runtime.terminating
_ndarray = np.ndarray


def _internal_error(kind: str, exc: BaseException) -> None:
    runtime.caller_health().note(kind, f"{exc!r}; the prediction was served")


def _record_lost(exc: BaseException, features: Any) -> None:
    """The record of a served call could not be queued: count its rows as dropped (``flush``
    reports them) and say why; invalid settings get their own kind and the fix."""
    try:
        rows = count_rows(features)
    except Exception:  # noqa: BLE001 - counting must not fail either
        rows = 1
    if isinstance(exc, ConfigError):
        runtime.count_dropped(
            "settings", rows,
            f"the lifecycle settings cannot be loaded, so every monitored call drops its record "
            f"(the predictions are served): {exc}")
    else:
        runtime.count_dropped("record", rows,
                              f"{exc!r}; the record was dropped, the prediction was served")


def last_record() -> Record | None:
    return _tls.last


def push_context(records: list[Record]) -> None:
    stack = _tls.ctx
    if stack is None:
        stack = _tls.ctx = []
    stack.append(records)


def pop_context(records: list[Record]) -> None:
    stack = _tls.ctx
    if stack and stack[-1] is records:
        stack.pop()


def _await_exit() -> None:
    """SIGTERM arrived: block on the lock the drain holds until the process dies, so no
    monitored call returns whose record could miss the drain (see ``runtime``)."""
    with runtime.terminate_lock:
        pass


def _sampled_out(spec: CaptureSpec, features: Any) -> bool:
    """Draw the sampling decision of one call; a dropped call is counted (all its rows)."""
    rng = spec.rng
    if (rng.random() if rng is not None else ids.rng.random()) < spec.sample_rate:
        return False
    _tls.last = None
    runtime.count_sampled_out(count_rows(features))
    return True


def _refresh_writer(spec: CaptureSpec, cache: list[Any]) -> Any:
    """The writer of ``spec``'s database, cached until the runtime generation changes
    (a forked child, :func:`runtime.shutdown`, a new :func:`configure`)."""
    writer = runtime.writer_for(spec.database_url)
    cache[0], cache[1] = writer, _generation[0]
    return writer


def _clock_seconds(clock: Callable[[], Any]) -> float:
    """Epoch seconds from a user clock; a failing or naive clock falls back to the wall clock
    (counted and logged), because monitoring never breaks the prediction."""
    try:
        now = clock()
        if now.tzinfo is None:
            raise ValueError("clock() returned a naive datetime; return an aware UTC datetime")
        return float(now.timestamp())
    except Exception as exc:  # noqa: BLE001 - logging must never break serving
        _internal_error("clock", exc)
        return _wall()


def wrap_callable(fn: Callable[..., Any], spec: CaptureSpec, method: str,
                  features_index: int = 0, features_name: str | None = None
                  ) -> Callable[..., Any]:
    """A wrapper of ``fn`` that logs its features argument and its result.

    The logging part is written out in one frame on purpose (this is the per-call cost the
    caller pays; every helper call is ~0.1 us): the rare cases (SIGTERM, sampling, a new
    writer, non-numpy objects, ``durable=True``) are branches that call out.
    """
    cache: list[Any] = [None, -1]

    clock = spec.clock

    @functools.wraps(fn)
    def monitored(*args: Any, **kwargs: Any) -> Any:
        wall = _wall() if clock is None else _clock_seconds(clock)
        t0 = _perf()
        result = fn(*args, **kwargs)
        latency = _perf() - t0
        features: Any = None
        try:
            if len(args) > features_index:
                features = args[features_index]
            else:
                features = kwargs[features_name] if features_name else None
            if _terminating[0]:
                _await_exit()
            if spec.sample_rate < 1.0 and _sampled_out(spec, features):
                return result
            writer = cache[0]
            if writer is None or cache[1] != _generation[0]:
                writer = _refresh_writer(spec, cache)
            copy = spec.copy_inputs
            # numpy fast path: the same rules as guard_input / guard_output / count_rows
            if copy is None and type(features) is _ndarray:
                if features.size <= COPY_LIMIT:
                    features = features.copy()
                rows = len(features) if features.ndim > 1 else 1
            else:
                features = guard_input(features, copy)
                rows = count_rows(features)
            if copy is None and type(result) is _ndarray:
                outputs = result.copy() if result.size <= OUTPUT_COPY_LIMIT else result
            else:
                outputs = guard_output(result, copy)
            record = (spec, features, outputs, wall, latency, _rand(48), method, None)
            tls = _tls
            tls.last = record
            stack = tls.ctx
            if stack:
                for records in stack:
                    records.append(record)
            if spec.durable:
                writer.write_sync(record)
            else:
                writer.submit(record, rows)
        except Exception as exc:  # noqa: BLE001 - logging must never break serving
            _record_lost(exc, features)
        return result

    monitored.__lifecycle_spec__ = spec  # type: ignore[attr-defined]
    return monitored


def features_position(fn: Callable[..., Any]) -> tuple[int, str | None]:
    """Index and name of the features parameter (skips ``self`` / ``cls``)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return 0, None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if positional and positional[0].name in ("self", "cls"):
        return 1, positional[1].name if len(positional) > 1 else None
    return 0, positional[0].name if positional else None

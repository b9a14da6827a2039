"""The shadow: a challenger scores the champion's requests off the caller's path.

The caller's thread appends the champion's capture record (which already holds the inputs,
the prediction ids and the timestamp) and the challenger of the moment to a bounded
``deque``: one length check and one append, no lock, no wake-up. A request is scored by the
challenger that was installed when it was served, even if the alias moved since. When the
queue is full the request is not shadowed and is counted (``shadow_dropped``); the caller
never waits.

One background thread takes up to ``batch_rows`` rows of queued requests at a time, joins
consecutive requests of one shape (numpy arrays of one width and dtype, DataFrames with the
same columns, one method) into one input, calls the challenger once, checks the output (one
row per input row, no NaN) and splits it back per request. Each request is logged through
capture with role ``challenger``, the challenger's version, the champion rows' prediction
ids as request ids, the champion rows' join keys and the champion's timestamp (so both rows
fall in the same window). A micro-batch whose call raises or returns the wrong number of
rows is scored again request by request, so one bad request does not fail its neighbours;
a request that still fails is counted (``shadow_errors``) and logged (rate-limited).

The thread sleeps while the queue is empty (1 ms doubling to 20 ms), so the caller never
has to wake it. ``drain()`` puts a marker in the queue and waits for the thread to pass it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.capture.records import R_IN, R_METHOD, R_TS, Record, ids_of
from lifecycle.capture.shadow import submit_shadow
from lifecycle.capture.writer import HANDOFF_S
from lifecycle.serving.slot import PREDICT, PREDICT_PROBA, Slot
from lifecycle.serving.stats import Counters

log = logging.getLogger("lifecycle.serving")
_sleep = time.sleep

IDLE_MIN_S, IDLE_MAX_S = 0.001, 0.02
#: A failing challenger is logged once, then at most once per this many seconds.
LOG_EVERY_S = 60.0


class _Marker:
    """Put in the queue by ``drain``; set when the thread has scored everything before it."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class ShadowQueue:
    """Bounded queue of champion records and the thread that shadows them.

    Parameters
    ----------
    model
        The model name (for log messages).
    capacity
        Requests the queue holds; more are dropped and counted.
    batch_rows
        Rows per challenger call (at least one request per call, however many rows it has).
    counters
        Where ``shadowed``, ``shadow_dropped`` and ``shadow_errors`` are counted.
    """

    def __init__(self, model: str, capacity: int, batch_rows: int, counters: Counters) -> None:
        self.model = model
        self.capacity = capacity
        self.batch_rows = batch_rows
        self._counters = counters
        self._items: deque[Any] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_log = 0.0
        self._unlogged = 0

    # ------------------------------------------------------------------ caller's side

    def offer(self, record: Record, challenger: Slot) -> None:
        """Queue ``record`` for ``challenger``, or drop and count it when the queue is full."""
        items = self._items
        if len(items) < self.capacity:
            items.append((record, challenger))
        else:
            self._counters.add("shadow_dropped")

    def __len__(self) -> int:
        return sum(1 for item in tuple(self._items) if not isinstance(item, _Marker))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lifecycle-shadow-{self.model}")
        self._thread.start()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every request queued before the call has been scored (or dropped);
        False when ``timeout`` passed first or the thread is not running."""
        if self._thread is None or not self._thread.is_alive():
            return not self._items
        marker = _Marker()
        self._items.append(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Drain (up to ``timeout``) and stop the thread; True when drained."""
        drained = self.drain(timeout)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0 if timeout is None else max(timeout, 0.1))
        return drained

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        idle = IDLE_MIN_S
        while not self._stop.is_set():
            batch, markers = self._take()
            if not batch and not markers:
                time.sleep(idle)
                idle = min(idle * 2, IDLE_MAX_S)
                continue
            idle = IDLE_MIN_S
            _handoff()
            try:
                if batch:
                    self._score(batch)
            except Exception:  # noqa: BLE001 - the shadow thread must survive anything
                log.exception("shadow scoring of model %r failed", self.model)
                self._counters.add("shadow_errors", len(batch))
            finally:
                for marker in markers:
                    marker.done.set()

    def _take(self) -> tuple[list[tuple[Record, Slot]], list[_Marker]]:
        items = self._items
        batch: list[tuple[Record, Slot]] = []
        markers: list[_Marker] = []
        rows = 0
        while items:
            head = items[0]
            if isinstance(head, _Marker):
                markers.append(items.popleft())
                break  # everything before it is in this batch
            n = _rows(head[0][R_IN])
            if batch and rows + n > self.batch_rows:
                break
            batch.append(items.popleft())
            rows += n
        return batch, markers

    def _score(self, batch: list[tuple[Record, Slot]]) -> None:
        start = 0
        while start < len(batch):
            end = start + 1
            record, slot = batch[start]
            sig = _signature(record)
            while (end < len(batch) and sig is not None and batch[end][1] is slot
                   and _signature(batch[end][0]) == sig):
                end += 1
            group = [item[0] for item in batch[start:end]]
            _handoff()
            if not self._score_group(slot, group) and len(group) > 1:
                for record in group:  # isolate the request(s) that fail
                    self._score_group(slot, [record])
            start = end

    def _score_group(self, slot: Slot, group: Sequence[Record]) -> bool:
        """Score ``group`` in one call and log it; False when the whole call failed (raised
        or wrong number of rows), after counting it when the group is one request."""
        method = group[0][R_METHOD]
        fn = slot.predict_proba if method == PREDICT_PROBA else None
        used = PREDICT_PROBA if fn is not None else PREDICT
        fn = fn or slot.predict
        parts = [record[R_IN] for record in group]
        counts = [_rows(p) for p in parts]
        total = sum(counts)
        try:
            features = parts[0] if len(parts) == 1 else _concat(parts)
            t0 = time.perf_counter()
            out = fn(features)
            elapsed = time.perf_counter() - t0
            values = _as_array(out)
            if values.ndim == 0 or values.shape[0] != total:
                raise ValueError(f"returned {_shape(values)} for {total} input rows")
        except Exception as exc:  # noqa: BLE001 - a challenger never affects the caller
            if len(group) == 1:
                self._failed(slot, 1, exc)
            return False
        bad = _nan_rows(values)
        offset = 0
        for record, n in zip(group, counts, strict=True):
            piece = values[offset:offset + n]
            offset += n
            if bad is not None and bool(bad[offset - n:offset].any()):
                self._failed(slot, 1, ValueError("returned NaN"))
                continue
            ids = ids_of(record)
            submit_shadow(slot.spec, record[R_IN], piece, ids, method=used,
                          latency_s=elapsed * n / total, wall=record[R_TS])
            self._counters.add("shadowed")
            if offset % 64 == 0:
                _handoff()
        return True

    def _failed(self, slot: Slot, n: int, exc: BaseException) -> None:
        self._counters.add("shadow_errors", n)
        now = time.monotonic()
        self._unlogged += n
        if now - self._last_log >= LOG_EVERY_S or self._last_log == 0.0:
            log.warning("challenger version %s of model %r failed on %d request(s) since the "
                        "last message (latest: %r); the champion's answers are unaffected",
                        slot.version, self.model, self._unlogged, exc)
            self._last_log, self._unlogged = now, 0


def _handoff() -> None:
    """Let a serving thread that is waiting for the GIL in (see ``capture/writer.py``,
    ``HANDOFF_S``: without a real sleep it can wait up to the 5 ms switch interval)."""
    _sleep(HANDOFF_S)


def _rows(obj: Any) -> int:
    return int(obj.shape[0]) if isinstance(obj, np.ndarray | pd.DataFrame) else 1


def _signature(record: Record) -> tuple[Any, ...] | None:
    obj = record[R_IN]
    if isinstance(obj, np.ndarray) and obj.ndim == 2:
        return ("np", obj.shape[1], obj.dtype.str, record[R_METHOD])
    if isinstance(obj, pd.DataFrame):
        return ("df", tuple(obj.columns), tuple(map(str, obj.dtypes)), record[R_METHOD])
    return None


def _concat(parts: list[Any]) -> Any:
    """One input from several requests of one shape. Frames whose columns share one numeric
    dtype are joined as arrays (``pd.concat`` of 256 one-row frames held the GIL ~10x
    longer, time the callers' threads waited for)."""
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    dtypes = set(parts[0].dtypes)
    if len(dtypes) == 1 and isinstance(kind := dtypes.pop(), np.dtype) and kind.kind in "biuf":
        return pd.DataFrame(np.concatenate([p.to_numpy() for p in parts]),
                            columns=parts[0].columns)
    return pd.concat(parts, ignore_index=True)


def _as_array(out: Any) -> np.ndarray:
    if isinstance(out, pd.DataFrame | pd.Series):
        return out.to_numpy()
    if isinstance(out, np.ndarray):
        return out
    if isinstance(out, list | tuple):
        return np.asarray(out)
    raise TypeError(f"returned a {type(out).__name__}, not an array")


def _nan_rows(values: np.ndarray) -> np.ndarray | None:
    """Rows with a NaN (None when the output cannot hold NaN)."""
    if values.dtype.kind not in "fc":
        return None
    nan = np.isnan(values)
    return nan.reshape(nan.shape[0], -1).any(axis=1) if nan.ndim > 1 else nan


def _shape(values: np.ndarray) -> str:
    return "a scalar" if values.ndim == 0 else f"{values.shape[0]} rows"

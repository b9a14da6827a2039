"""The caller's side of capture, without a database: what the wrapper enqueues and how the
queue is bounded and woken. A fake writer stands in for the real one where only the record
matters; the real :class:`Writer` (never started) where the queue itself is under test."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.capture import hotpath, runtime
from lifecycle.capture.monitor import capture_context, last_prediction_ids
from lifecycle.capture.records import (
    COPY_LIMIT,
    OUTPUT_COPY_LIMIT,
    R_IN,
    R_METHOD,
    R_OUT,
    CaptureSpec,
    Record,
    count_rows,
    guard_input,
    guard_output,
)
from lifecycle.capture.writer import Writer
from lifecycle.config import CaptureSettings


class FakeWriter:
    def __init__(self) -> None:
        self.submitted: list[tuple[Record, int | None]] = []
        self.synced: list[Record] = []
        self.fail = False

    def submit(self, record: Record, rows: int | None = None) -> None:
        if self.fail:
            raise RuntimeError("queue broken")
        self.submitted.append((record, rows))

    def write_sync(self, record: Record) -> None:
        self.synced.append(record)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWriter]:
    writer = FakeWriter()
    monkeypatch.setattr(runtime, "writer_for", lambda url: writer)
    runtime._reset_counters()
    yield writer
    runtime._reset_counters()


def wrapped(spec: CaptureSpec | None = None, fn: Any = None) -> Any:
    return hotpath.wrap_callable(fn or (lambda features: "result"), spec or CaptureSpec("m"),
                                 "call")


def frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"a": np.arange(rows, dtype=float), "b": ["x"] * rows})


INPUTS: list[Any] = [
    np.float64(3.0), np.array(2.5), np.zeros(7), np.ones((1, 20)), np.ones((1000, 20)),
    np.ones((3, 2), order="F")[:, :1], np.ma.masked_array(np.ones((4, 2))), frame(1), frame(5),
    frame(0), {"a": 1}, [{"a": 1}, {"a": 2}], [[1, 2], [3, 4], [5, 6]], [1.0, 2.0], "text",
    None, pd.Series({"a": 1.0}),
]


@pytest.mark.parametrize("copy", [None, True, False])
@pytest.mark.parametrize("features", INPUTS, ids=lambda v: type(v).__name__)
def test_record_follows_the_guard_rules(fake: FakeWriter, features: Any,
                                        copy: bool | None) -> None:
    """The inlined numpy fast path copies, keeps and counts exactly like the helpers."""
    outputs = np.ones((count_rows(features), 2))
    fn = wrapped(CaptureSpec("m", copy_inputs=copy), lambda f: outputs)
    assert fn(features) is outputs
    (record, rows), = fake.submitted
    assert rows == count_rows(features) == count_rows(record[R_IN])
    for got, want, original in ((record[R_IN], guard_input(features, copy), features),
                                (record[R_OUT], guard_output(outputs, copy), outputs)):
        assert type(got) is type(want)
        assert (got is original) == (want is original)
        if isinstance(want, np.ndarray):
            np.testing.assert_array_equal(got, want)
        elif isinstance(want, pd.DataFrame | pd.Series):
            assert got.equals(want)
        else:
            assert got == want
    assert record[R_METHOD] == "call"


def test_small_arrays_are_snapshots_large_ones_references(fake: FakeWriter) -> None:
    fn = wrapped(fn=lambda f: f * 2)
    small, large = np.zeros((1, 20)), np.zeros((1000, 20))
    out_small, out_large = fn(small), fn(large)
    small[0, 0] = 9.0
    out_small[0, 0] = 9.0
    (rec_small, n_small), (rec_large, n_large) = fake.submitted
    assert rec_small[R_IN][0, 0] == 0.0 and rec_small[R_OUT][0, 0] == 0.0
    assert rec_large[R_IN] is large and rec_large[R_OUT] is out_large
    assert (n_small, n_large) == (1, 1000)


@pytest.mark.parametrize("size", [255, 256, 257, 4095, 4096, 4097])
def test_copy_limits_are_inclusive(fake: FakeWriter, size: int) -> None:
    features, outputs = np.zeros(size), np.zeros(size)
    wrapped(fn=lambda f: outputs)(features)
    (record, _), = fake.submitted
    assert (record[R_IN] is not features) == (size <= COPY_LIMIT)
    assert (record[R_OUT] is not outputs) == (size <= OUTPUT_COPY_LIMIT)
    # the helpers (used for array subclasses and explicit copy_inputs) agree
    assert (guard_input(features, None) is not features) == (size <= COPY_LIMIT)
    assert (guard_output(outputs, None) is not outputs) == (size <= OUTPUT_COPY_LIMIT)


def test_result_and_exceptions_are_the_calls_own(fake: FakeWriter) -> None:
    sentinel = object()
    assert wrapped(fn=lambda f: sentinel)(np.zeros(3)) is sentinel

    def boom(features: Any) -> None:
        raise KeyError("from the model")

    with pytest.raises(KeyError, match="from the model"):
        wrapped(fn=boom)(np.zeros(3))
    assert len(fake.submitted) == 1  # a call that raised is not logged


def test_logging_errors_are_swallowed_and_counted(fake: FakeWriter) -> None:
    fake.fail = True
    assert wrapped()(np.zeros(3)) == "result"
    assert runtime.caller_health().snapshot()["errors_by_kind"] == {"record": 1}


def test_durable_writes_synchronously(fake: FakeWriter) -> None:
    wrapped(CaptureSpec("m", durable=True))(np.zeros(3))
    assert len(fake.synced) == 1 and not fake.submitted


def test_sampling_drops_whole_calls_and_counts_their_rows(fake: FakeWriter) -> None:
    spec = CaptureSpec("m", sample_rate=0.5, rng=random.Random(3))
    draws = random.Random(3)
    kept = [draws.random() < 0.5 for _ in range(40)]
    fn = wrapped(spec)
    for keep in kept:
        before = len(fake.submitted)
        fn(np.zeros((10, 2)))
        assert len(fake.submitted) == before + keep
        last = hotpath.last_record()
        assert last is (fake.submitted[-1][0] if keep else None)
    assert len(fake.submitted) == sum(kept)
    assert runtime.sampled_out() == 10 * (40 - sum(kept))
    assert all(rows == 10 for _, rows in fake.submitted)


def test_last_ids_and_context_are_per_thread(fake: FakeWriter) -> None:
    fn = wrapped()
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(last_prediction_ids()))
    thread.start()
    thread.join()
    assert seen == [[]]  # a thread that never called has no last record
    with capture_context() as outer:
        fn(np.zeros((3, 2)))
        with capture_context() as inner:
            fn(np.zeros((2, 2)))
            other = threading.Thread(target=fn, args=(np.zeros((5, 2)),))
            other.start()
            other.join()
    fn(np.zeros(2))
    assert len(outer.prediction_ids) == 5 and len(inner.prediction_ids) == 2
    assert outer.prediction_ids[3:] == inner.prediction_ids
    assert len(last_prediction_ids()) == 1


def test_a_new_runtime_generation_refreshes_the_cached_writer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    writers = [FakeWriter(), FakeWriter()]
    monkeypatch.setattr(runtime, "writer_for", lambda url: writers[0])
    fn = wrapped()
    fn(np.zeros(2))
    monkeypatch.setattr(runtime, "writer_for", lambda url: writers[1])
    fn(np.zeros(2))
    assert (len(writers[0].submitted), len(writers[1].submitted)) == (2, 0)
    runtime.generation[0] += 1  # what a fork, shutdown() or configure() does
    fn(np.zeros(2))
    assert (len(writers[0].submitted), len(writers[1].submitted)) == (2, 1)


def test_after_sigterm_a_call_waits_for_the_drain(fake: FakeWriter,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    monkeypatch.setattr(runtime, "terminate_lock", lock)
    lock.acquire()  # held by the drain
    runtime.terminating[0] = True
    results: list[Any] = []
    caller = threading.Thread(target=lambda: results.append(wrapped()(np.zeros(2))))
    try:
        caller.start()
        caller.join(0.2)
        assert caller.is_alive() and not results and not fake.submitted
    finally:
        runtime.terminating[0] = False
        lock.release()  # (never happens in a real drain: the process dies)
    caller.join(5)
    assert results == ["result"] and len(fake.submitted) == 1


# ---------------------------------------------------------------------- Writer.submit


class CountingEvent(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def writer(tmp_path: Path, **capture: Any) -> Writer:
    w = Writer("sqlite:///unused.db", CaptureSettings(**capture), tmp_path / "spill")
    w.wake = CountingEvent()
    return w


def rec(rows: int) -> Record:
    return (CaptureSpec("m"), np.zeros((rows, 2)), None, 0.0, 0.0, 1, "call", None)


def test_submit_counts_rows_once_and_wakes_at_the_threshold(tmp_path: Path) -> None:
    w = writer(tmp_path, batch_size=10, queue_size=1000)
    assert w.wake_at == 10
    for _ in range(9):
        w.submit(rec(1))
    assert w.wake.sets == 0 and w.pending_rows == 9
    w.submit(rec(3), 3)  # rows given by the caller are not counted again
    assert w.wake.sets == 1 and w.pending_rows == 12
    for _ in range(5):  # already woken: no Event.set() per call
        w.submit(rec(1))
    assert w.wake.sets == 1 and w.pending_rows == 17 and len(w.queue) == 15
    w.wake.clear()  # the writer starts a cycle; the queue is still above the threshold
    w.submit(rec(1))
    assert w.wake.sets == 2


def test_full_queue_overflows_with_the_callers_row_count(tmp_path: Path) -> None:
    w = writer(tmp_path, batch_size=100, queue_size=10)
    w.submit(rec(25), 25)  # an empty queue takes any record
    w.submit(rec(1), 1)
    assert w.pending_rows == 25 and len(w.queue) == 1
    assert w._overflow_rows == 1 and w.health.snapshot()["overflow"] == 1
    w.submit(rec(4))
    assert w._overflow_rows == 5 and w.health.snapshot()["overflow"] == 5


def test_concurrent_submits_lose_no_row(tmp_path: Path) -> None:
    w = writer(tmp_path, batch_size=10**9, queue_size=10**9)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        barrier = threading.Barrier(8)

        def produce(seed: int) -> None:
            barrier.wait()
            for i in range(2000):
                rows = 1 + (seed + i) % 3
                w.submit(rec(rows), rows)

        threads = [threading.Thread(target=produce, args=(s,)) for s in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    assert len(w.queue) == 16000
    assert w.pending_rows == sum(count_rows(r[R_IN]) for r in w.queue)

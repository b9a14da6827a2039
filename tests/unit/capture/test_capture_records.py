"""Unit tests of the capture internals that need no database."""

from __future__ import annotations

import math
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.ids import call_prefix, new_id, prediction_ids
from lifecycle.capture.records import (
    CaptureSpec,
    count_rows,
    guard_input,
    ids_of,
    normalize_key,
)
from lifecycle.capture.spill import SpillWriter, read_frames, replay, spill_files
from lifecycle.config import load_settings
from lifecycle.errors import ConfigError
from lifecycle.storage.headline import headline


def record(spec: CaptureSpec, inputs: Any, outputs: Any, method: str = "call",
           ts: float | None = None) -> tuple[Any, ...]:
    return (spec, inputs, outputs, ts if ts is not None else time.time(), 0.001, 12345,
            method, None)


def no_note(kind: str, message: str) -> None:
    raise AssertionError(f"unexpected note {kind}: {message}")


def test_ids_are_time_ordered_unique_and_32_hex() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    early = prediction_ids(call_prefix(1_000.0, 5), 3)
    late = prediction_ids(call_prefix(1_000.002, 1), 1)
    assert early == sorted(early) and early[-1] < late[0]
    assert [i[-8:] for i in early] == ["00000000", "00000001", "00000002"]


@pytest.mark.parametrize("obj, n", [
    (np.zeros(5), 1), (np.zeros((4, 2)), 4), (pd.DataFrame({"a": [1, 2, 3]}), 3),
    (pd.Series({"a": 1}), 1), ({"a": 1}, 1), ([{"a": 1}, {"a": 2}], 2), ([1.0, 2.0], 1),
    ([[1, 2], [3, 4], [5, 6]], 3), ("text", 1), (None, 1), ([], 1),
])
def test_count_rows(obj: Any, n: int) -> None:
    assert count_rows(obj) == n


def test_guard_input_copies_small_arrays_and_snapshots_frames() -> None:
    small = np.ones((1, 20))
    guarded = guard_input(small, None)
    small[0, 0] = 99.0
    assert guarded[0, 0] == 1.0
    big = np.ones((1000, 20))
    assert guard_input(big, None) is big
    assert guard_input(big, True) is not big
    frame = pd.DataFrame({"a": [1.0]})
    snap = guard_input(frame, None)
    frame.loc[0, "a"] = 5.0
    frame["b"] = 1
    assert snap["a"].tolist() == [1.0] and list(snap.columns) == ["a"]


def test_normalize_key() -> None:
    assert normalize_key(5) == "5"
    assert normalize_key(5.0) == "5"
    assert normalize_key(np.int64(7)) == "7"
    assert normalize_key(2.5) == "2.5"
    assert normalize_key(float("nan")) is None
    assert normalize_key(None) is None
    assert normalize_key("abc") == "abc"


def test_odd_values_are_stored_faithfully_or_as_text() -> None:
    spec = CaptureSpec(name="m")
    rows = [
        {"f": float("nan"), "i": 2**70, "d": Decimal("1.25"), "b": b"\x00\x01", "n": None,
         "mixed": 1, "nested": {"x": [1, 2]}},
        {"f": float("inf"), "i": 1, "d": Decimal("2.50"), "b": b"", "n": None,
         "mixed": "one", "nested": {"x": [3]}},
    ]
    built = build_batch([record(spec, rows, [np.float64(0.5), None])], no_note)
    table = built.inputs
    f = table.column("f").to_pylist()
    assert math.isnan(f[0]) and f[1] == math.inf
    assert table.column("d").to_pylist() == [Decimal("1.25"), Decimal("2.50")]
    assert table.column("b").to_pylist() == [b"\x00\x01", b""]
    assert table.column("n").to_pylist() == [None, None]
    assert table.column("mixed").to_pylist() == ["1", "one"]
    assert table.column("i").to_pylist() == [str(2**70), "1"]
    assert table.column("nested").to_pylist() == [{"x": [1, 2]}, {"x": [3]}]
    assert built.outputs.column("prediction").to_pylist() == [0.5, None]


def test_numpy_records_merge_into_one_run_with_estimator_names() -> None:
    class Est:
        feature_names_in_ = np.array(["p", "q"])
        classes_ = np.array(["no", "yes"])

    spec = CaptureSpec(name="m", estimator=Est())
    recs = [record(spec, np.array([1.0, 2.0]), np.array([[0.2, 0.8]]), "predict_proba"),
            record(spec, np.array([[3.0, 4.0], [5.0, 6.0]]),
                   np.array([[0.9, 0.1], [0.4, 0.6]]), "predict_proba")]
    built = build_batch(recs, no_note)
    assert built.inputs.column_names == ["p", "q"]
    assert built.inputs.column("p").to_pylist() == [1.0, 3.0, 5.0]
    assert built.outputs.column("prediction").to_pylist() == ["yes", "no", "yes"]
    assert built.outputs.column("_prediction_id").to_pylist() == (
        ids_of(recs[0]) + ids_of(recs[1]))
    value, label = headline(built.outputs.select(["proba_no", "proba_yes", "prediction"]))
    assert value.to_pylist() == [0.8, 0.1, 0.6] and label.to_pylist() == ["yes", "no", "yes"]


def test_join_key_redaction_and_missing_id_column() -> None:
    notes: list[str] = []
    spec = CaptureSpec(name="m", id_column="uid", redact=frozenset({"uid", "secret"}))
    built = build_batch([record(spec, {"uid": 42.0, "secret": "s", "x": 1}, 1)],
                        lambda kind, msg: notes.append(kind))
    assert built.inputs.column_names == ["x"]
    assert built.outputs.column("_join_key").to_pylist() == ["42"]
    spec2 = CaptureSpec(name="m", id_column="missing")
    rec = record(spec2, {"x": 1}, 1)
    built = build_batch([rec], lambda kind, msg: notes.append(kind))
    assert built.outputs.column("_join_key").to_pylist() == ids_of(rec)
    assert notes == ["id_column_missing"]


def _headline(table: pa.Table) -> tuple[list[Any], list[Any]]:
    value, label = headline(table)
    return value.to_pylist(), label.to_pylist()


def test_headline_rules() -> None:
    t = pa.table({"prediction": pa.array([1, 0]), "score": [0.3, 0.4]})
    assert _headline(t) == ([1.0, 0.0], ["1", "0"])
    t = pa.table({"prediction": ["cat", None]})
    assert _headline(t) == ([None, None], ["cat", None])
    t = pa.table({"proba_a": [0.1, 0.5], "proba_b": [0.2, 0.3], "proba_c": [0.7, 0.2]})
    assert _headline(t)[0] == [0.7, 0.5]
    t = pa.table({"score": [1.5, float("nan")]})
    assert _headline(t) == ([1.5, None], [None, None])
    t = pa.table({"prediction": [True, False]})
    assert _headline(t) == ([1.0, 0.0], ["True", "False"])


def _batch(n: int) -> Any:
    spec = CaptureSpec(name="m")
    return encode(build_batch([record(spec, np.arange(n * 2.0).reshape(n, 2), np.zeros(n))],
                              no_note))


def test_spill_roundtrip_torn_tail_and_replay(tmp_path: Path) -> None:
    writer = SpillWriter(tmp_path, "tag")
    batches = [_batch(3), _batch(5)]
    for b in batches:
        writer.append(b)
    path = writer.path
    assert path is not None
    writer.close()
    with open(path, "ab") as fh:  # a frame cut short by a crash
        fh.write(b"LCS1\x10\x00")
    with open(path, "rb") as fh:
        back = list(read_frames(fh))
    assert [b.batch_id for b in back] == [b.batch_id for b in batches]
    assert back[1].outputs_table is None  # read back: decoded on demand
    assert back[1].outputs().equals(batches[1].outputs())

    seen: list[str] = []
    failing = {"left": 1}

    def write(group: list[Any]) -> list[bool]:
        if failing["left"]:
            failing["left"] -= 1
            raise ConnectionError("database away")
        seen.append([b.batch_id for b in group])
        return [b.n_rows != 3 for b in group]  # the 3-row batch was already there

    with pytest.raises(ConnectionError):
        replay(tmp_path, "tag", write)
    assert spill_files(tmp_path, "tag") == [path]
    assert replay(tmp_path, "tag", write, group_rows=4) == (5, 3)
    # groups of >= 4 rows: the 3-row frame waits for the next one, then they go together
    assert seen == [[b.batch_id for b in batches]]
    assert spill_files(tmp_path, "tag") == []


def test_open_spill_file_is_not_replayed_by_others(tmp_path: Path) -> None:
    writer = SpillWriter(tmp_path, "tag")
    writer.append(_batch(2))
    assert replay(tmp_path, "tag", lambda g: [True] * len(g)) == (0, 0)  # locked by its writer
    writer.close()
    assert replay(tmp_path, "tag", lambda g: [True] * len(g)) == (2, 0)


def test_capture_settings_validation(tmp_path: Path) -> None:
    cfg = tmp_path / "lifecycle.toml"
    cfg.write_text("[capture]\ndb_timeout_s = 2.5\nshutdown_timeout_s = 1\n"
                   "handle_sigterm = false\n")
    settings = load_settings(cfg, env={}, cwd=tmp_path)
    assert settings.capture.db_timeout_s == 2.5
    assert settings.capture.handle_sigterm is False
    cfg.write_text("[capture]\ndb_timeout_s = 0\n")
    with pytest.raises(ConfigError, match="capture.db_timeout_s"):
        load_settings(cfg, env={}, cwd=tmp_path)


def test_monitor_argument_errors() -> None:
    from lifecycle.capture.monitor import monitor

    with pytest.raises(ConfigError, match="sample_rate"):
        monitor("m", sample_rate=0)
    with pytest.raises(ConfigError, match="role"):
        monitor("m", role="boss")
    with pytest.raises(ConfigError, match="model name"):
        monitor("")
    with pytest.raises(TypeError, match="needs a function"):
        monitor("m")(42)


def test_monitor_is_the_function_whatever_was_imported_first() -> None:
    """The public face lives in ``lifecycle.capture.monitor``: importing that module binds
    ``lifecycle.capture.monitor``, never ``lifecycle.monitor``, so no callable-module trick is
    needed for ``lifecycle.monitor("m")`` to keep working."""
    import inspect
    import types

    import lifecycle
    import lifecycle.capture.monitor as face

    assert inspect.isfunction(lifecycle.monitor)
    assert lifecycle.monitor is face.monitor
    assert type(face) is types.ModuleType  # a plain module, not a callable subclass
    wrapped = lifecycle.monitor("m")(lambda features: 41 + 1)
    assert wrapped.__name__ == "<lambda>"
    for name in ("flush", "stats", "log_outcomes", "configure", "capture_context",
                 "last_prediction_ids"):
        assert getattr(lifecycle, name) is getattr(face, name)


def test_request_ids_live_in_the_outputs_blob() -> None:
    spec = CaptureSpec(name="m")
    plain = record(spec, np.zeros((2, 2)), np.zeros(2))
    served = (*record(spec, np.ones((1, 2)), np.ones(1))[:7], "req-1")
    built = build_batch([plain, served], no_note)
    assert built.outputs.column("_request_id").to_pylist() == [None, None, "req-1"]
    # a batch where no row has a request id stores no such column
    assert "_request_id" not in build_batch([plain], no_note).outputs.column_names


def test_old_spill_frame_request_ids_move_into_the_blob(tmp_path: Path) -> None:
    """Frames spilled before schema 0002 carried request ids in their JSON header."""
    import json
    import struct
    import zlib

    batch = _batch(2)
    header = json.dumps({"batch_id": batch.batch_id, "model": "m", "n_rows": 2,
                         "ts_min_us": batch.ts_min_us, "ts_max_us": batch.ts_max_us,
                         "request_ids": ["r1", None]}).encode()
    body = header + batch.inputs_blob + batch.outputs_blob
    path = tmp_path / "old.spill"
    path.write_bytes(struct.pack("<4sIQQI", b"LCS1", len(header), len(batch.inputs_blob),
                                 len(batch.outputs_blob), zlib.crc32(body)) + body)
    with open(path, "rb") as fh:
        (back,) = list(read_frames(fh))
    assert back.outputs().column("_request_id").to_pylist() == ["r1", None]
    from lifecycle.storage.codec import decode_table
    assert decode_table(back.outputs_blob).column("_request_id").to_pylist() == ["r1", None]


def test_replay_never_takes_a_spill_file_before_its_writer_locked_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay that runs while another thread is opening a new spill file must not read and
    delete that file before it is locked: the appended frame would be lost."""
    import threading

    from lifecycle.capture import spill

    real_flock = spill.fcntl.flock
    opening = threading.Event()

    def slow_flock(fd: int, op: int) -> None:
        if threading.current_thread().name == "appender":
            opening.set()
            time.sleep(0.3)  # the window between creating the file and locking it
        real_flock(fd, op)

    monkeypatch.setattr(spill.fcntl, "flock", slow_flock)
    writer = SpillWriter(tmp_path, "tag")
    batch = _batch(2)
    appender = threading.Thread(target=writer.append, args=(batch,), name="appender")
    appender.start()
    opening.wait(5)
    assert replay(tmp_path, "tag", lambda g: [True] * len(g)) == (0, 0)
    appender.join()
    assert writer.path is not None and writer.path.exists()
    writer.close()
    assert replay(tmp_path, "tag", lambda g: [True] * len(g)) == (2, 0)


def test_spill_pid_is_read_from_the_file_name(tmp_path: Path) -> None:
    import os

    from lifecycle.capture.spill import spill_pid

    writer = SpillWriter(tmp_path, "tag")
    writer.append(_batch(1))
    assert writer.path is not None and spill_pid(writer.path) == os.getpid()
    writer.close()
    assert spill_pid(tmp_path / "notes.txt") is None


def test_forked_child_releases_the_spill_file_a_replay_holds(tmp_path: Path) -> None:
    """A child forked mid-replay must not keep the replay's lock after the parent gives up."""
    import fcntl
    import os

    from lifecycle.capture import spill

    writer = SpillWriter(tmp_path, "tag")
    writer.append(_batch(2))
    writer.close()
    (path,) = spill_files(tmp_path, "tag")
    child = 0

    def write(group: list[Any]) -> list[bool]:
        nonlocal child
        child = os.fork()
        if child == 0:  # the child sleeps with whatever it inherited, then exits
            time.sleep(3)
            os._exit(0)
        raise ConnectionError("database away")  # the parent abandons the replay

    try:
        with pytest.raises(ConnectionError):
            spill.replay(tmp_path, "tag", write)
        with open(path, "rb") as fh:  # lockable again while the child is still alive
            deadline = time.monotonic() + 1.5  # the child closes its copy as it starts
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
    finally:
        if child:
            os.waitpid(child, 0)


def _outputs(spec: CaptureSpec, *recs: tuple[Any, Any]) -> dict[str, list[Any]]:
    built = build_batch([record(spec, x, out) for x, out in recs], no_note)
    return {c: built.outputs.column(c).to_pylist() for c in built.outputs.column_names
            if not c.startswith("_")}


def test_a_function_with_classes_logs_class_probabilities() -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    out = _outputs(CaptureSpec("m", classes=("benign", "malignant")), (np.zeros((2, 3)), proba))
    assert out == {"proba_benign": [0.9, 0.2], "proba_malignant": [0.1, 0.8],
                   "prediction": ["benign", "malignant"]}
    # output="proba" without classes: the classes are the column positions
    out = _outputs(CaptureSpec("m", output="proba"), (np.zeros((2, 3)), proba))
    assert out["prediction"] == [0, 1] and out["proba_1"] == [0.1, 0.8]
    # one row, its probabilities flattened (model.predict_proba(x)[0])
    out = _outputs(CaptureSpec("m", classes=(0, 1)), (np.zeros(3), np.array([0.3, 0.7])))
    assert out == {"proba_0": [0.3], "proba_1": [0.7], "prediction": [1]}
    # the same function without classes keeps its unnamed columns (and warns, see below)
    out = _outputs(CaptureSpec("m"), (np.zeros((2, 3)), proba))
    assert out == {"output_0": [0.9, 0.2], "output_1": [0.1, 0.8]}
    # classes given, but the function returns labels: they stay the prediction
    out = _outputs(CaptureSpec("m", classes=(0, 1)), (np.zeros((2, 3)), np.array([1, 0])))
    assert out == {"prediction": [1, 0]}


def test_output_proba_reads_a_binary_score_as_p_of_the_second_class() -> None:
    spec = CaptureSpec("m", classes=("no", "yes"), output="proba")
    out = _outputs(spec, (np.zeros((3, 2)), np.array([0.25, 0.75, 0.5])))
    assert out["proba_yes"] == [0.25, 0.75, 0.5] and out["proba_no"] == [0.75, 0.25, 0.5]
    assert out["prediction"] == ["no", "yes", "no"]  # a tie goes to the first class
    # one-row calls returning a float: not the scalar fast path, still probabilities
    out = _outputs(spec, ({"a": 1}, 0.9), ({"a": 2}, 0.1))
    assert out["prediction"] == ["yes", "no"] and out["proba_yes"] == [0.9, 0.1]


def test_unnamed_output_columns_have_no_headline() -> None:
    t = pa.table({"output_0": [0.9, 0.2], "output_1": [0.1, 0.8]})
    assert _headline(t) == ([None, None], [None, None])  # was output_0 taken as the value
    t = pa.table({"output_0": [0.9, 0.2], "score": [1.0, 2.0]})
    assert _headline(t)[0] == [1.0, 2.0]


def test_monitor_validates_output_and_classes(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.capture.monitor import monitor

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match='output="proba"'):
        monitor("m", output="probabilities")
    with pytest.raises(ConfigError, match="each class once"):
        monitor("m", classes=[0, 0])
    with pytest.raises(ConfigError, match="each class once"):
        monitor("m", classes=[])

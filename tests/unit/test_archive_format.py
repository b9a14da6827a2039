"""The archive's Parquet form gives back the very Arrow tables stored hot (types, nulls,
nested and empty tables included), and its content hash sees every difference that matters
and none that does not (chunking, what a null slot holds)."""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa
import pytest

from lifecycle.config import load_settings
from lifecycle.errors import ConfigError
from lifecycle.storage.archive_format import ArchivedBatch, content_hash
from lifecycle.storage.archive_store import PartWriter, part_url, read_part, verify_part


def _outputs(n: int, offset: int = 0) -> pa.Table:
    ts = [dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i + offset)
          for i in range(n)]
    return pa.table({
        "prediction": pa.array([float(i) if i % 3 else None for i in range(n)]),
        "flag": pa.array([bool(i % 2) for i in range(n)]),
        "day": pa.array([dt.date(2026, 3, 1)] * n),
        "nested": pa.array([[i, i + 1] if i % 4 else None for i in range(n)]),
        "nothing": pa.nulls(n),
        "_join_key": pa.array([f"k{i + offset}" for i in range(n)]),
        "_ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
    })


def test_round_trip_is_exact_and_hashed() -> None:
    batches = [ArchivedBatch("a", _outputs(5), pa.table({"x": pa.array([1, 2, None, 4, 5]),
                                                          "s": ["p", None, "q", "", "r"]})),
               ArchivedBatch("b", _outputs(3, 10), pa.table({"x": [7, 8, 9], "s": list("abc")}))]
    url = part_url(f"memory://{uuid.uuid4().hex}", "m/odel", "2026-03-01", ["a", "b"])
    assert "model=m%2Fodel/day=2026-03-01/part-" in url
    written = PartWriter.write(url, batches)
    back = list(read_part(url, ["a", "b"]))
    for old, new in zip(batches, back, strict=True):
        assert new.batch_id == old.batch_id
        assert new.outputs.equals(old.outputs, check_metadata=True)
        assert new.outputs.schema == old.outputs.schema
        assert new.inputs is not None and new.inputs.equals(old.inputs)
    assert written.content_sha256 == content_hash(batches) == content_hash(back)
    assert verify_part(url, ["a", "b"]) == (8, written.content_sha256)
    assert verify_part(url, ["a"]) is None  # a part is read with its own batch list
    assert verify_part(url + ".missing", ["a", "b"]) is None


def test_a_table_without_columns_keeps_its_rows() -> None:
    empty_inputs = pa.table({"_": pa.nulls(4)}).drop_columns(["_"])
    batch = ArchivedBatch("a", _outputs(4), empty_inputs)
    url = f"memory://{uuid.uuid4().hex}/p.parquet"
    PartWriter.write(url, [batch])
    (back,) = read_part(url, ["a"])
    assert back.inputs is not None and back.inputs.num_rows == 4
    assert back.inputs.num_columns == 0


def test_hash_ignores_layout_and_sees_content() -> None:
    out = _outputs(6)
    base = content_hash([ArchivedBatch("a", out, None)])
    rechunked = pa.Table.from_batches(out.to_batches(max_chunksize=2))
    assert content_hash([ArchivedBatch("a", rechunked, None)]) == base
    # the value under a null slot does not count
    garbage = pa.Array.from_buffers(pa.float64(), 6, out.column("prediction").chunk(0)
                                    .buffers()[:1] + [pa.py_buffer(
                                        pa.array([9.0] * 6).buffers()[1])])
    assert garbage.null_count == out.column("prediction").null_count
    swapped = out.set_column(0, "prediction", garbage.cast(pa.float64()))
    swapped_vals = out.set_column(0, "prediction", pa.array(
        [9.0 if v is not None else None for v in out.column("prediction").to_pylist()]))
    assert content_hash([ArchivedBatch("a", swapped_vals, None)]) != base
    assert swapped.column(0).null_count == 2
    for changed in (
        out.set_column(5, "_join_key", pa.array(["k0", "k1", "k2", "k3", "k4", "kX"])),
        out.set_column(0, "prediction", out.column(0).cast(pa.float32())),
        out.slice(0, 5),
    ):
        assert content_hash([ArchivedBatch("a", changed, None)]) != base
    assert content_hash([ArchivedBatch("b", out, None)]) != base
    assert content_hash([ArchivedBatch("a", out, pa.table({"x": [1] * 6}))]) != base


@pytest.mark.parametrize(("text", "message"), [
    ("[retention]\nhot_days = 0\n", "retention.hot_days = 0 must be at least 1"),
    ("[retention]\nhot_days = -3\n", "enabled = false"),
    ("[retention]\njob_runs_days = 1.5\n", "whole number of days"),
    ("[retention]\nbogus = 1\n", "unknown key"),
    ("[models.m.retention]\nhot_days = 0\n", "models.m.retention.hot_days = 0"),
])
def test_bad_retention_settings_name_the_fix(tmp_path: object, text: str,
                                             message: str) -> None:
    path = tmp_path / "lifecycle.toml"  # type: ignore[operator]
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, env={})


def test_retention_settings_defaults_overrides_and_env(tmp_path: object) -> None:
    path = tmp_path / "lifecycle.toml"  # type: ignore[operator]
    path.write_text("home = 'h'\n[retention]\nhot_days = 10\nprofile_days = 400\n"
                    "[models.a.retention]\nhot_days = 2\n")
    s = load_settings(path, env={}, cwd=tmp_path)  # type: ignore[arg-type]
    assert s.retention.hot_days_for(s.model("a").retention) == 2
    assert s.retention.hot_days_for(s.model("b").retention) == 10
    assert s.retention.archive_url == str(s.home / "archive")
    assert (s.retention.profile_days, s.retention.job_runs_days) == (400, 90)
    env = load_settings(path, env={"LIFECYCLE_ARCHIVE_URL": "s3://b/arch"})
    assert env.retention.archive_url == "s3://b/arch"

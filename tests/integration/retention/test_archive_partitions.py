"""The partition planner of the heavy passes (lifecycle.compute.partitions) lists archived
batches too: a Dask pass over a window that spans archived days reads every row of it once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from _retention_log import DAY0, MODEL, NOW, make_log, settings_for
from sqlalchemy import Engine

from lifecycle.compute.partitions import dispose_worker_engines, plan_partitions, read_partition
from lifecycle.jobs.retention import run_retention
from lifecycle.storage.window import load_window


@pytest.mark.parametrize("rows_per_partition", [1, 200, 10_000])
def test_partitions_span_hot_and_archived_batches(engine: Engine, tmp_path: Path,
                                                  rows_per_partition: int) -> None:
    batches = make_log(engine)
    windows = [(None, None), (DAY0 + timedelta(days=1, hours=10), DAY0 + timedelta(days=4))]
    before = {w: plan_partitions(engine, MODEL, *w, rows_per_partition) for w in windows}
    result = run_retention(engine, settings_for(tmp_path, str(tmp_path / "archive")), MODEL,
                           NOW - timedelta(days=1), NOW, now=NOW)
    assert result.batches_archived == 6
    try:
        for since, until in windows:
            planned = plan_partitions(engine, MODEL, since, until, rows_per_partition)
            ids = [i for p in planned for i in p.batch_ids]
            assert ids == [i for p in before[since, until] for i in p.batch_ids]
            assert len(ids) == len(set(ids))
            assert [p.n_rows for p in planned] == [p.n_rows for p in before[since, until]]
            rows = sum(part.num_rows for p in planned for part in read_partition(p))
            assert rows == len(load_window(engine, MODEL, since, until))
        assert len(before[None, None][0].batch_ids) <= len(batches)
    finally:
        dispose_worker_engines()

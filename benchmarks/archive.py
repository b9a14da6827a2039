"""The archive round trip: archive a day, read a window across hot and archived rows.

A seeded log of two UTC days (``--rows`` per day, 20 float features, batches of
``--batch`` rows, ids assigned in calls of 100 rows) is written to a fresh SQLite database
through the capture writer's bulk path. Then:

1. the window covering both days is read with every row hot (``load_window``): the baseline;
2. the retention job archives the first day (write Parquet, read it back and verify the
   content hash, delete the hot batches and their key rows in one transaction);
3. the same window is read again, half from the archive: the frames must be EQUAL to the
   baseline's (inputs, outputs, meta, order, dtypes), and the time is printed as a ratio to
   the all-hot read measured in the same run.

    .venv/bin/python benchmarks/archive.py --rows 1000000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow as pa

from lifecycle.jobs.retention import archive_model
from lifecycle.storage.capture_repo import StoredBatch, model_id_for, write_batches
from lifecycle.storage.codec import encode_table
from lifecycle.storage.engine import make_engine
from lifecycle.storage.migrate import upgrade
from lifecycle.storage.window import load_window

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


def _batches(rows: int, batch: int, day: int, seed: int) -> list[StoredBatch]:
    rng = np.random.default_rng(seed)
    out = []
    start_us = int((DAY0 + timedelta(days=day)).timestamp() * 1e6)
    step = 86_400_000_000 // rows
    for b, lo in enumerate(range(0, rows, batch)):
        n = min(batch, rows - lo)
        ts = start_us + (lo + np.arange(n)) * step
        inputs = pa.table({f"f{i}": rng.normal(size=n) for i in range(20)})
        call = (lo + np.arange(n)) // 100
        ids = [f"{day:08x}{c:016x}{j % 100:08x}" for c, j in zip(call, lo + np.arange(n),
                                                                   strict=True)]
        p = rng.uniform(size=n)
        outputs = pa.table({
            "prediction": (p > 0.5).astype(np.int64), "proba_1": p,
            "_prediction_id": ids, "_join_key": ids,
            "_ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "_role": ["champion"] * n, "_model_version": ["1"] * n,
            "_latency_ms": rng.uniform(1, 3, n),
        })
        out.append(StoredBatch(f"d{day:03d}b{b:028d}", "bench", n, int(ts[0]), int(ts[-1]),
                               encode_table(inputs), encode_table(outputs), outputs))
    return out


def _read(engine: object, since: datetime, until: datetime) -> tuple[float, object]:
    t0 = time.perf_counter()
    window = load_window(engine, "bench", since, until)  # type: ignore[arg-type]
    return time.perf_counter() - t0, window


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per day")
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--reads", type=int, default=3, help="reads of each kind (median)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        t0 = time.perf_counter()
        for day in (0, 1):
            batches = _batches(args.rows, args.batch, day, seed=day)
            with engine.begin() as conn:
                mid = model_id_for(conn, "bench")
                write_batches(conn, [(mid, b) for b in batches])
        print(f"log written: 2 days x {args.rows:,} rows x 20 features "
              f"({time.perf_counter() - t0:.1f} s)")
        # the window: the second half of day 0 and the first half of day 1
        since, until = DAY0 + timedelta(hours=12), DAY0 + timedelta(days=1, hours=12)
        hot_times, hot = [], None
        for _ in range(args.reads):
            t, hot = _read(engine, since, until)
            hot_times.append(t)
        t0 = time.perf_counter()
        result = archive_model(engine, "bench", DAY0 + timedelta(days=1),
                               str(Path(tmp) / "archive"), hot_days=1)
        t_archive = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (Path(tmp) / "archive").rglob("*.parquet"))
        mixed_times, mixed = [], None
        for _ in range(args.reads):
            t, mixed = _read(engine, since, until)
            mixed_times.append(t)
        assert hot is not None and mixed is not None
        for name in ("inputs", "outputs", "meta"):
            pdt.assert_frame_equal(getattr(hot, name), getattr(mixed, name), check_exact=True)
        n = len(hot.meta)  # type: ignore[attr-defined]
        t_hot, t_mixed = float(np.median(hot_times)), float(np.median(mixed_times))
        print(f"archived day 0: {result.rows_archived:,} rows, {result.batches_archived} "
              f"batches, {result.parts_written} part(s), {size / 1e6:.1f} MB Parquet, "
              f"{t_archive:.2f} s ({result.rows_archived / t_archive:,.0f} rows/s: write, "
              "read back + hash, delete)")
        print(f"window of {n:,} rows (half archived): EXACT (inputs, outputs, meta equal)")
        print(f"read all hot: {t_hot:.3f} s   read hot + archive: {t_mixed:.3f} s   "
              f"ratio {t_mixed / t_hot:.2f} (median of {args.reads})")
        print(f"pandas {pd.__version__}, pyarrow {pa.__version__}")
        engine.dispose()


if __name__ == "__main__":
    main()

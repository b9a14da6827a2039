"""Rollup throughput: rows per second per core from stored blobs, beside decoding alone.

Data: ``--hours`` hours (default 10) x ``--rows`` rows per hour (default 100,000) x 20
numeric features (normal, lognormal and uniform columns; 1% NaN), written as the capture
writer writes them (``capture_repo.write_batches``: zstd Arrow IPC blobs of ``--batch`` rows,
default 10,000; keys; traffic) into a fresh SQLite file (``--db postgresql`` for a throwaway
PostgreSQL database). An active data reference profile (built from 50,000 rows of the same
distributions) is set first, so each numeric feature also gets its exact PSI-bin and range
counts: the full work of the scheduled job.

Timed, in the same process, alternating, ``--repeat`` times each:

* ``decode`` - the baseline: ``batch_source.read_parts`` over every hour (blob fetch + zstd
  Arrow decode + window filter), nothing else;
* ``rollup`` - ``rollup.run.rollup_hours`` over every hour: the same reads, then per feature
  KLL update + exact counts + bin counts, the label lookup skipped (no outcomes), and the
  upsert of 20 profile rows (10 hours x data, prediction).

Reported: wall seconds, CPU seconds of this process (``time.process_time``: Arrow may decode
on helper threads), rows / s per wall second and per CPU second (= per core), the ratio to the
baseline, and a breakdown of one hour's compute on already decoded tables (KLL update, exact
counts, bin counts, float conversion) so the bound is visible.

Usage::

    .venv/bin/python benchmarks/rollup.py                      # 10 h x 100k rows x 20 features
    .venv/bin/python benchmarks/rollup.py --hours 4 --repeat 5 --db postgresql
    .venv/bin/python benchmarks/rollup.py --cluster --repeat 5   # + a 2-worker LocalCluster
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_FEATURES = 20
T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    cols = {}
    for i in range(N_FEATURES):
        if i % 3 == 0:
            x = rng.normal(0.0, 1.0, n)
        elif i % 3 == 1:
            x = rng.lognormal(0.0, 1.0, n)
        else:
            x = rng.uniform(-5.0, 5.0, n)
        x[rng.random(n) < 0.01] = np.nan
        cols[f"f{i:02d}"] = x
    return cols


def seed(engine: Any, hours: int, rows: int, batch: int) -> int:
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy.orm import Session

    from lifecycle.drift_check import build_profile
    from lifecycle.storage.capture_repo import StoredBatch, model_id_for, write_batches
    from lifecycle.storage.codec import encode_table
    from lifecycle.storage.drift_repo import save_profile

    rng = np.random.default_rng(0)
    with engine.begin() as conn:
        mid = model_id_for(conn, "bench")
    with Session(engine) as session, session.begin():
        save_profile(session, mid, build_profile(pd.DataFrame(features(rng, 50_000))),
                     source="benchmark")
    step_us = 3_599_000_000 // rows
    for h in range(hours):
        start_us = int((T0 + h * HOUR - _EPOCH).total_seconds() * 1e6)
        items = []
        for lo in range(0, rows, batch):
            n = min(batch, rows - lo)
            ts = start_us + (lo + np.arange(n)) * step_us
            inputs = pa.table(features(rng, n))
            outputs = pa.table({
                "prediction": pa.array(rng.random(n)),
                "_prediction_id": pa.array([uuid.uuid4().hex for _ in range(n)]),
                "_join_key": pa.array([uuid.uuid4().hex for _ in range(n)]),
                "_ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
                "_role": pa.array(["champion"] * n),
                "_model_version": pa.array(["1"] * n),
                "_latency_ms": pa.array(np.ones(n)),
            })
            items.append((mid, StoredBatch(uuid.uuid4().hex, "bench", n, int(ts[0]),
                                           int(ts[-1]), encode_table(inputs),
                                           encode_table(outputs))))
        with engine.begin() as conn:
            write_batches(conn, items)
    return mid


def decode_only(engine: Any, mid: int, hours: list[datetime]) -> int:
    from lifecycle.storage.batch_source import read_parts

    n = 0
    for h in hours:
        for part in read_parts(engine, mid, h, h + HOUR, with_inputs=True):
            n += part.num_rows
    return n


def breakdown(engine: Any, mid: int, hour: datetime) -> dict[str, float]:
    """CPU seconds per stage for one hour's compute on decoded tables (no I/O)."""
    import datasketches as ds

    from lifecycle.rollup.sketches import as_float64
    from lifecycle.storage.batch_source import read_parts

    parts = [p.inputs for p in read_parts(engine, mid, hour, hour + HOUR)]
    out: dict[str, float] = {}
    t = time.process_time()
    cols = [[as_float64(p.column(c))[0] for c in p.column_names] for p in parts if p]
    out["to_numpy"] = time.process_time() - t
    t = time.process_time()
    for part in cols:
        for v in part:
            np.isfinite(np.sum(v))
            np.dot(np.nan_to_num(v), np.nan_to_num(v))
    out["sums + nan checks"] = time.process_time() - t
    finite = [[v[~np.isnan(v)] for v in part] for part in cols]
    t = time.process_time()
    sketches = [ds.kll_doubles_sketch(800) for _ in range(N_FEATURES)]
    for part in finite:
        for s, v in zip(sketches, part, strict=True):
            s.update(v)
    out["kll update (k=800)"] = time.process_time() - t
    edges = np.linspace(-2, 2, 9)
    t = time.process_time()
    for part in finite:
        for v in part:
            for e in edges:
                np.count_nonzero(v < e)
            np.count_nonzero(v < -3.0)
            np.count_nonzero(v > 3.0)
    out["bin + range counts"] = time.process_time() - t
    return out


@contextlib.contextmanager
def _cluster_executor() -> Any:
    """A 2-worker LocalCluster (processes, one thread each) and lifecycle's executor on it."""
    from distributed import LocalCluster

    from lifecycle.compute.executor import DaskExecutor

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, \
            DaskExecutor(cluster.scheduler_address) as executor:
        yield executor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=int, default=10)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--cluster", action="store_true",
                    help="also roll up on a 2-worker distributed.LocalCluster (one thread "
                    "each), interleaved with the in-process runs")
    args = ap.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    from lifecycle.config import Settings
    from lifecycle.rollup.run import rollup_hours
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import upgrade

    drop = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            sys.path.insert(0, str(ROOT / "tests"))
            from conftest import create_pg_database

            url, drop = create_pg_database("lc_bench")
        try:
            upgrade(url)
            engine = make_engine(url)
            t = time.perf_counter()
            mid = seed(engine, args.hours, args.rows, args.batch)
            print(f"seeded {args.hours} h x {args.rows:,} rows x {N_FEATURES} features "
                  f"({args.db}) in {time.perf_counter() - t:.1f} s")
            settings = Settings(home=Path(tmp), database_url=url,
                                mlflow_tracking_uri=f"sqlite:///{Path(tmp) / 'm.db'}")
            hours = [T0 + i * HOUR for i in range(args.hours)]
            total = args.hours * args.rows
            runs: dict[str, list[tuple[float, float]]] = {"decode": [], "rollup": []}
            with contextlib.ExitStack() as stack:
                mapper = None
                if args.cluster:
                    mapper = stack.enter_context(_cluster_executor()).map
                    runs["cluster"] = []
                    rollup_hours(engine, settings, "bench", hours[:2], mapper=mapper)  # warm
                for _ in range(args.repeat):
                    for name in runs:
                        w, c = time.perf_counter(), time.process_time()
                        if name == "decode":
                            assert decode_only(engine, mid, hours) == total
                        else:
                            done = rollup_hours(engine, settings, "bench", hours,
                                                mapper=mapper if name == "cluster" else None)
                            assert done.n_rows == total
                        runs[name].append((time.perf_counter() - w,
                                           time.process_time() - c))
            if args.cluster:
                paired = sorted(a[0] / b[0] for a, b in zip(runs["rollup"], runs["cluster"],
                                                            strict=True))
                best = (min(w for w, _ in runs["rollup"])
                        / min(w for w, _ in runs["cluster"]))
                print("LocalCluster 2x1 vs in process, wall, round by round: "
                      + " ".join(f"{r:.2f}x" for r in paired)
                      + f"; median {paired[len(paired) // 2]:.2f}x; best vs best {best:.2f}x"
                      " (cluster CPU is in the workers: its rows/s/core column is not "
                      "comparable)")
            print(f"\n{'scenario':<8} {'wall s':>8} {'cpu s':>8} {'rows/s wall':>13} "
                  f"{'rows/s/core':>13} {'x decode':>9}")
            base = statistics.median(w for w, _ in runs["decode"])
            for name, vals in runs.items():
                wall = statistics.median(w for w, _ in vals)
                cpu = statistics.median(c for _, c in vals)
                print(f"{name:<8} {wall:8.3f} {cpu:8.3f} {total / wall:13,.0f} "
                      f"{total / cpu:13,.0f} {wall / base:9.2f}")
            from sqlalchemy import func, select

            from lifecycle.storage.tables import WindowProfile
            with engine.connect() as conn:
                n_prof, size = conn.execute(select(func.count(), func.sum(
                    func.length(WindowProfile.sketches)))).one()
            print(f"\nstored: {n_prof} profile rows, {int(size or 0) / args.hours / 1024:,.0f} "
                  "KB of sketches per hour (data + prediction)")
            print(f"\nbreakdown of one hour ({args.rows:,} rows x {N_FEATURES} features), "
                  "compute only:")
            for stage, sec in breakdown(engine, mid, hours[0]).items():
                print(f"  {stage:<22} {sec:7.3f} s  ({args.rows / sec:13,.0f} rows/s)")
            engine.dispose()
        finally:
            if drop is not None:
                drop()


if __name__ == "__main__":
    main()

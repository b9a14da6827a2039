"""Dask for the heavy passes: the exact-counts pass of a large stored window, in one process
versus a 2-worker ``distributed.LocalCluster``, side by side in the same run.

Data: ``--rows`` (default 2,000,000) logged rows x 20 features (16 numeric: normal, 1% NaN,
4 of them shifted; 4 categorical with 10 levels) stored as prediction batches of
``--batch-rows`` (default 50,000) in a SQLite file (kept in ``--db``, reused when it already
holds the same data), with a stored reference profile of 200,000 rows (``max_points`` 10,000:
a sketch profile, the stored form). The timed pass is
:func:`lifecycle.compute.exact.exact_window_counts` over the whole window with
``--rows-per-partition`` (default 250,000: 8 partitions), the client's time from the call to
the merged counts:

* ``one process``: :class:`~lifecycle.compute.executor.LocalExecutor` with one thread (the
  baseline: one core reads, decodes and counts every batch);
* ``local threads (2)``: two threads of the same process (numpy and Arrow release the GIL in
  parts of the work; shown for comparison);
* ``LocalCluster 2x1``: two worker processes with one thread each, started before timing
  (workers read their batches from the SQLite file themselves), with Dask's statistical
  profiler off (``distributed.worker.profile.enabled: false``, what docs/scale.md
  recommends for lifecycle's workers);
* ``... profiler on``: the same with Dask's default (a stack sample every 10 ms, which takes
  the GIL from the pass while it samples).

Each mode runs ``--repeat`` times (default 3), interleaved; the best run of each is reported
with every run listed, and the ratios are against ``one process``; the cluster's ratio is also
given round by round (the two runs of a round saw about the same load from other processes).
The issue's target for rollups (the same shape of pass) is a 2-worker cluster at least 1.6 x
the single-process rate. CPU seconds (this process plus, on the cluster, its workers'
``process_time``) are shown too: on a machine shared with other work they say what the pass
costs when wall times swing with the load.

Usage::

    .venv/bin/python benchmarks/compute.py
    .venv/bin/python benchmarks/compute.py --rows 500000 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifecycle.compute.exact import exact_window_counts
from lifecycle.compute.executor import DaskExecutor, Executor, LocalExecutor
from lifecycle.compute.partitions import dispose_worker_engines
from lifecycle.config import load_settings
from lifecycle.config.compute import ComputeSettings
from lifecycle.drift_check import build_profile
from lifecycle.storage.capture_repo import StoredBatch, model_id_for, write_batches
from lifecycle.storage.codec import encode_table, frame_to_table
from lifecycle.storage.drift_repo import save_profile
from lifecycle.storage.engine import make_engine
from lifecycle.storage.migrate import upgrade
from lifecycle.storage.tables import PredictionBatch

T0 = datetime(2026, 3, 1, tzinfo=UTC)
N_NUMERIC, N_CATEGORICAL = 16, 4
LEVELS = np.array([f"level{i}" for i in range(10)])


def _features(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    cols: dict[str, object] = {}
    for i in range(N_NUMERIC):
        x = rng.normal(shift if i < 4 else 0.0, 1.0, n)
        x[rng.random(n) < 0.01] = np.nan
        cols[f"num{i:02d}"] = x
    for i in range(N_CATEGORICAL):
        cols[f"cat{i}"] = rng.choice(LEVELS, n)
    return pd.DataFrame(cols)


def write_data(url: str, rows: int, batch_rows: int) -> None:
    """The model ``bench``'s batches and reference profile (skipped when already there)."""
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        stored = session.scalar(select(func.coalesce(func.sum(PredictionBatch.n_rows), 0)))
    if stored == rows:
        engine.dispose()
        return
    if stored:
        raise SystemExit(f"{url} holds {stored} rows, not {rows}: remove it or pass --db")
    rng = np.random.default_rng(20)
    with engine.begin() as conn:
        model_id = model_id_for(conn, "bench")
    seq = 0
    for b in range(0, rows, batch_rows):
        n = min(batch_rows, rows - b)
        ts = T0 + pd.to_timedelta(np.sort(rng.uniform(0, 3600, n)) + 3600 * (b // batch_rows),
                                  unit="s")
        ids = [f"bench{seq + i:027d}" for i in range(n)]
        seq += n
        outputs = frame_to_table(pd.DataFrame({
            "prediction": rng.uniform(0, 1, n), "_prediction_id": ids, "_join_key": ids,
            "_ts": ts, "_role": ["unmanaged"] * n, "_model_version": ["1"] * n,
            "_latency_ms": np.full(n, 1.0)}))
        ts_col = outputs.column("_ts").cast(pa.timestamp("us", tz="UTC"), safe=False)
        outputs = outputs.set_column(outputs.column_names.index("_ts"), "_ts", ts_col)
        ts_us = ts_col.cast(pa.int64()).to_numpy()
        batch = StoredBatch(f"bench{b:027d}", "bench", n, int(ts_us.min()), int(ts_us.max()),
                            encode_table(frame_to_table(_features(rng, n, 0.25))),
                            encode_table(outputs), outputs)
        with engine.begin() as conn:
            write_batches(conn, [(model_id, batch)])
    profile = build_profile(_features(np.random.default_rng(1), 200_000, 0.0),
                            categorical=[f"cat{i}" for i in range(N_CATEGORICAL)])
    with Session(engine) as session, session.begin():
        save_profile(session, model_id, profile, kind="data", source="benchmark")
    engine.dispose()


def _cpu(executor: Executor) -> float:
    """CPU seconds used so far by this process and, on a cluster, by its worker processes."""
    own = time.process_time()
    if isinstance(executor, DaskExecutor):
        own += sum(executor.client.run(time.process_time).values())
    return own


def timed(url: str, executor: Executor, rows_per_partition: int,
          ) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds (client + workers), rows counted, partitions."""
    settings = load_settings(env={"LIFECYCLE_DATABASE_URL": url})
    settings = replace(settings, compute=ComputeSettings(rows_per_partition=rows_per_partition))
    engine = make_engine(url)
    try:
        cpu = _cpu(executor)
        start = time.perf_counter()
        result = exact_window_counts(engine, settings, "bench", None, None, executor=executor)
        seconds = time.perf_counter() - start
        cpu = _cpu(executor) - cpu
    finally:
        engine.dispose()
        dispose_worker_engines()
    return seconds, cpu, result.n_rows, result.n_partitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--rows-per-partition", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default=None, help="SQLite file (default: /tmp/...)")
    args = parser.parse_args()
    path = Path(args.db or f"/tmp/lifecycle-bench-compute-{args.rows}.db")
    url = f"sqlite:///{path}"
    t = time.perf_counter()
    write_data(url, args.rows, args.batch_rows)
    print(f"data: {args.rows:,} rows x {N_NUMERIC + N_CATEGORICAL} features in {path} "
          f"({path.stat().st_size / 1e6:.0f} MB; ready in {time.perf_counter() - t:.1f} s); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    import dask
    from distributed import LocalCluster

    runs: dict[str, list[float]] = {"one process": [], "local threads (2)": [],
                                    "LocalCluster 2x1": [], "... profiler on": []}
    cpus: dict[str, list[float]] = {name: [] for name in runs}

    def cluster(profile: bool) -> LocalCluster:
        with dask.config.set({"distributed.worker.profile.enabled": profile}):
            return LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                dashboard_address=":0")

    with cluster(False) as quiet, cluster(True) as sampled, \
            DaskExecutor(quiet.scheduler_address) as dask_ex, \
            DaskExecutor(sampled.scheduler_address) as sampled_ex:
        executors: dict[str, Executor] = {"one process": LocalExecutor(1),
                                          "local threads (2)": LocalExecutor(2),
                                          "LocalCluster 2x1": dask_ex,
                                          "... profiler on": sampled_ex}
        for ex in (dask_ex, sampled_ex):  # warm the workers (imports, engines)
            timed(url, ex, args.rows_per_partition)
        for _ in range(args.repeat):
            for name, ex in executors.items():
                seconds, cpu, n_rows, parts = timed(url, ex, args.rows_per_partition)
                runs[name].append(seconds)
                cpus[name].append(cpu)
                print(f"  {name:18s} {seconds:6.2f} s  {cpu:6.2f} CPU s  ({n_rows:,} rows, "
                      f"{parts} partitions; load {os.getloadavg()[0]:.1f})")
    paired = sorted(a / b for a, b in zip(runs["one process"], runs["LocalCluster 2x1"],
                                          strict=True))
    print("LocalCluster 2x1 vs one process, round by round (same load): "
          + " ".join(f"{r:.2f}x" for r in paired)
          + f"; median {paired[len(paired) // 2]:.2f}x")
    base = min(runs["one process"])
    print(f"\n{'mode':18s} {'best s':>7s} {'rows/s':>12s} {'vs one process':>15s} "
          f"{'rows/CPU s':>12s}   runs")
    for name, times in runs.items():
        best = min(times)
        per_cpu = args.rows / min(cpus[name])
        print(f"{name:18s} {best:7.2f} {args.rows / best:12,.0f} {base / best:14.2f}x "
              f"{per_cpu:12,.0f}   " + " ".join(f"{s:.2f}" for s in times))


if __name__ == "__main__":
    main()

"""The capture writer from the inside: CPU per step of a batch, and what a serving thread waits.

    .venv/bin/python benchmarks/capture_writer.py stages [--batches 250] [--page-size 4096]
    .venv/bin/python benchmarks/capture_writer.py gil [--seconds 3]

``stages``: 10 x 1,000-row ``predict_proba`` calls (20 float features) are queued, then one
batch is taken, built, encoded and written into a fresh SQLite file, ``--batches`` times.
Prints the writer thread's CPU per step (mean and max over batches; the mean includes the
WAL checkpoints, which run in the commit that crosses the threshold). ``--page-size 4096``
creates the file with SQLite's default pages instead of lifecycle's 64 KiB, to compare.

``gil``: a thread runs one batch's steps in a loop (the same 10,000 rows) while the main
thread sleeps 2 ms at a time and records how late it wakes up; late = waiting for the GIL
(and for a core). Side by side in one run: idle, the steps without the writer's handoffs,
and with them (``Writer.handoff`` sleeps ``HANDOFF_S`` between steps), then runs of 20 small
transactions (``SELECT 1``) without and with a handoff after each.

Not a test: nothing here asserts a timing. Numbers and commands: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from capture import N_FEATURES, fitted

import lifecycle
from lifecycle.capture import runtime
from lifecycle.capture import writer as writer_module
from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.monitor import configure
from lifecycle.storage.capture_repo import StoredBatch, model_id_for, write_batches
from lifecycle.storage.migrate import upgrade


def _setup(tmp: str, page_size: int | None) -> Callable[[], list[Any]]:
    """A SQLite file at head and a function that makes 10 monitored calls and takes them off
    the queue as one batch's records (the writer thread never starts)."""
    path = Path(tmp) / "bench.db"
    if page_size:  # made before lifecycle's engine touches the file
        raw = sqlite3.connect(path)
        raw.execute(f"PRAGMA page_size={page_size}")
        raw.execute("CREATE TABLE _page_size (x)")
        raw.execute("DROP TABLE _page_size")
        raw.commit()
        raw.close()
    url = f"sqlite:///{path}"
    upgrade(url)
    writer_module.Writer.start = lambda self: None  # type: ignore[method-assign]
    configure(database_url=url, spill_dir=Path(tmp) / "spill", handle_sigterm=False,
              queue_size=10_000_000)
    _, clf, _, _ = fitted()
    mon = lifecycle.monitor("writer_steps")(clf)
    pool = np.split(np.random.default_rng(3).normal(size=(50_000, N_FEATURES)), 50)
    counter = [0]

    def take() -> list[Any]:
        for _ in range(10):
            mon.predict_proba(pool[counter[0] % len(pool)].copy())
            counter[0] += 1
        records, _ = runtime.writers()[0]._take()
        return records

    return take


def stages(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        take = _setup(tmp, args.page_size)
        take()  # the first calls start the writer object (and warm everything up)
        writer = runtime.writers()[0]
        engine = writer._engine_or_make()
        with engine.begin() as conn:
            model_id = model_id_for(conn, "writer_steps")
        names = ("build", "encode", "write", "commit", "total")
        cpu: dict[str, list[float]] = {name: [] for name in names}
        tt = time.thread_time
        for i in range(args.batches + 10):
            records = take()
            c0 = tt()
            built = build_batch(records, writer.note)
            c1 = tt()
            batch = encode(built)
            c2 = tt()
            with engine.connect() as conn:
                tx = conn.begin()
                write_batches(conn, [(model_id, batch)])
                c3 = tt()
                tx.commit()
                c4 = tt()
            if i >= 10:  # warm-up
                for name, value in zip(names, (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c4 - c0),
                                       strict=True):
                    cpu[name].append(value * 1e3)
        with engine.connect() as conn:
            page = conn.exec_driver_sql("PRAGMA page_size").scalar()
            checkpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        print(f"writer steps, SQLite page size {page}, WAL checkpoint every {checkpoint} pages, "
              f"{args.batches} batches of 10 x 1,000 rows (load average "
              f"{os.getloadavg()[0]:.1f}); writer-thread CPU in ms per batch")
        print(f"{'step':<8}{'mean':>8}{'max':>8}")
        for name in names:
            print(f"{name:<8}{statistics.fmean(cpu[name]):>8.2f}{max(cpu[name]):>8.1f}")
        runtime.reset()


def gil(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        take = _setup(tmp, None)
        records = take()
        writer = runtime.writers()[0]
        engine = writer._engine_or_make()
        with engine.begin() as conn:
            model_id = model_id_for(conn, "writer_steps")
        handoff = writer_module.HANDOFF_S

        def steps(pause: Callable[[], None]) -> None:
            built_again = build_batch(records, writer.note)
            pause()
            fresh: StoredBatch = dataclasses.replace(encode(built_again),
                                                     batch_id=uuid.uuid4().hex)
            pause()
            with engine.begin() as conn:
                write_batches(conn, [(model_id, fresh)], between=pause)

        def small_transactions(pause: Callable[[], None]) -> None:
            for _ in range(20):
                with engine.begin() as conn:
                    conn.exec_driver_sql("SELECT 1")
                pause()

        def probe(seconds: float) -> np.ndarray:
            late = []
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                time.sleep(0.002)
                late.append(time.perf_counter() - t0 - 0.002)
            return np.array(late) * 1e6

        def beside(work: Callable[[Callable[[], None]], None],
                   pause: Callable[[], None]) -> tuple[np.ndarray, float]:
            stop = threading.Event()
            runs = [0, 0.0]

            def loop() -> None:
                c0 = time.thread_time()
                while not stop.is_set():
                    work(pause)
                    runs[0] += 1
                runs[1] = time.thread_time() - c0

            thread = threading.Thread(target=loop)
            thread.start()
            time.sleep(0.1)
            late = probe(args.seconds)
            stop.set()
            thread.join()
            return late, runs[1] / max(1, int(runs[0])) * 1e3

        print(f"GIL probe: a thread sleeping 2 ms at a time, {args.seconds:.0f} s per row, "
              f"beside one batch's steps in a loop (10,000 rows; handoff {handoff * 1e6:.0f} µs;"
              f" load average {os.getloadavg()[0]:.1f})")
        print(f"{'beside':<24}{'late mean us':>13}{'extra':>8}{'p99 us':>9}{'CPU ms/run':>12}")
        rows: list[tuple[str, np.ndarray, float]] = [("nothing (idle)", probe(args.seconds),
                                                      0.0)]
        def nothing() -> None:
            return None

        def sleep() -> None:
            time.sleep(handoff)

        for rnd in range(2):
            for name, pause in (("steps, no handoff", nothing),
                                ("steps with handoffs", sleep)):
                late, cpu_ms = beside(steps, pause)
                rows.append((f"{name} #{rnd + 1}", late, cpu_ms))
        for name, pause in (("20 small tx, no handoff", nothing),
                            ("20 small tx, handoffs", sleep)):
            late, cpu_ms = beside(small_transactions, pause)
            rows.append((name, late, cpu_ms))
        base = rows[0][1].mean()
        for name, late, cpu_ms in rows:
            print(f"{name:<24}{late.mean():>13.0f}{late.mean() - base:>+8.0f}"
                  f"{np.percentile(late, 99):>9.0f}{cpu_ms:>12.1f}")
        runtime.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["stages", "gil"])
    parser.add_argument("--batches", type=int, default=250)
    parser.add_argument("--page-size", type=int, default=None,
                        help="stages: create the SQLite file with this page size")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    os.environ.setdefault("LIFECYCLE_HOME", str(Path(tempfile.gettempdir()) / "lc-bench"))
    {"stages": stages, "gil": gil}[args.part](args)


if __name__ == "__main__":
    main()

"""Scheduler overhead: the cost of a tick with 100 models configured.

A tick asks the lease table which windows are due (2 indexed SELECTs) and, for each due window,
claims it, records a ``job_runs`` row, runs the job under a heartbeat thread and releases it
(4 short transactions). Measured here with a job that does nothing, so what is left is the
scheduler's own overhead, against the baseline of one ``SELECT 1`` round trip on the same
engine, interleaved in the same run:

* ``idle sweep``: one tick for each of the 100 models when nothing is due (the common case:
  the tick fires, finds every window done, returns);
* ``due sweep``: one tick for each of the 100 models when each has one new window due;
* ``register``: adding the 100 APScheduler jobs to our job store (once per start).

    .venv/bin/python benchmarks/scheduler.py [--models 100] [--rounds 5]
        [--pg postgresql://postgres@127.0.0.1:5432/test]

Not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifecycle.config import load_settings  # noqa: E402
from lifecycle.jobs.plan import build_plan  # noqa: E402
from lifecycle.jobs.runner import RunContext  # noqa: E402
from lifecycle.jobs.scheduler import build_scheduler, register_jobs  # noqa: E402
from lifecycle.jobs.tick import run_due  # noqa: E402
from lifecycle.storage.engine import make_engine  # noqa: E402
from lifecycle.storage.migrate import upgrade  # noqa: E402

#: Catch-up horizon of the benchmark's jobs: once a model has this many windows of history, an
#: idle tick is a single indexed SELECT.
CATCH_UP = 4


def noop(engine: Any, settings: Any, model: str, start: datetime, end: datetime) -> None:
    """The job: nothing, so only the scheduler's own work is timed."""


@contextmanager
def database(pg_admin: str | None) -> Iterator[str]:
    if pg_admin is None:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    admin_url = make_url(pg_admin).set(drivername="postgresql+psycopg")
    name = f"lc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_for(url: str, n_models: int, tmp: Path) -> Any:
    models = "".join(f'[models.m{i:03d}.schedule.noop]\nevery = "1h"\ncatch_up = {CATCH_UP}\n'
                     for i in range(n_models))
    path = tmp / "lifecycle.toml"
    path.write_text(f'database_url = "{url}"\n[scheduler.jobs]\nnoop = "__main__:noop"\n'
                    + models)
    return load_settings(path, env={}, cwd=tmp)


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(url: str, n_models: int, rounds: int, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(url, n_models, Path(tmp))
        engine = make_engine(url)
        plan = build_plan(settings)
        clock_now = [datetime(2026, 3, 1, 0, 30, tzinfo=UTC)]
        ctx = RunContext(engine=engine, settings=settings, clock=lambda: clock_now[0],
                         owner="bench")

        def select1() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1")).scalar()

        def sweep() -> int:
            return sum(len(run_due(ctx, job)) for job in plan)

        for _ in range(20):
            select1()
        assert sweep() == n_models  # first run: the latest window of each model
        for _ in range(CATCH_UP):  # build a history as long as the catch-up horizon
            clock_now[0] += timedelta(hours=1)
            assert sweep() == n_models
        base, idle, due = [], [], []
        for _ in range(rounds):
            base.append(statistics.median(timed(select1) for _ in range(50)))
            idle.append(timed(sweep))  # nothing due
            clock_now[0] += timedelta(hours=1)
            t0 = time.perf_counter()
            ran = sweep()
            due.append(time.perf_counter() - t0)
            assert ran == n_models, ran
        register = []
        for _ in range(3):
            scheduler = build_scheduler(engine, settings)
            scheduler.start(paused=True)
            register.append(timed(lambda s=scheduler: register_jobs(s, plan)))  # type: ignore[misc]
            scheduler.shutdown(wait=False)
        engine.dispose()
    b = statistics.median(base)
    i, d, r = statistics.median(idle), statistics.median(due), statistics.median(register)
    print(f"\n{label}: {n_models} models, {rounds} rounds (median)")
    print(f"  SELECT 1 round trip (baseline)      {b * 1e3:8.3f} ms      1.0x")
    print(f"  idle tick (nothing due), per model  {i / n_models * 1e3:8.3f} ms  "
          f"{i / n_models / b:6.1f}x   sweep of {n_models}: {i * 1e3:.1f} ms")
    print(f"  due tick (1 window, no-op job)      {d / n_models * 1e3:8.3f} ms  "
          f"{d / n_models / b:6.1f}x   sweep of {n_models}: {d * 1e3:.1f} ms")
    print(f"  register {n_models} APScheduler jobs         {r * 1e3:8.1f} ms  "
          f"({r / n_models * 1e3:.2f} ms per job, once per start)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg", default=None, help="admin URL of a PostgreSQL server")
    args = parser.parse_args()
    with database(None) as url:
        bench(url, args.models, args.rounds, "SQLite (file, WAL)")
    if args.pg:
        with database(args.pg) as url:
            bench(url, args.models, args.rounds, "PostgreSQL 15 (loopback)")


if __name__ == "__main__":
    main()

"""Dashboard page render time on a large database (issues 7 and 18 target: < 2 s per page).

Builds (or reuses, with ``--db``) a SQLite database holding 1,000,000 logged predictions
(``prediction_batches`` with their keys and the matching ``traffic_hourly`` aggregates), a
year of hourly drift and performance reports, 50 retrain runs, 500 shadow evaluations and 22
promotion events (20 moves, a pending intent, a last-hour promotion) for 5 models, with their
registry in a local MLflow store beside it (``PATH.mlflow.db``: versions, runs, aliases), then
renders every page with Streamlit's ``AppTest`` and reports wall time per page (each render
includes the page's registry lookup when its cache is cold):

* ``cold``: caches cleared first (every query hits the database);
* ``warm``: the same page again (``st.cache_data`` hits, what a returning user sees);
* ``365 days``: the overview, drift and performance pages with the widest range selected.

Baselines measured in the same run:

* the same pages on a small database (3 models, 3 days, 3,000 predictions): the ratio
  large/small shows whether render time grows with the size of the log;
* ``raw scan``: what a page that aggregated the raw log at load time would pay for the
  overview's traffic numbers alone (decode every logged batch of the range and group its
  rows by model, role and version; 7 days and 365 days).

Run::

    .venv/bin/python benchmarks/dashboard.py            # builds /tmp/lifecycle-dash-bench.db
    .venv/bin/python benchmarks/dashboard.py --db PATH  # reuse a database built before
    .venv/bin/python benchmarks/dashboard.py --db /tmp/small.db --days 30 --predictions 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ("overview", "drift", "performance", "jobs", "retraining", "shadow", "lineage")
RANGE_KEYS = {"overview": "overview_range", "drift": "drift_range",
              "performance": "perf_range", "retraining": "retrain_range",
              "shadow": "shadow_range"}
#: Per model: 10 retrain runs, 100 shadow evaluations, 4 moves (x 5 models: 50, 500, 20).
LARGE_LOOP = {"retrain_runs": 10, "shadow_evaluations": 100, "promotions": 4}


def store_of(url: str) -> str:
    """The seeded registry's MLflow store beside a SQLite database."""
    return f"{url}.mlflow.db"


def build(url: str, *, days: float, n_predictions: int, n_models: int,
          loop: dict[str, int] | None = None) -> float:
    from lifecycle.registry.mlflow_store import MlflowRegistry
    from lifecycle.seed import DEFAULT_LOOP, DEFAULT_MODELS, LoopSize, seed_database
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    t0 = time.perf_counter()
    summary = seed_database(engine, models=DEFAULT_MODELS[:n_models], days=days,
                            predictions=n_predictions, seed=1,
                            loop=LoopSize(**loop) if loop else DEFAULT_LOOP,
                            registry=MlflowRegistry(store_of(url)))
    elapsed = time.perf_counter() - t0
    engine.dispose()
    print(f"  seeded {url} in {elapsed:.0f} s: {summary.rows}", flush=True)
    return elapsed


def render(page: str, *, clear: bool, wide: bool = False) -> float:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    if clear:
        st.cache_data.clear()
    at = AppTest.from_string(f"from lifecycle.dashboard.views import {page}\n{page}.render()\n",
                             default_timeout=120)
    if wide:
        at.run()
        if clear:
            st.cache_data.clear()
        t0 = time.perf_counter()
        at.selectbox(key=RANGE_KEYS[page]).select("365 days").run()
    else:
        t0 = time.perf_counter()
        at.run()
    elapsed = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    return elapsed


def measure(url: str, repeats: int) -> dict[str, dict[str, float]]:
    os.environ["LIFECYCLE_DATABASE_URL"] = url
    os.environ["LIFECYCLE_MLFLOW_TRACKING_URI"] = store_of(url)
    render("overview", clear=True)  # import Streamlit, Altair, pages once
    out: dict[str, dict[str, float]] = {}
    for page in PAGES:
        cold = [render(page, clear=True) for _ in range(repeats)]
        warm = [render(page, clear=False) for _ in range(repeats)]
        row = {"cold": statistics.median(cold), "warm": statistics.median(warm)}
        if page in RANGE_KEYS:
            row["365 days"] = statistics.median(
                [render(page, clear=True, wide=True) for _ in range(repeats)])
        out[page] = row
    return out


def raw_scan(url: str) -> dict[str, float]:
    from sqlalchemy import select

    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.tables import ModelRow
    from lifecycle.storage.window import load_window

    engine = make_engine(url)
    with engine.connect() as conn:
        names = conn.execute(select(ModelRow.name)).scalars().all()
    out = {}
    for days in (7, 365):
        start = datetime.now(UTC) - timedelta(days=days)
        t0 = time.perf_counter()
        for name in names:
            meta = load_window(engine, name, start, None, with_inputs=False).meta
            meta.groupby(["role", "model_version"], dropna=False)["latency_ms"].agg(
                ["count", "mean"])
        out[f"{days} days"] = time.perf_counter() - t0
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir())
                        / "lifecycle-dash-bench.db")
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="lc-bench-dash-")
    os.environ.setdefault("LIFECYCLE_HOME", scratch.name)

    large = f"sqlite:///{args.db}"
    if not args.db.exists():
        print(f"building the large database at {args.db} (several minutes)...", flush=True)
        build(large, days=args.days, n_predictions=args.predictions, n_models=5,
              loop=LARGE_LOOP)
    small = f"sqlite:///{Path(scratch.name) / 'small.db'}"
    build(small, days=3, n_predictions=3_000, n_models=3)

    print("rendering pages (median of", args.repeats, "runs each)...", flush=True)
    small_t = measure(small, args.repeats)
    large_t = measure(large, args.repeats)
    scan = raw_scan(large)

    print()
    print(f"{'page':<12}{'mode':<10}{'small db (s)':>14}{'large db (s)':>14}"
          f"{'large/small':>13}{'< 2 s':>8}")
    worst = 0.0
    for page in PAGES:
        for mode, value in large_t[page].items():
            base = small_t[page][mode]
            worst = max(worst, value)
            print(f"{page:<12}{mode:<10}{base:>14.3f}{value:>14.3f}{value / base:>13.2f}"
                  f"{'yes' if value < 2 else 'NO':>8}")
    print()
    for label, value in scan.items():
        print(f"baseline raw scan of the logged batches ({label}): {value:.3f} s "
              f"(overview cold render on the large db: {large_t['overview']['cold']:.3f} s)")
    print(f"\nslowest page render on the large database: {worst:.3f} s "
          f"({'within' if worst < 2 else 'OVER'} the 2 s target)")
    scratch.cleanup()


if __name__ == "__main__":
    main()

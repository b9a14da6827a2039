"""What a performance window costs with the reference's performance computed once per
reference (``performance_baselines``) instead of on every window, and what a re-run costs.

    .venv/bin/python benchmarks/performance_reruns.py [--reference 20000 --window 2000
        --rounds 5 --pg postgresql://postgres@127.0.0.1:5432/test]

Data: a logistic classifier logging probabilities (binary), a labelled reference day of
``--reference`` predictions and a window of ``--window`` predictions, all labelled; the
product's default performance settings (n_boot 200, three detectors, label drift on).

Modes, interleaved round by round (A B C A B C ...) so load drift on the shared machine hits
all alike; medians over ``--rounds``:

* ``computed``: the window's check with the cached reference dropped before each run - what
  every window cost before the cache (join the reference, bootstrap it, fit the estimator),
  plus writing the cache row;
* ``cached``: the same check reading the cached reference (its fingerprint still holds);
* ``unchanged``: a scheduled re-run (``rerun="+1d"``) of the window whose labels did not change
  since its report: nothing is recomputed.

Ratios are against ``computed`` of the same run. Not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sqlalchemy import delete  # noqa: E402

from lifecycle.config import ModelSettings, PerformanceSettings, Settings  # noqa: E402
from lifecycle.jobs.performance import run_performance_check  # noqa: E402
from lifecycle.storage.engine import make_engine  # noqa: E402
from lifecycle.storage.migrate import upgrade  # noqa: E402
from lifecycle.storage.tables import PerformanceBaseline  # noqa: E402

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _fill(engine, n_ref: int, n_win: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent
                           / "tests" / "integration" / "performance"))
    from _perf_data import classifier_data, timestamps, write_outcomes, write_predictions

    rng = np.random.default_rng(0)
    for start, n in ((T0, n_ref), (T0 + DAY, n_win)):
        d = classifier_data(rng, n)
        ts = timestamps(start, n, DAY)
        keys = write_predictions(engine, "clf", "classification", ts, {"x": d["x"]},
                                 labels=d["pred"].tolist(),
                                 proba={"0": (1 - d["p"]).tolist(), "1": d["p"].tolist()})
        write_outcomes(engine, "clf", keys, d["y"].tolist(),
                       [t + timedelta(hours=2) for t in ts])


def _pg_database(base: str, name: str, *, drop: bool = False) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"' if drop else f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


def bench(url: str, n_ref: int, n_win: int, rounds: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    _fill(engine, n_ref, n_win)
    settings = Settings(
        home=Path("."), database_url=url, mlflow_tracking_uri="sqlite:///unused.db",
        models={"clf": ModelSettings(name="clf", task="classification",
                                     performance=PerformanceSettings(
                                         reference_since=T0, reference_until=T0 + DAY))})
    now = T0 + 3 * DAY

    def computed() -> None:
        with engine.begin() as conn:
            conn.execute(delete(PerformanceBaseline))
        r = run_performance_check(engine, settings, "clf", T0 + DAY, T0 + 2 * DAY, now=now)
        assert r.reference["baseline"] == "computed"  # type: ignore[union-attr]

    def cached() -> None:
        r = run_performance_check(engine, settings, "clf", T0 + DAY, T0 + 2 * DAY, now=now)
        assert r.reference["baseline"] == "cached"  # type: ignore[union-attr]

    def unchanged() -> None:
        r = run_performance_check(engine, settings, "clf", T0 + DAY, T0 + 2 * DAY, now=now,
                                  rerun="+1d")
        assert r.verdict == "unchanged"

    modes = {"computed": computed, "cached": cached, "unchanged": unchanged}
    computed()  # warm imports and caches
    times: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(rounds):
        for name, fn in modes.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["computed"])
    print(f"{engine.dialect.name}: reference {n_ref} rows, window {n_win} rows, "
          f"{rounds} rounds (median)")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:<10} {med * 1000:8.1f} ms   {base / med:5.1f}x faster than computed")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg", help="also on this PostgreSQL server (a throwaway database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{tmp}/bench.db", args.reference, args.window, args.rounds)
    if args.pg:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            bench(_pg_database(args.pg, name), args.reference, args.window, args.rounds)
        finally:
            _pg_database(args.pg, name, drop=True)


if __name__ == "__main__":
    main()

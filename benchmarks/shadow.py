"""Serving benchmarks: what ManagedModel and its shadow cost the caller.

    .venv/bin/python benchmarks/shadow.py flavour [--calls 2000]
    .venv/bin/python benchmarks/shadow.py shadow [--rounds 5 --calls 300 --rows 1 --rows 1000]
    .venv/bin/python benchmarks/shadow.py overhead [--rounds 6 --calls 300 --rows 1000]

``flavour``: native scikit-learn object vs MLflow pyfunc wrapper of the same logged pipeline,
``predict`` latency on 1-row and 100-row frames (what ``Registry.load_model`` hands back).

``shadow``: the champion's per-request latency (p50/p99, the caller's thread only), paced at
half of the bare model's single-thread capacity, for

* ``bare``: the scikit-learn pipeline alone (20 features);
* ``managed``: ManagedModel, no challenger (capture on, writer running into SQLite);
* ``live``: ManagedModel(shadow="live") with a challenger shadowed by the queue + one
  thread (micro-batches);
* ``batch``: ManagedModel(shadow="batch", the default) with a challenger: the champion is
  served and logged, the ``shadow_score`` job scores the challenger later; the job's own
  time on everything ``batch`` logged is reported per row at the end;
* ``thread``: ManagedModel without challenger, plus one thread started per request that
  scores the challenger and logs it (the naive design DESIGN.md warns about).

Then ``saturation``: the same calls unpaced (as fast as one thread can), live and batch vs
managed, with the live shadow's drop rate. Modes are interleaved round by round; ratios are
against the same run's baseline. Not a test: nothing here asserts a timing.

``overhead``: what ManagedModel (no challenger) costs over the bare model, split: the
caller's own code (the DataFrame snapshot capture takes, the wrapper) with the writer's
``submit`` replaced by a no-op, then the same with the writer running. Calls of the modes
alternate one by one (A B C A B C ...), so load drift on the shared machine hits all alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import lifecycle  # noqa: E402
from lifecycle.capture import runtime  # noqa: E402
from lifecycle.capture.monitor import configure  # noqa: E402
from lifecycle.capture.records import guard_input  # noqa: E402
from lifecycle.jobs.shadow_score import run_shadow_scoring  # noqa: E402
from lifecycle.serving.managed import ManagedModel  # noqa: E402
from lifecycle.states import CHALLENGER, CHAMPION  # noqa: E402
from lifecycle.storage.engine import make_engine  # noqa: E402
from lifecycle.storage.migrate import upgrade  # noqa: E402
from lifecycle.storage.window import load_window  # noqa: E402
from lifecycle.testing import InMemoryRegistry  # noqa: E402

N_FEATURES = 20


def data(n: int = 5000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, N_FEATURES)), columns=[f"f{i}" for i in range(N_FEATURES)])
    y = (x["f0"] + rng.normal(scale=0.5, size=n) > 0).astype(int).to_numpy()
    return x, y


def pipelines() -> tuple[Any, Any, pd.DataFrame]:
    x, y = data()
    champion = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    challenger = make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(x, y)
    return champion, challenger, x


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --------------------------------------------------------------------------- flavour


def flavour(args: argparse.Namespace) -> None:
    import mlflow

    champion, _, x = pipelines()
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
        experiment = mlflow.create_experiment("bench", artifact_location=f"{tmp}/art")
        with mlflow.start_run(experiment_id=experiment):
            info = mlflow.sklearn.log_model(champion, name="model", input_example=x.head(5),
                                            pip_requirements=["scikit-learn"],
                                            serialization_format="cloudpickle")
        native = mlflow.sklearn.load_model(info.model_uri)
        pyfunc = mlflow.pyfunc.load_model(info.model_uri)
        for rows in (1, 100):
            batch = x.head(rows)
            timings: dict[str, list[float]] = {"native": [], "pyfunc": []}
            for _ in range(3):  # interleaved rounds
                for name, fn in (("native", native.predict), ("pyfunc", pyfunc.predict)):
                    for _ in range(20):
                        fn(batch)
                    for _ in range(args.calls // 3):
                        t0 = time.perf_counter()
                        fn(batch)
                        timings[name].append(time.perf_counter() - t0)
            n50, p50 = (statistics.median(timings[k]) * 1e6 for k in ("native", "pyfunc"))
            n99, p99 = (pct(timings[k], 0.99) * 1e6 for k in ("native", "pyfunc"))
            print(f"{rows:>4} rows: native p50 {n50:7.0f} us p99 {n99:7.0f} us | pyfunc p50 "
                  f"{p50:7.0f} us p99 {p99:7.0f} us | pyfunc/native p50 {p50 / n50:.2f}x")


# --------------------------------------------------------------------------- shadow


def register(registry: InMemoryRegistry, name: str, model: Any, example: pd.DataFrame,
             alias: str) -> None:
    with registry.start_run("bench", alias) as run:
        uri = run.log_model(model, input_example=example)
    registry.set_alias(name, alias, registry.register(name, uri, run_id=run.run_id).version)


def paced(fn: Callable[[Any], Any], inputs: list[Any], interval: float | None) -> list[float]:
    latencies = []
    next_at = time.perf_counter()
    for batch in inputs:
        if interval is not None:
            while True:
                wait = next_at - time.perf_counter()
                if wait <= 0:
                    break
                time.sleep(wait if wait > 0.002 else 0)
            next_at += interval
        t0 = time.perf_counter()
        fn(batch)
        latencies.append(time.perf_counter() - t0)
    return latencies


def shadow(args: argparse.Namespace) -> None:
    champion, challenger, x = pipelines()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        configure(database_url=url, spill_dir=f"{tmp}/spill", handle_sigterm=False)
        registry = InMemoryRegistry()
        register(registry, "solo", champion, x.head(5), CHAMPION)
        register(registry, "thread", champion, x.head(5), CHAMPION)
        register(registry, "paired", champion, x.head(5), CHAMPION)
        register(registry, "paired", challenger, x.head(5), CHALLENGER)
        register(registry, "deferred", champion, x.head(5), CHAMPION)
        register(registry, "deferred", challenger, x.head(5), CHALLENGER)
        solo = ManagedModel("solo", registry=registry, poll_seconds=3600).load()
        naive = ManagedModel("thread", registry=registry, poll_seconds=3600).load()
        paired = ManagedModel("paired", registry=registry, poll_seconds=3600,
                              shadow="live").load()
        deferred = ManagedModel("deferred", registry=registry, poll_seconds=3600,
                                shadow="batch").load()

        def thread_shadow(batch: Any) -> Any:
            out = naive.predict(batch)
            ids = lifecycle.last_prediction_ids()

            def score() -> None:
                t0 = time.perf_counter()
                answer = challenger.predict(batch)
                lifecycle.log_shadow("thread", batch, answer, request_ids=ids, version="2",
                                     latency_ms=(time.perf_counter() - t0) * 1000)

            threading.Thread(target=score, daemon=True).start()
            return out

        modes: dict[str, Callable[[Any], Any]] = {
            "bare": champion.predict, "managed": solo.predict, "live": paired.predict,
            "batch": deferred.predict, "thread": thread_shadow}
        for rows in args.rows:
            rng = np.random.default_rng(rows)
            inputs = [x.iloc[s:s + rows] for s in rng.integers(0, len(x) - rows, args.calls)]
            for fn in modes.values():  # warm up
                paced(fn, inputs[:30], None)
            bare_mean = statistics.mean(paced(champion.predict, inputs[:200], None))
            interval = 2 * bare_mean  # half of the bare model's single-thread capacity
            results: dict[str, list[float]] = {m: [] for m in modes}
            names = list(modes)
            for r in range(args.rounds):  # the order rotates round by round
                for mode in names[r % len(names):] + names[:r % len(names)]:
                    results[mode] += paced(modes[mode], inputs, interval)
                    paired.flush(60)
            report(f"{rows}-row calls paced at half capacity (one every "
                   f"{interval * 1e6:.0f} us)", results, args.calls * args.rounds)
            before = paired.stats
            saturated: dict[str, list[float]] = {"managed": [], "live": [], "batch": []}
            order = list(saturated)
            for r in range(args.rounds):
                for mode in order[r % len(order):] + order[:r % len(order)]:
                    saturated[mode] += paced(modes[mode], inputs, None)
                    paired.flush(120)  # no mode pays for the previous one's backlog
            after = paired.stats
            offered = after.served - before.served
            dropped = after.shadow_dropped - before.shadow_dropped
            paired.flush(120)
            report(f"{rows}-row calls at saturation (unpaced, one thread)", saturated,
                   args.calls * args.rounds, baseline="managed")
            print(f"  shadow drop rate at saturation: {dropped}/{offered} = "
                  f"{dropped / max(offered, 1):.1%} (queue {paired.shadow_queue} requests)")
        lifecycle.flush(120)
        later(url, registry)
        for model in (solo, naive, paired, deferred):
            model.close()
        runtime.reset()


def later(url: str, registry: InMemoryRegistry) -> None:
    """The batch job on everything ``batch`` logged: read, score, write (one run)."""
    engine = make_engine(url)
    try:
        n = len(load_window(engine, "deferred", with_inputs=False))
        t0 = time.perf_counter()
        result = run_shadow_scoring(engine, runtime.current_settings(), "deferred",
                                    datetime(2000, 1, 1, tzinfo=UTC),
                                    datetime(2100, 1, 1, tzinfo=UTC), registry=registry)
        elapsed = time.perf_counter() - t0
    finally:
        engine.dispose()
    print(f"\nshadow_score job on the {n} rows 'batch' logged: {elapsed:.2f} s, "
          f"{1e6 * elapsed / max(result.scored, 1):.2f} us/row ({result.scored} scored in "
          f"{result.batches} batches, {result.failed} failed); request-path cost = the "
          "'batch' rows above")


def overhead(args: argparse.Namespace) -> None:
    """ManagedModel (no challenger) over the bare model: the caller's code vs the writer."""
    champion, _, x = pipelines()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        configure(database_url=url, spill_dir=f"{tmp}/spill", handle_sigterm=False)
        registry = InMemoryRegistry()
        register(registry, "solo", champion, x.head(5), CHAMPION)
        solo = ManagedModel("solo", registry=registry, poll_seconds=3600).load()
        solo.predict(x.head(5))
        lifecycle.flush(30)
        writer = runtime.writer_for(None)
        submit = writer.submit
        kept: list[Any] = [None]

        def snapshot_only(batch: Any) -> Any:
            out = champion.predict(batch)
            kept[0] = guard_input(batch, None)  # what capture keeps of a DataFrame
            return out

        def no_writer(batch: Any) -> Any:
            writer.submit = _discard  # type: ignore[method-assign]
            try:
                return solo.predict(batch)
            finally:
                writer.submit = submit  # type: ignore[method-assign]

        modes: dict[str, Callable[[Any], Any]] = {
            "bare": champion.predict, "snapshot": snapshot_only,
            "managed, writer off": no_writer, "managed": solo.predict}
        for rows in args.rows:
            rng = np.random.default_rng(rows)
            inputs = [x.iloc[s:s + rows].copy() for s in rng.integers(0, len(x) - rows,
                                                                       args.calls)]
            timings: dict[str, list[float]] = {m: [] for m in modes}
            for _ in range(args.rounds):
                for batch in inputs:
                    for mode, fn in modes.items():
                        t0 = time.perf_counter()
                        fn(batch)
                        timings[mode].append(time.perf_counter() - t0)
                lifecycle.flush(60)
            base = statistics.median(timings["bare"])
            print(f"\n{rows}-row DataFrame calls, alternating, {len(timings['bare'])} per mode")
            for mode, values in timings.items():
                p50 = statistics.median(values)
                print(f"  {mode:<20} p50 {p50 * 1e6:8.1f} us | vs bare {p50 / base:5.3f}x "
                      f"(+{(p50 - base) * 1e6:6.1f} us)")
        solo.close()
        runtime.reset()


def _discard(record: Any, rows: int | None = None) -> None:
    return None


def report(title: str, results: dict[str, list[float]], calls: int,
           baseline: str = "bare") -> None:
    print(f"\n{title}, {calls} calls per mode")
    base50 = statistics.median(results[baseline])
    base99 = pct(results[baseline], 0.99)
    managed50 = statistics.median(results["managed"])
    managed99 = pct(results["managed"], 0.99)
    for mode, values in results.items():
        p50, p99 = statistics.median(values), pct(values, 0.99)
        print(f"  {mode:<11} p50 {p50 * 1e6:8.1f} us  p99 {p99 * 1e6:8.1f} us  | vs {baseline}: "
              f"p50 {p50 / base50:5.2f}x p99 {p99 / base99:5.2f}x | vs managed: "
              f"p50 {p50 / managed50:5.2f}x p99 {p99 / managed99:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["flavour", "shadow", "overhead"])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, action="append")
    args = parser.parse_args()
    args.rows = args.rows or [1, 1000]
    {"flavour": flavour, "shadow": shadow, "overhead": overhead}[args.part](args)


if __name__ == "__main__":
    main()

"""The fixed cost of a retrain cycle beyond the user's own ``fit``, against bare MLflow calls.

Issue 16's target, for 100,000 labelled rows x 20 features on the local store (SQLite database,
SQLite-backed MLflow in a temp folder): the fixed cost (window query and join, logging,
registration, alias move) at most 3 s, and at most 1.5 x the bare MLflow calls
(``log_model`` with explicit requirements + register + set alias, written with MLflow alone:
:func:`benchmarks.mlflow_bare.bare_cycle`) measured in the same run on the same fitted model.

Each round runs the whole built-in retrain (``lifecycle.retrain(..., force=True)``, the path a
scheduler takes), reads its own timing breakdown from the ``retrain_runs`` row (``details.
seconds``: window, fit, score, mlflow), then the bare cycle on the model the trainer returned.
Printed per round and as medians:

* ``fixed``  = the whole retrain minus the trainer's ``fit``;
* ``mlflow`` = lifecycle's MLflow part (run, params, window artifact, metrics, model, register,
  alias, superseded tag);
* ``bare``   = the bare MLflow calls; ratios ``mlflow / bare`` and ``fixed / bare``.

    .venv/bin/python benchmarks/retrain.py [--rows 100000] [--features 20] [--rounds 3]

Not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

#: the models the trainer returned, by round (the bare cycle logs the same object)
FITTED: list[Any] = []


def train(frame: pd.DataFrame, target: str, params: dict[str, Any]) -> Any:
    """The benchmark's trainer: a logistic regression (a fast ``fit``; it is subtracted)."""
    model = LogisticRegression(max_iter=200).fit(frame.drop(columns=[target]), frame[target])
    FITTED.append(model)
    return model


def _log(url: str, rows: int, features: int, rng: np.random.Generator) -> None:
    import lifecycle
    from lifecycle.capture import runtime
    from lifecycle.capture.monitor import capture_context, configure

    weights = rng.normal(0, 1, features)
    configure(database_url=url, handle_sigterm=False, flush_interval_s=0.05)
    try:
        @lifecycle.monitor("bench", id_column="id")
        def predict(frame: pd.DataFrame) -> Any:
            return (frame.drop(columns=["id"]).to_numpy() @ weights > 0).astype(int)

        x = pd.DataFrame(rng.normal(0, 1, (rows, features)),
                         columns=[f"f{i}" for i in range(features)])
        x.insert(0, "id", [f"r{i}" for i in range(rows)])
        truth = ((x.drop(columns=["id"]).to_numpy() @ weights
                  + rng.normal(0, 1, rows)) > 0).astype(int)
        with capture_context() as cap:
            for start in range(0, rows, 1000):
                predict(x.iloc[start:start + 1000])
        assert lifecycle.flush(120)
        for start in range(0, rows, 50_000):
            lifecycle.log_outcomes("bench", cap.join_keys[start:start + 50_000],
                                   truth[start:start + 50_000].tolist())
    finally:
        runtime.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import lifecycle
    from benchmarks import retrain as trainer_module  # the module the job imports
    from benchmarks.mlflow_bare import bare_cycle
    from lifecycle.registry.mlflow_store import registry_for
    from lifecycle.states import CHAMPION
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import upgrade

    rng = np.random.default_rng(16)
    with tempfile.TemporaryDirectory(prefix="lc-bench-retrain-") as tmp:
        home = Path(tmp)
        url = f"sqlite:///{home / 'lifecycle.db'}"
        upgrade(url)
        (home / "lifecycle.toml").write_text(f"""
database_url = "{url}"
home = "{home}"
[models.bench]
task = "classification"
id_column = "id"
[models.bench.retrain]
trainer = "benchmarks.retrain:train"
min_rows = 1000
holdout = "20%"
""")
        t0 = time.perf_counter()
        _log(url, args.rows, args.features, rng)
        print(f"logged {args.rows:,} labelled rows x {args.features} features in "
              f"{time.perf_counter() - t0:.1f} s")
        settings = lifecycle.load_settings(home / "lifecycle.toml", env={}, cwd=home)
        engine = make_engine(url)
        registry = registry_for(settings)
        x0 = pd.DataFrame(rng.normal(0, 1, (2000, args.features)),
                          columns=[f"f{i}" for i in range(args.features)])
        champion = LogisticRegression().fit(x0, (x0["f0"] > 0).astype(int))
        with registry.start_run("lifecycle/bench", "initial") as run:
            uri = run.log_model(champion, input_example=x0.head(5))
        registry.set_alias("bench", CHAMPION,
                           registry.register("bench", uri, run_id=run.run_id).version)

        rows = []
        print(f"{'round':>5} {'total':>7} {'fit':>6} {'window':>7} {'score':>6} "
              f"{'mlflow':>7} {'fixed':>6} {'bare':>6} {'mlflow/bare':>11} {'fixed/bare':>10}")
        for i in range(args.rounds):
            t0 = time.perf_counter()
            result = lifecycle.retrain("bench", force=True, settings=settings, engine=engine,
                                       registry=registry)
            total = time.perf_counter() - t0
            assert result.run is not None and result.run.status == "done", result
            sec = result.run.details["seconds"]
            train_x = x0.head(5)
            bare = bare_cycle(trainer_module.FITTED[-1], train_x, settings.mlflow_tracking_uri,
                              home / "bare-artifacts", name="bench-bare")["total"]
            fixed = total - sec["fit"]
            row = (total, sec["fit"], sec["window"], sec["score"], sec["mlflow"], fixed, bare)
            rows.append(row)
            print(f"{i:>5} " + " ".join(f"{v:>6.3f}" for v in row)
                  + f" {sec['mlflow'] / bare:>11.2f} {fixed / bare:>10.2f}")
        med = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(f"{'med':>5} " + " ".join(f"{v:>6.3f}" for v in med)
              + f" {med[4] / med[6]:>11.2f} {med[5] / med[6]:>10.2f}")
        print(f"\nfixed cost beyond fit: {med[5]:.2f} s (target <= 3 s); lifecycle's MLflow "
              f"part {med[4]:.3f} s vs bare MLflow {med[6]:.3f} s = {med[4] / med[6]:.2f}x "
              f"(target <= 1.5x); whole fixed cost / bare = {med[5] / med[6]:.1f}x")
        engine.dispose()


if __name__ == "__main__":
    main()

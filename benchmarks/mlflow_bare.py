"""The bare MLflow calls of a retrain cycle, the baseline of the retrain benchmark.

:func:`bare_cycle` times what a team would write with MLflow alone and no lifecycle code:
``mlflow.sklearn.log_model`` with explicit ``pip_requirements`` (cloudpickle, the format that
loads tree models) inside a run, ``mlflow.register_model``, and one alias move. The
``__main__`` prints its per-call times for a RandomForest fitted on 100,000 x 20, interleaved
with the same cycle through lifecycle's adapter (:class:`MlflowRegistry`), and their ratio.

    .venv/bin/python benchmarks/mlflow_bare.py [--rows 100000] [--features 20] [--rounds 5]

Not a test: nothing here asserts a timing. The fluent API needs MLflow's global tracking
URI; :func:`bare_cycle` sets it for the cycle and restores the previous one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REQUIREMENTS = [f"{name}=={metadata.version(name)}" for name in
                ("scikit-learn", "cloudpickle", "numpy", "pandas", "scipy")]


def bare_cycle(model: Any, X: Any, tracking_uri: str, artifacts: str | Path,
               *, name: str = "bench", experiment: str = "bench") -> dict[str, float]:
    """Log, register and alias ``model`` with MLflow alone; seconds per call.

    ``X`` is the training frame (its first 5 rows are the input example); ``artifacts`` the
    folder given as the experiment's artifact location when the experiment is created.
    Returns ``start_run``, ``log_model``, ``register``, ``set_alias``, ``end_run`` and
    ``total`` (the sum).
    """
    import mlflow
    from mlflow import MlflowClient

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        found = client.get_experiment_by_name(experiment)
        experiment_id = (found.experiment_id if found is not None else client.create_experiment(
            experiment, artifact_location=Path(artifacts).resolve().as_uri()))
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        mlflow.start_run(experiment_id=experiment_id)
        t1 = time.perf_counter()
        info = mlflow.sklearn.log_model(model, name="model", input_example=X[:5],
                                        pip_requirements=REQUIREMENTS,
                                        serialization_format="cloudpickle")
        t2 = time.perf_counter()
        version = mlflow.register_model(info.model_uri, name)
        t3 = time.perf_counter()
        client.set_registered_model_alias(name, "challenger", version.version)
        t4 = time.perf_counter()
        mlflow.end_run()
        t5 = time.perf_counter()
        times = {"start_run": t1 - t0, "log_model": t2 - t1, "register": t3 - t2,
                 "set_alias": t4 - t3, "end_run": t5 - t4}
        times["total"] = sum(times.values())
        return times
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run("FAILED")
        mlflow.set_tracking_uri(previous)


def lifecycle_cycle(model: Any, X: Any, tracking_uri: str, *, name: str = "bench-lc",
                    experiment: str = "bench-lc") -> dict[str, float]:
    """The same cycle through :class:`lifecycle.registry.mlflow_store.MlflowRegistry`."""
    from lifecycle.registry.mlflow_store import MlflowRegistry

    registry = MlflowRegistry(tracking_uri)
    t0 = time.perf_counter()
    with registry.start_run(experiment, "bench") as run:
        t1 = time.perf_counter()
        uri = run.log_model(model, input_example=X)
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    version = registry.register(name, uri, run_id=run.run_id)
    t4 = time.perf_counter()
    registry.set_alias(name, "challenger", version.version)
    t5 = time.perf_counter()
    times = {"start_run": t1 - t0, "log_model": t2 - t1, "register": t4 - t3,
             "set_alias": t5 - t4, "end_run": t3 - t2}
    times["total"] = sum(times.values())
    return times


def main() -> None:
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(args.rows, args.features)),
                     columns=[f"f{i}" for i in range(args.features)])
    y = (X["f0"] + 0.5 * X["f1"] + rng.normal(scale=0.5, size=args.rows) > 0).astype(int)
    t = time.perf_counter()
    model = RandomForestClassifier(n_estimators=50, max_depth=12, n_jobs=2,
                                   random_state=0).fit(X, y)
    fit = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        artifacts = Path(tmp) / "mlartifacts"
        # warm up both paths (store migrations, imports, first pickle) before timing
        bare_cycle(model, X, uri, artifacts)
        lifecycle_cycle(model, X, uri)
        bare: list[dict[str, float]] = []
        ours: list[dict[str, float]] = []
        for _ in range(args.rounds):  # interleaved: both see the same machine load
            bare.append(bare_cycle(model, X, uri, artifacts))
            ours.append(lifecycle_cycle(model, X, uri))
    print(f"RandomForest(50 trees, depth 12) on {args.rows:,} x {args.features}: fit "
          f"{fit:.2f} s (not counted); median of {args.rounds} interleaved rounds")
    print(f"{'call':<10} {'bare MLflow (s)':>16} {'lifecycle (s)':>14} {'ratio':>6}")
    for key in ("start_run", "log_model", "register", "set_alias", "end_run", "total"):
        b = statistics.median(r[key] for r in bare)
        o = statistics.median(r[key] for r in ours)
        print(f"{key:<10} {b:>16.4f} {o:>14.4f} {o / b:>6.2f}")


if __name__ == "__main__":
    main()

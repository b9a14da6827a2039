"""An example trainer and data loader for lifecycle's retraining (docs/retraining.md).

Copy this file into your project, e.g. as ``churn_training.py`` in the folder you run
``lifecycle`` from (the working directory is importable), and name its functions in
``lifecycle.toml``::

    [models.churn.retrain]
    trainer = "churn_training:train"
    data_loader = "churn_training:load_rows"     # optional
    window = "30d"
    holdout = "20%"
    target = "churned"
    [models.churn.retrain.params]
    original_data = "data/churn_train.parquet"   # read by load_rows
    max_iter = 300                               # every other key has a default below

A module inside your own package works the same way (``trainer = "churn.training:train"``)
when the package is installed in lifecycle's environment (``pip install -e .``).

Run on its own, ``python examples/trainer.py`` fits the pipeline on a seeded synthetic frame
and prints its accuracy on the newest fifth of the rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

#: Hyper-parameters and their defaults; ``[models.NAME.retrain.params]`` overrides any of them.
DEFAULTS: dict[str, Any] = {
    "max_iter": 200,
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "l2_regularization": 0.0,
    "random_state": 0,
}


def train(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Pipeline:
    """Fit a gradient-boosted classifier on ``train`` (features + the ``target`` column).

    Numeric and boolean columns go in as they are (the booster handles missing values);
    every other column is one-hot encoded, with missing values as their own category and
    categories never seen in training ignored at prediction time.
    """
    settings = {key: params.get(key, default) for key, default in DEFAULTS.items()}
    x, y = train.drop(columns=[target]), train[target]
    numeric = x.select_dtypes(include=["number", "bool"]).columns.tolist()
    categorical = [c for c in x.columns if c not in numeric]
    features = ColumnTransformer([
        ("numeric", "passthrough", numeric),
        ("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        ), categorical),
    ])
    model = Pipeline([
        ("features", features),
        ("classifier", HistGradientBoostingClassifier(**settings)),
    ])
    return model.fit(x, y)


def load_rows(params: dict[str, Any]) -> pd.DataFrame:
    """The original training set (``params["original_data"]``: a .parquet or .csv file), to
    train on beside the labelled traffic of the window. It needs the model's feature columns
    and the target column; other columns are ignored."""
    path = params.get("original_data")
    if not path:
        raise ValueError("set [models.NAME.retrain.params] original_data = 'path/to/train.csv' "
                         "(or .parquet): the file load_rows reads")
    path = Path(path)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """A seeded churn-like frame: ``age``, ``tenure`` (with missing values), ``plan``,
    ``churned``."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    tenure = rng.exponential(24, n)
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2])
    score = 0.04 * (45 - age) - 0.05 * tenure + np.where(plan == "basic", 1.0, -0.5)
    churned = np.where(rng.random(n) < 1 / (1 + np.exp(-score)), "yes", "no")
    tenure[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"age": age, "tenure": tenure, "plan": plan, "churned": churned})


if __name__ == "__main__":
    frame = synthetic(2_000)
    cut = int(len(frame) * 0.8)
    model = train(frame.iloc[:cut], "churned", {"max_iter": 100})
    held = frame.iloc[cut:]
    accuracy = float((model.predict(held.drop(columns=["churned"])) == held["churned"]).mean())
    print(f"holdout accuracy {accuracy:.3f} on {len(held)} rows")

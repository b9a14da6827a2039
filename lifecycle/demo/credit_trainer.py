"""A credit-default trainer for lifecycle's retraining, written the way a team writes its own.

``lifecycle demo`` names it in the demo's ``lifecycle.toml``::

    [models.credit_default.retrain]
    trainer = "credit_trainer:train"
    target = "default"
    [models.credit_default.retrain.params]
    C = 1.0

and trains the first champion with it too. The demo writes this file next to its
``lifecycle.toml`` and runs from that folder, which lifecycle puts on the import path (see
docs/retraining.md, "Importing"), exactly as your own ``credit_trainer.py`` would be found in
your project's folder. The file is ``examples/credit_trainer.py`` in the repository (a link
to ``lifecycle/demo/credit_trainer.py``, the copy installed with the package).

It imports nothing from lifecycle: a trainer is plain scikit-learn code with the signature
``train(train: DataFrame, target: str, params: dict) -> fitted model``.

Run on its own, ``python examples/credit_trainer.py`` fits the pipeline on a seeded synthetic
frame and prints its ROC AUC on the newest fifth of the rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

#: Hyper-parameters and their defaults; ``[models.NAME.retrain.params]`` overrides any of them.
DEFAULTS: dict[str, Any] = {
    "C": 1.0,  # inverse regularisation strength of the logistic regression
    "max_iter": 1000,
    "money_columns": ["income", "loan_amount"],  # log-scaled: amounts are heavy-tailed
}


def train(train: pd.DataFrame, target: str, params: dict[str, Any]) -> Pipeline:
    """Fit a logistic regression on ``train`` (features + the ``target`` column).

    Text columns are one-hot encoded (a category never seen in training is all zeros, so a
    new value in next month's traffic does not crash the model); money columns are
    ``log1p``-transformed, then every numeric column is standardised.
    """
    settings = {key: params.get(key, default) for key, default in DEFAULTS.items()}
    x, y = train.drop(columns=[target]), train[target].astype(int)
    numeric = x.select_dtypes(include=["number", "bool"]).columns.tolist()
    categorical = [c for c in x.columns if c not in numeric]
    money = [c for c in settings["money_columns"] if c in numeric]
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical),
        (make_pipeline(FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                       StandardScaler()), money),
        (StandardScaler(), [c for c in numeric if c not in money]),
    )
    model = make_pipeline(encode, LogisticRegression(C=float(settings["C"]),
                                                     max_iter=int(settings["max_iter"])))
    return model.fit(x, y)


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """A seeded credit-like frame: ``income``, ``loan_amount``, ``utilisation``, ``purpose``
    and the target ``default``."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(np.log(50_000), 0.4, n)
    loan = rng.lognormal(np.log(12_000), 0.6, n)
    utilisation = rng.beta(2, 5, n)
    purpose = rng.choice(["car", "home", "business"], n, p=[0.5, 0.3, 0.2])
    z = -2.0 - np.log(income / 50_000) + 0.5 * np.log(loan / 12_000) + 3 * (utilisation - 0.3)
    z += np.where(purpose == "business", 0.6, 0.0)
    default = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return pd.DataFrame({"income": income, "loan_amount": loan, "utilisation": utilisation,
                         "purpose": purpose, "default": default})


if __name__ == "__main__":
    from sklearn.metrics import roc_auc_score

    frame = synthetic(5_000)
    cut = int(len(frame) * 0.8)
    fitted = train(frame.iloc[:cut], "default", {})
    held = frame.iloc[cut:]
    auc = roc_auc_score(held["default"], fitted.predict_proba(held.drop(columns=["default"]))[:, 1])
    print(f"holdout ROC AUC {auc:.3f} on {len(held)} rows")

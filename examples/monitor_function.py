"""Monitor a prediction function with one decorator, then give it late labels.

Run from an empty folder (lifecycle keeps its SQLite database in ./.lifecycle):

    lifecycle db upgrade
    python monitor_function.py
    lifecycle models                       # churn: 500 predictions, 500 labelled

The decorated function is your own: lifecycle logs its inputs and outputs off the request
path and never raises into it. ``classes=`` says the returned columns are class
probabilities, ``id_column=`` which input column joins late labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import lifecycle

rng = np.random.default_rng(0)


def customers(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame({"customer_id": rng.integers(0, 10**9, n),
                          "tenure": rng.integers(0, 72, n).astype(float),
                          "monthly_charges": rng.normal(60, 20, n)})
    churned = rng.random(n) < 1 / (1 + np.exp(0.05 * frame["tenure"] - 1))
    return frame, churned.astype(int).to_numpy()


history, labels = customers(2000)
model = LogisticRegression().fit(history[["tenure", "monthly_charges"]], labels)


@lifecycle.monitor("churn", id_column="customer_id", classes=[0, 1])
def predict(features: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(features[["tenure", "monthly_charges"]])


today, truth = customers(500)
for start in range(0, 500, 50):                      # requests as they come
    predict(today.iloc[start:start + 50])

# weeks later, the truth arrives: joined by customer_id
lifecycle.log_outcomes("churn", today["customer_id"].tolist(), truth.tolist())
result = lifecycle.flush(timeout=30)                 # truthy when everything is stored
print(f"logged 500 predictions and their labels: {bool(result)}")

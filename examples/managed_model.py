"""Serve the registered champion with ``ManagedModel``; a challenger is shadowed.

After ``monitor_function.py`` (or with any model of yours), adopt the model you serve and
serve it through lifecycle:

    python -c "import joblib, monitor_function as m; joblib.dump(m.model, 'model.joblib')"
    lifecycle register churn --from-file model.joblib --alias champion
    python managed_model.py

``ManagedModel`` loads ``models:/churn@champion`` from the MLflow registry, logs every call
(role ``champion``, its version) and picks up a new champion without a restart. With a
``challenger`` alias (a retrain registers one), the challenger answers the same requests in
shadow: later in batch by the scheduler's ``shadow_score`` job (the default,
``shadow="batch"``) or live off the request path (``shadow="live"``); the shadow evaluation
then promotes it only when a paired test says it is better (docs/serving.md,
docs/promotion.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import lifecycle

rng = np.random.default_rng(3)
requests = pd.DataFrame({"customer_id": rng.integers(0, 10**9, 100),
                         "tenure": rng.integers(0, 72, 100).astype(float),
                         "monthly_charges": rng.normal(60, 20, 100)})

model = lifecycle.ManagedModel("churn", id_column="customer_id")
for start in range(0, 100, 10):
    answer = model.predict_proba(requests[["tenure", "monthly_charges"]].iloc[start:start + 10]
                                 .assign(customer_id=requests["customer_id"]
                                         .iloc[start:start + 10]))
print(f"served by champion version {model.versions[0]}: {model.stats.served} calls")
model.close()
assert lifecycle.flush(timeout=30)

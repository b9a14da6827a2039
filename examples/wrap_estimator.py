"""Wrap a fitted scikit-learn estimator: same methods, same answers, every call logged.

Run from an empty folder:

    lifecycle db upgrade
    python wrap_estimator.py
    lifecycle models

The wrapper keeps scikit-learn's conventions (``predict``, ``predict_proba``, ``classes_``,
``check_is_fitted``, ``clone``), reads the estimator's feature importances once, and logs the
class probabilities with the predicted class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

import lifecycle

rng = np.random.default_rng(1)
X = pd.DataFrame(rng.normal(size=(1000, 3)), columns=["age", "income", "debt"])
y = (X["income"] - X["debt"] + rng.normal(scale=0.5, size=1000) > 0).astype(int)

clf = lifecycle.monitor("credit")(RandomForestClassifier(n_estimators=50, random_state=0))
clf.fit(X, y)                                     # fit returns the wrapper

with lifecycle.capture_context() as cap:
    proba = clf.predict_proba(X.head(200))        # logged: probabilities + predicted class
print(f"{len(cap.prediction_ids)} predictions logged; classes {list(clf.classes_)}; "
      f"mean P(1) = {proba[:, 1].mean():.3f}")
lifecycle.log_outcomes("credit", cap.prediction_ids, y.head(200).tolist())
assert lifecycle.flush(timeout=30)

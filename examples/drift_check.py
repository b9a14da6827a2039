"""Compare two DataFrames for data drift, no database needed.

    python drift_check.py

``check_drift`` decides per feature with a significance test AND an effect size (a quarter
of a reference standard deviation is drift at 10,000 rows or more), so a huge window does not
alarm on an immaterial change (docs/drift.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import lifecycle

rng = np.random.default_rng(2)
reference = pd.DataFrame({"age": rng.normal(40, 10, 20_000),
                          "plan": rng.choice(["basic", "pro"], 20_000, p=[0.7, 0.3])})
current = pd.DataFrame({"age": rng.normal(44, 10, 20_000),          # +0.4 SD: drift
                        "plan": rng.choice(["basic", "pro"], 20_000, p=[0.69, 0.31])})

report = lifecycle.check_drift(reference, current, categorical=["plan"])
for feature in report.features:
    print(f"{feature.name:>5}: {feature.verdict}")
print(f"drifting: {[f.name for f in report.features if f.verdict == 'drift']}")

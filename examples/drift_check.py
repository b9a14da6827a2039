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
print(f"report: {report.verdict} ({report.n_drifted} of {report.n_features} features)")
for result in report.ranked_features:                # most moved first, with the reasons
    print(f"{result.feature:>5}: {result.verdict:<9} {'; '.join(result.reasons)}")
print(f"drifting: {[f.feature for f in report.features if f.verdict == 'drift']}")

"""The calibration study's cases through Evidently's and NannyML's default drift presets.

Runs in the peer's own virtual environment (never lifecycle's): it imports only numpy, scipy,
pandas, the peer, and ``calibration_data`` (the same shift families, sizes and seeds as
``calibration.py``). Per seed, one reference and one current frame with one column per case.

* Evidently (0.7, ``DataDriftPreset()`` defaults): a column drifts when its ``ValueDrift``
  score crosses the preset's threshold (above it for distances, below it for p-values; with
  more than 1,000 rows that is normed Wasserstein >= 0.1 for numeric columns and
  Jensen-Shannon >= 0.1 for categorical ones). Evidently has no warning level.
* NannyML (0.13, ``UnivariateDriftCalculator`` defaults: Jensen-Shannon for both kinds,
  threshold mean + 3 SD of the reference chunks, default chunking into 10 chunks): a column
  drifts when any analysis chunk of the current window raises an alert.

When a peer fails on the frame (e.g. on +/-inf), the error is recorded and the run repeated
without the infinite-value columns.

Usage::

    python -m venv /work/peers/ev && /work/peers/ev/bin/pip install 'evidently==0.7.*' 'pandas<3'
    python -m venv /work/peers/nm && /work/peers/nm/bin/pip install 'nannyml==0.13.*' statsmodels
    /work/peers/ev/bin/python benchmarks/calibration_peers.py evidently
    /work/peers/nm/bin/python benchmarks/calibration_peers.py nannyml
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_data import CASES  # noqa: E402

DEFAULT_SEEDS = {100_000: 3, 1_000_000: 1}
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")  # NannyML's telemetry, offline here


def frames(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref: dict[str, Any] = {}
    cur: dict[str, Any] = {}
    for i, case in enumerate(CASES):
        rng = np.random.default_rng([seed, i, n])  # the same draws as calibration.py
        ref[case.name] = case.reference(rng, n)
        cur[case.name] = case.current(rng, n)
    return pd.DataFrame(ref), pd.DataFrame(cur)


def evidently_drift(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, bool]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    out: dict[str, bool] = {}
    for m in snap.dict()["metrics"]:
        cfg = m["config"]
        if not cfg.get("type", "").endswith("ValueDrift"):
            continue
        value, thr, method = float(m["value"]), float(cfg["threshold"]), cfg["method"]
        p_value = "p_value" in method.lower() or "test" in method.lower()
        out[cfg["column"]] = bool(value < thr) if p_value else bool(value >= thr)
    return out


def nannyml_drift(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, bool]:
    import nannyml as nml

    cols = list(ref.columns)
    calc = nml.UnivariateDriftCalculator(column_names=cols)
    calc.fit(ref)
    res = calc.calculate(cur).filter(period="analysis").to_df()
    out: dict[str, bool] = {}
    for col in cols:
        alerts = [c for c in res.columns if c[0] == col and c[-1] == "alert"]
        out[col] = bool(res[alerts].to_numpy().any())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer", choices=["evidently", "nannyml"])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--seeds", type=int, default=None)
    args = ap.parse_args()
    run = evidently_drift if args.peer == "evidently" else nannyml_drift
    warnings.simplefilter("ignore")
    for n in [int(s) for s in args.sizes.split(",")]:
        seeds = args.seeds or DEFAULT_SEEDS.get(n, 1)
        flagged: dict[str, list[bool]] = defaultdict(list)
        errors: list[str] = []
        t0 = time.perf_counter()
        for seed in range(seeds):
            ref, cur = frames(n, seed)
            try:
                res = run(ref, cur)
            except Exception as exc:  # a peer failing on +/-inf is a result, not a crash
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                keep = [c.name for c in CASES if c.family != "infinite share"]
                res = run(ref[keep], cur[keep])
            for case in CASES:
                if case.name in res:
                    flagged[case.name].append(res[case.name])
        print(f"\n## {args.peer}, n = {n:,} per side, {seeds} seed(s), "
              f"{time.perf_counter() - t0:.0f} s")
        for e in sorted(set(errors)):
            print(f"error (run repeated without the infinite-value columns): {e}")
        print("\n| case | expected | flagged as drift |")
        print("|---|---|---|")
        for case in CASES:
            v = flagged.get(case.name, [])
            print(f"| {case.name} | {case.expected} | "
                  f"{f'{sum(v)}/{len(v)}' if v else 'not run'} |")

        def rate(expected: str, families: set[str] | None = None,
                 flagged: dict[str, list[bool]] = flagged) -> str:
            vals = [x for c in CASES if c.expected == expected
                    and (families is None or c.family in families)
                    for x in flagged.get(c.name, [])]
            return f"{sum(vals)}/{len(vals)}"

        print(f"\nsummary {args.peer} n={n:,}: drift promise -> drift {rate('drift')}; "
              f"warning promise -> drift {rate('warning')}; unchanged -> drift "
              f"{rate('no_drift', {'stationary'})}; immaterial -> drift "
              f"{rate('no_drift', {'immaterial'})}")


if __name__ == "__main__":
    main()

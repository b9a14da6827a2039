"""Drift calibration study: shift families x window sizes x seeds, with the default policy.

Every seed draws one reference window and one current window of ``n`` rows for every case of
``calibration_data.CASES`` (one feature per case: 28 changed at the drift or warning promise,
4 immaterial, 8 unchanged) and runs ONE report over all of them, as a scheduled check would:
stored (sketched) reference profiles, the default :class:`lifecycle.drift.DriftPolicy`,
Benjamini-Hochberg across all 40 features' tests.

Printed per case and size: how often the verdict was the expected one, and the distribution
of the deciding effect across seeds against its thresholds - the effect of the deciding
statistic with the largest ``effect / drift threshold`` (ungated), its mean, SD, min and max,
and the margin to the nearest threshold in SDs across seeds. Then, per size: recall (drift
promise cases that drifted; warning promise cases that warned or drifted), and the
false-alarm rate on unchanged and immaterial features (drift, and warning-or-drift).

Usage (about 3-4 minutes on 2 cores; fewer seeds at 1M to stay in budget)::

    PYTHONPATH=. .venv/bin/python benchmarks/calibration.py
    PYTHONPATH=. .venv/bin/python benchmarks/calibration.py --sizes 10000 --seeds 50
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_data import CASES, Case  # noqa: E402

from lifecycle.drift import (  # noqa: E402
    CategoricalSample,
    DriftPolicy,
    NumericSample,
    build_categorical_profile,
    build_numeric_profile,
    decide,
    feature_statistics,
)
from lifecycle.drift.engine import parallel_map  # noqa: E402
from lifecycle.drift.report import DRIFT, NO_DRIFT, WARNING, FeatureResult  # noqa: E402

DEFAULT_SEEDS = {10_000: 30, 100_000: 10, 1_000_000: 3}


def _sample(case: Case, values: np.ndarray) -> NumericSample | CategoricalSample:
    if case.kind == "numeric":
        return NumericSample.from_values(values, case.name)
    labels, counts = np.unique(values.astype(str), return_counts=True)
    return CategoricalSample(tuple(str(x) for x in labels), counts.astype(np.int64), 0)


def run_seed(n: int, seed: int, policy: DriftPolicy) -> list[FeatureResult]:
    """One report over every case at size ``n``."""

    def job(i: int, case: Case) -> Any:
        def run() -> Any:
            rng = np.random.default_rng([seed, i, n])
            ref = _sample(case, case.reference(rng, n))
            cur = _sample(case, case.current(rng, n))
            prof = (build_numeric_profile(ref, case.name) if isinstance(ref, NumericSample)
                    else build_categorical_profile(ref, case.name))
            return feature_statistics(case.name, prof, cur, policy)
        return run

    stats = parallel_map([job(i, c) for i, c in enumerate(CASES)], workers=2)
    return list(decide(stats, policy).features)


def deciding_effect(f: FeatureResult) -> tuple[str, float, float, float]:
    """(statistic, effect, warning, drift threshold) with the largest effect / drift thr."""
    best: tuple[str, float, float, float] | None = None
    for s in f.statistics:
        if s.name not in f.deciding or not s.computed or not s.drift_threshold:
            continue
        key = s.effect / s.drift_threshold
        if best is None or key > best[1] / best[3]:
            best = (s.name, s.effect, s.warning_threshold or 0.0, s.drift_threshold)
    assert best is not None
    return best


def hit(expected: str, verdict: str) -> bool:
    return verdict == expected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds per size (default 30 / 10 / 3 at 10k / 100k / 1M)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    policy = DriftPolicy()
    print(f"# drift calibration: {len(CASES)} features per report, default policy")
    summary: list[str] = []
    for n in sizes:
        seeds = args.seeds or DEFAULT_SEEDS.get(n, 5)
        t0 = time.perf_counter()
        verdicts: dict[str, list[str]] = defaultdict(list)
        effects: dict[str, list[tuple[str, float, float, float]]] = defaultdict(list)
        for seed in range(seeds):
            for f in run_seed(n, seed, policy):
                verdicts[f.feature].append(f.verdict)
                effects[f.feature].append(deciding_effect(f))
        elapsed = time.perf_counter() - t0
        print(f"\n## n = {n:,} per side, {seeds} seeds ({elapsed:.0f} s)\n")
        print("| case | expected | verdicts (drift/warning/none) | statistic | effect mean (sd) "
              "[min, max] | warning / drift | margin (sd) |")
        print("|---|---|---|---|---|---|---|")
        for case in CASES:
            v = verdicts[case.name]
            e = effects[case.name]
            names = {x[0] for x in e}
            vals = np.array([x[1] for x in e])
            warn, drift = e[0][2], e[0][3]
            sd = float(vals.std(ddof=1)) if vals.size > 1 else 0.0
            mean = float(vals.mean())
            near = min((warn, drift), key=lambda t: abs(mean - t))
            margin = f"{abs(mean - near) / sd:.1f}" if sd > 1e-12 else "exact"
            counts = f"{v.count(DRIFT)}/{v.count(WARNING)}/{v.count(NO_DRIFT)}"
            flag = "" if all(hit(case.expected, x) for x in v) else " **miss**"
            print(f"| {case.name} | {case.expected} | {counts}{flag} | {'/'.join(sorted(names))} "
                  f"| {mean:.4f} ({sd:.4f}) [{vals.min():.4f}, {vals.max():.4f}] "
                  f"| {warn:g} / {drift:g} | {margin} |")
        drift_cases = [c for c in CASES if c.expected == "drift"]
        warn_cases = [c for c in CASES if c.expected == "warning"]
        quiet = [c for c in CASES if c.expected == "no_drift"]
        quiet_stat = [c for c in quiet if c.family == "stationary"]

        def rate(cases: list[Case], ok: set[str],
                 verdicts: dict[str, list[str]] = verdicts) -> str:
            k = sum(x in ok for c in cases for x in verdicts[c.name])
            t = sum(len(verdicts[c.name]) for c in cases)
            return f"{k}/{t} ({k / t:.1%})"

        summary.append(
            f"| {n:,} | {seeds} | {rate(drift_cases, {DRIFT})} | "
            f"{rate(warn_cases, {WARNING})} | {rate(warn_cases, {WARNING, DRIFT})} | "
            f"{rate(quiet_stat, {DRIFT})} | {rate(quiet_stat, {DRIFT, WARNING})} | "
            f"{rate(quiet, {DRIFT, WARNING})} |"
        )
    print("\n## Summary\n")
    print("| n | seeds | drift promise -> drift | warning promise -> warning | "
          "warning promise -> warning or drift | unchanged -> drift | "
          "unchanged -> warning or drift | unchanged + immaterial -> warning or drift |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(summary))


if __name__ == "__main__":
    main()

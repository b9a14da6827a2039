"""Error-stream detectors: lifecycle.detectors vs river on the same seeded stream.

Stream: 0/1 errors, error rate 0.1 for the first 100,000 updates, 0.2 for the next 100,000.
For each detector: detection delay (updates after the change until the first detection after
it), false alarms before the change, and µs per update, for river's implementation (per
update), ours per update, and our vectorised batch path ``run(array)``. Both libraries run in
the same process, in alternation, so machine noise hits both alike.

Then the same over ``--seeds`` streams (mean/median delay, total false alarms), because one
stream says little about a false-alarm rate.

``--stationary-seeds N``: false alarms of ADWIN, ours and river's with the same (default)
parameters, on N stationary streams of 200,000 updates at each of 5, 15 and 30 % error
(stream seed ``seed * 7 + rate in %``), with the detection indices where they differ.

``--ph-calibration N``: Page–Hinkley false alarms on N stationary streams of 200,000 updates
at 5, 10, 15 and 30 % error (seed ``1000 + i``), at the defaults unscaled and scaled by
sigma / 0.3 as the performance job does, for the current and the previous defaults; and the
mean delay on N streams 0.1 -> 0.2 at 100,000 (seed ``5000 + i``).

Run:  .venv/bin/python benchmarks/detectors.py [--seed 0] [--seeds 20]
      [--stationary-seeds 100] [--ph-calibration 100]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from river import drift

from lifecycle.detectors import ADWIN, DDM, PageHinkley

N, CHANGE = 200_000, 100_000


def stream(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.random(CHANGE) < 0.1, rng.random(N - CHANGE) < 0.2]).astype(
        np.int64)


def score(detections: list[int] | np.ndarray) -> tuple[int | None, int]:
    d = np.asarray(detections, dtype=np.int64)
    after = d[d >= CHANGE]
    return (int(after[0] - CHANGE) if after.size else None), int((d < CHANGE).sum())


def per_update(make: Callable[[], Any], xs: list[int]) -> tuple[list[int], float]:
    det = make()
    found = []
    t = time.perf_counter()
    for i, x in enumerate(xs):
        det.update(x)
        if det.drift_detected:
            found.append(i)
    return found, (time.perf_counter() - t) / len(xs) * 1e6


def batch(make: Callable[[], Any], arr: np.ndarray) -> tuple[np.ndarray, float]:
    det = make()
    t = time.perf_counter()
    found = det.run(arr)
    return found, (time.perf_counter() - t) / arr.size * 1e6


RIVER = {
    "page_hinkley": drift.PageHinkley,
    "ddm": drift.binary.DDM,
    "adwin": drift.ADWIN,
}
OURS = {"page_hinkley": PageHinkley, "ddm": DDM, "adwin": ADWIN}
#: our classes with river's default parameters (to show the algorithms agree)
OURS_RIVER_PARAMS = {
    "page_hinkley": lambda: PageHinkley(delta=0.005, threshold=50, alpha=0.9999, mode="both"),
    "ddm": lambda: DDM(warm_start=30, drift_threshold=3.0),
    "adwin": lambda: ADWIN(delta=0.002, clock=32, max_buckets=5, min_window_length=5,
                           grace_period=10),
}


def fmt(delay: int | None) -> str:
    return "missed" if delay is None else f"{delay:,}"


def stationary_adwin(seeds: int) -> None:
    """ADWIN false alarms, river's and ours with the same parameters, on stationary streams."""
    print(f"ADWIN on stationary streams: {seeds} seeds x {N:,} updates per error rate, "
          "river's defaults for both")
    print(f"{'error rate':>10s} {'river':>6s} {'lifecycle':>9s} {'streams that differ':>20s}")
    total_r = total_o = 0
    for rate in (0.05, 0.15, 0.30):
        fa_r = fa_o = differ = 0
        for seed in range(seeds):
            x = np.random.default_rng(seed * 7 + round(rate * 100)).random(N) < rate
            theirs = per_update(drift.ADWIN, x.astype(np.int64).tolist())[0]
            ours = ADWIN().run(x.astype(np.float64)).tolist()
            fa_r, fa_o = fa_r + len(theirs), fa_o + len(ours)
            if theirs != ours:
                differ += 1
                print(f"  seed {seed} rate {rate}: river {theirs} lifecycle {ours}")
        print(f"{rate:>10.2f} {fa_r:>6d} {fa_o:>9d} {differ:>20d}")
        total_r, total_o = total_r + fa_r, total_o + fa_o
    print(f"{'total':>10s} {total_r:>6d} {total_o:>9d}")


PH_CANDIDATES = {"current defaults": (0.015, 40.0), "previous code": (0.015, 30.0),
                 "previously documented": (0.01, 40.0)}


def ph_calibration(seeds: int) -> None:
    """Page–Hinkley false alarms on stationary Bernoulli streams, unscaled and job-scaled."""
    assert PageHinkley().delta == 0.015 and PageHinkley().threshold == 40.0
    rates = (0.05, 0.10, 0.15, 0.30)
    print(f"Page-Hinkley false alarms, {seeds} stationary streams x {N:,} updates per rate; "
          "scaled = delta and threshold x sigma/0.3 (the performance job)")
    print(f"{'defaults':32s} " + " ".join(f"{r:>5.0%}" for r in rates) + " "
          + " ".join(f"{r:>5.0%}s" for r in rates) + f" {'delay':>6s}")
    for label, (d, t) in PH_CANDIDATES.items():
        raw, scaled = [], []
        for rate in rates:
            k = float(np.sqrt(rate * (1 - rate))) / 0.3
            fa_raw = fa_scaled = 0
            for seed in range(seeds):
                x = (np.random.default_rng(1000 + seed).random(N) < rate).astype(np.float64)
                fa_raw += PageHinkley(delta=d, threshold=t).run(x).size
                fa_scaled += PageHinkley(delta=d * k, threshold=t * k).run(x).size
            raw.append(fa_raw)
            scaled.append(fa_scaled)
        delays = []
        for seed in range(seeds):
            rng = np.random.default_rng(5000 + seed)
            x = np.concatenate([rng.random(CHANGE) < 0.1, rng.random(N - CHANGE) < 0.2])
            delay, _ = score(PageHinkley(delta=d, threshold=t).run(x.astype(np.float64)))
            delays.append(N - CHANGE if delay is None else delay)
        print(f"{label + f' ({d}, {t:g})':32s} " + " ".join(f"{v:>5d}" for v in raw) + " "
              + " ".join(f"{v:>6d}" for v in scaled) + f" {np.mean(delays):>6.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--stationary-seeds", type=int, default=0)
    parser.add_argument("--ph-calibration", type=int, default=0)
    args = parser.parse_args()
    if args.stationary_seeds:
        stationary_adwin(args.stationary_seeds)
    if args.ph_calibration:
        ph_calibration(args.ph_calibration)
    if args.stationary_seeds or args.ph_calibration:
        return

    arr = stream(args.seed)
    xs = arr.tolist()
    farr = arr.astype(np.float64)
    print(f"stream seed {args.seed}: {N:,} updates, error rate 0.1 -> 0.2 at {CHANGE:,}")
    header = (f"{'detector':13s} {'implementation':34s} {'delay':>7s} {'false alarms':>12s} "
              f"{'us/update':>10s} {'vs river':>9s}")
    print(header)
    print("-" * len(header))
    for name in OURS:
        river_found, river_us = per_update(RIVER[name], xs)
        rows = [(f"river {RIVER[name].__name__} (defaults)",
                 score(river_found), river_us)]
        found, us = per_update(OURS[name], xs)
        rows.append(("lifecycle, update() (defaults)", score(found), us))
        found_b, us_b = batch(OURS[name], farr)
        assert found_b.tolist() == found, "batch and per-update paths disagree"
        rows.append(("lifecycle, run(array) (defaults)", score(found_b), us_b))
        found_r, us_r = batch(OURS_RIVER_PARAMS[name], farr)
        rows.append(("lifecycle, run(array) (river params)", score(found_r), us_r))
        for label, (delay, fa), t in rows:
            print(f"{name:13s} {label:34s} {fmt(delay):>7s} {fa:>12d} {t:>10.3f} "
                  f"{t / river_us:>8.2f}x")

    print()
    print(f"over {args.seeds} seeded streams (seeds 0..{args.seeds - 1}); a miss counts as "
          f"{N - CHANGE:,}")
    print(f"{'detector':13s} {'implementation':34s} {'mean delay':>10s} {'median':>7s} "
          f"{'false alarms':>12s} {'streams w/ FA':>13s}")
    results: dict[tuple[str, str], list[tuple[int | None, int]]] = {}
    for seed in range(args.seeds):
        s = stream(seed)
        sl, sf = s.tolist(), s.astype(np.float64)
        for name in OURS:
            results.setdefault((name, "river (defaults)"), []).append(
                score(per_update(RIVER[name], sl)[0]))
            results.setdefault((name, "lifecycle (defaults)"), []).append(
                score(batch(OURS[name], sf)[0]))
            results.setdefault((name, "lifecycle (river params)"), []).append(
                score(batch(OURS_RIVER_PARAMS[name], sf)[0]))
    for (name, label), vals in results.items():
        delays = [N - CHANGE if d is None else d for d, _ in vals]
        fas = [fa for _, fa in vals]
        print(f"{name:13s} {label:34s} {np.mean(delays):>10,.0f} {np.median(delays):>7,.0f} "
              f"{sum(fas):>12d} {sum(1 for f in fas if f):>13d}")


if __name__ == "__main__":
    main()

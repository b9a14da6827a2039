"""Speed of a drift check from summarised windows (the rollup path) beside the exact path.

20 numeric features; the reference is 1,000,000 rows per feature (sketched profile, 10,000
points); the current window's summaries are 2,049-point grids (``NumericSummary.from_values``
of 1,000,000 rows: the same shape as a merged KLL sketch). Prints the time of
``check_summaries`` (median of 5) beside ``check_profile`` on the 1,000,000-row samples of the
same data (median of 3), and the ratio. Merging the hours' sketches from the database is not
timed here (the rollup engineer's benchmark).

Run: ``PYTHONPATH=. python benchmarks/drift_summaries.py``
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from lifecycle.drift import (
    NumericSample,
    NumericSummary,
    ReferenceProfile,
    build_numeric_profile,
    check_profile,
    check_summaries,
)

N_FEATURES, N_ROWS = 20, 1_000_000


def _timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(20)
    feats = {f"f{i}": build_numeric_profile(rng.normal(size=N_ROWS)) for i in range(N_FEATURES)}
    profile = ReferenceProfile(feats, N_ROWS)
    current = {name: rng.normal(0.1 * (i % 3), 1.0, N_ROWS) for i, name in enumerate(feats)}
    summaries = {k: NumericSummary.from_values(v) for k, v in current.items()}
    grid = int(np.median([s.points.size for s in summaries.values()]))
    check_summaries(profile, summaries)  # warm up (imports, scipy)
    t_sum = _timed(lambda: check_summaries(profile, summaries), 5)
    t_exact = _timed(lambda: check_profile(
        profile, {k: (lambda v=v: NumericSample.from_values(v)) for k, v in current.items()}), 3)
    print(f"features={N_FEATURES} grid={grid} reference_points={feats['f0'].values.size}")
    print(f"check_summaries (rollup path): {t_sum * 1000:.1f} ms")
    print(f"check_profile on {N_ROWS:,}-row samples (exact path, incl. sorting): "
          f"{t_exact * 1000:.1f} ms")
    print(f"ratio exact / rollup: {t_exact / t_sum:.1f}x")


if __name__ == "__main__":
    main()

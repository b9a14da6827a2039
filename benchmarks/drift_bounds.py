"""Size of the error bounds a summarised current window carries (docs/drift.md, "Drift from
rollups", "What this costs in sensitivity").

Reference: 1,000,000 standard normals per feature (sketched profile, default points). Current
window: 1,000,000 rows with a mean shift of 0.25 SD (``mean``) and a spread x1.25
(``spread``), summarised two ways: ``NumericSummary.from_values`` (2,049-point grid) and a real
KLL sketch of ``k = 800`` read at 2,049 quantiles (the rollup's sketch). Prints, per seed,
summary and feature, the verdict, the summary's ``rank_error`` and the ``error_bound`` of KS,
Wasserstein and spread; and the reference's own bounds.

Run: ``PYTHONPATH=. python benchmarks/drift_bounds.py``
"""

from __future__ import annotations

import datasketches
import numpy as np

from lifecycle.drift import NumericSummary, ReferenceProfile, build_numeric_profile, check_summaries

N_ROWS, GRID, K = 1_000_000, 2049, 800


def kll_summary(x: np.ndarray, k: int = K, grid: int = GRID) -> NumericSummary:
    """A summary from a real KLL sketch (as tests/unit/drift/test_summary_drift.py builds it)."""
    sk = datasketches.kll_doubles_sketch(k)
    sk.update(x)
    points = np.unique(np.asarray(sk.get_quantiles(np.linspace(0.0, 1.0, grid))))
    cdf = np.asarray(sk.get_cdf(points))[:-1]
    step = float(np.max(np.diff(cdf))) if cdf.size > 1 else 0.0
    return NumericSummary(points, cdf, int(x.size), 0, 0, float(x.min()), float(x.max()),
                          min(1.0, sk.normalized_rank_error(False) + step),
                          total=float(x.sum()), total_sq=float(x @ x))


def main() -> None:
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        ref = {"mean": rng.normal(size=N_ROWS), "spread": rng.normal(size=N_ROWS)}
        cur = {"mean": rng.normal(0.25, 1.0, N_ROWS), "spread": rng.normal(0.0, 1.25, N_ROWS)}
        prof = ReferenceProfile({c: build_numeric_profile(v) for c, v in ref.items()}, N_ROWS)
        for c, p in prof.features.items():
            print(f"seed {seed} reference {c}: ks_error_bound {p.ks_error_bound:.2g}, "  # type: ignore[union-attr]
                  f"wasserstein_error_bound {p.wasserstein_error_bound:.2g}")  # type: ignore[union-attr]
        for label, make in ((f"from_values {GRID}", NumericSummary.from_values),
                            (f"KLL k={K}", kll_summary)):
            report = check_summaries(prof, {c: make(v) for c, v in cur.items()})
            for f in report.features:
                bounds = ", ".join(f"{s.name} {s.error_bound:.4f}" for s in f.statistics
                                   if s.name in ("ks", "wasserstein", "spread"))
                print(f"seed {seed} {label:<17} {f.feature:<6} {f.verdict:<8} "
                      f"rank_error {report.rank_error:.5f}  bounds: {bounds}")


if __name__ == "__main__":
    main()

"""Drift of a 100,000,000-row window from hourly rollups: time, peak memory, and agreement
with the exact path.

Data (seeded): a reference of ``--reference-rows`` rows (default 1,000,000) x 20 numeric
features, all standard normal; a current window of ``--hours`` hours (default 100) x
``--rows`` rows per hour (default 1,000,000) with known shifts:

* ``f00``, ``f01``: mean + 0.25 reference SD (the owner's "drift" promise);
* ``f02``: spread x 1.25;
* ``f03``: mean + 0.5 SD;
* ``f04`` ... ``f19``: unchanged.

Steps:

1. the reference is stored with ``set_reference`` (the product's own path);
2. each hour's data profile is built with the rollup's own accumulators
   (``rollup.sketches.NumericAccumulator``: KLL k = 800, exact counts, exact bins against the
   reference) and stored with ``profile_repo.upsert_profiles``, with its ``traffic_hourly``
   row, exactly what the rollup job stores (the 100 M rows themselves are never written: at
   ~150 bytes a row they would be ~15 GB of blobs; the rollup throughput from stored blobs is
   ``benchmarks/rollup.py``'s subject);
3. **timed, in a fresh subprocess** (its peak RSS, ``VmHWM``, is the check's own, imports
   included):
   ``run_drift_check_all`` over the whole window, which picks the rollup path
   (``path = "auto"``, 100 M rows > ``rollup_min_rows``), merges the 100 hours, runs every
   statistic and the decision, and stores the report;
4. **agreement at 1,000,000 rows**: the first hour's data checked exactly
   (``check_drift`` on the DataFrame) and from that hour's rollup (``check_summaries``):
   same flagged features? every KS within its stated bound of the exact KS?

Usage::

    .venv/bin/python benchmarks/scale_drift.py                      # 100 h x 1 M rows
    .venv/bin/python benchmarks/scale_drift.py --hours 10 --rows 100000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_FEATURES = 20
T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
NAMES = [f"f{i:02d}" for i in range(N_FEATURES)]
SHIFTED = {"f00", "f01", "f02", "f03"}


def hour_values(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    out = {}
    for name in NAMES:
        x = rng.standard_normal(n)
        if name in ("f00", "f01"):
            x += 0.25
        elif name == "f02":
            x *= 1.25
        elif name == "f03":
            x += 0.5
        out[name] = x
    return out


def settings_for(home: Path, url: str):  # noqa: ANN201
    from lifecycle.config import load_settings

    toml = home / "lifecycle.toml"
    toml.write_text(f'database_url = "{url}"\n[models.scale]\ntask = "regression"\n'
                    "[models.scale.drift]\nprediction_drift = false\n")
    return load_settings(toml, env={}, cwd=home)


def build(home: Path, url: str, hours: int, rows: int, reference_rows: int) -> None:
    import pandas as pd
    from sqlalchemy.orm import Session

    from lifecycle.reference import set_reference
    from lifecycle.rollup.hourly import FORMAT, pack_sketches
    from lifecycle.rollup.sketches import NumericAccumulator
    from lifecycle.storage.drift_repo import load_active_profiles
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import upgrade
    from lifecycle.storage.models_repo import get_model
    from lifecycle.storage.profile_repo import ProfileRow, upsert_profiles
    from lifecycle.storage.tables import TrafficHourly

    upgrade(url)
    settings = settings_for(home, url)
    engine = make_engine(url)
    rng = np.random.default_rng(2026)
    ref = pd.DataFrame({n: rng.standard_normal(reference_rows) for n in NAMES})
    set_reference(engine, settings.model("scale"), ref, kinds=("data",), now=T0)
    del ref
    with Session(engine) as session:
        model_id = get_model(session, "scale").id
        profile = load_active_profiles(session, model_id)["data"][1]
    digest = profile.digest()
    started = time.perf_counter()
    for h in range(hours):
        values = hour_values(rng, rows)
        features, sketches = {}, {}
        for name in NAMES:
            p = profile.features[name]
            acc = NumericAccumulator(bin_edges=p.bin_edges, ref_min=p.minimum,
                                     ref_max=p.maximum)
            acc.add(values[name])
            features[name], sketches[name] = acc.to_record()
        start = T0 + h * HOUR
        row = ProfileRow(start, "data", rows, digest, FORMAT,
                         {"format": FORMAT, "n_rows": rows, "reference_digest": digest,
                          "features": features}, pack_sketches(sketches))
        with Session(engine) as session, session.begin():
            upsert_profiles(session, model_id, [row])
            session.add(TrafficHourly(model_id=model_id, bucket_start=start, role="champion",
                                      model_version="", n_predictions=rows))
        if h == 0:
            np.savez(home / "hour0.npz", **values)
        if (h + 1) % 10 == 0:
            print(f"  built {h + 1}/{hours} hours ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    engine.dispose()


def peak_rss_mb() -> float:
    """This process's peak resident set (``VmHWM``). Not ``ru_maxrss``: Linux carries the
    parent's peak across fork + exec into it, so a child of a big parent reports the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_check(home: Path, url: str, hours: int) -> None:
    """Run in a fresh process: the whole drift job over the window, from the rollups."""
    t0 = time.perf_counter()
    from lifecycle.jobs.drift import run_drift_check_all
    from lifecycle.storage.engine import make_engine

    settings = settings_for(home, url)
    engine = make_engine(url)
    rss_imports = peak_rss_mb()
    t1 = time.perf_counter()
    result = run_drift_check_all(engine, settings, "scale", T0, T0 + hours * HOUR)
    t2 = time.perf_counter()
    report = result.reports["data"]
    flagged = sorted(f.feature for f in report.features if f.verdict in ("drift", "warning"))
    print(json.dumps({
        "import_s": t1 - t0, "check_s": t2 - t1,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": rss_imports, "n_current": report.features[0].n_current,
        "path": report.path, "rank_error": report.rank_error, "flagged": flagged,
        "verdict": report.verdict,
    }))


def agreement(home: Path, url: str) -> None:
    import pandas as pd
    from sqlalchemy.orm import Session

    from lifecycle.drift.engine import check_summaries
    from lifecycle.drift_check import check_drift
    from lifecycle.rollup.sketches import NumericAccumulator
    from lifecycle.rollup.window import numeric_summary
    from lifecycle.storage.drift_repo import load_active_profiles
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.models_repo import get_model

    settings = settings_for(home, url)
    engine = make_engine(url)
    with Session(engine) as session:
        profile = load_active_profiles(session, get_model(session, "scale").id)["data"][1]
    policy = settings.model("scale").drift.to_policy()
    with np.load(home / "hour0.npz") as npz:
        values = {k: npz[k] for k in npz.files}
    exact = check_drift(profile, pd.DataFrame(values), policy=policy)
    summaries = {}
    for name in NAMES:
        p = profile.features[name]
        acc = NumericAccumulator(bin_edges=p.bin_edges, ref_min=p.minimum, ref_max=p.maximum)
        acc.add(values[name])
        doc, _ = acc.to_record()
        summaries[name] = numeric_summary(acc.sketch, {**doc, "reference_digest":
                                                       profile.digest()})
    sketched = check_summaries(profile, summaries, policy)
    ks_exact = {f.feature: f.stat("ks") for f in exact.features}
    worst = 0.0
    for f in sketched.features:
        s, e = f.stat("ks"), ks_exact[f.feature]
        worst = max(worst, abs(s.statistic - e.statistic) / max(s.error_bound, 1e-12))
    print(f"agreement at {len(values['f00']):,} rows: exact flags "
          f"{sorted(f.feature for f in exact.features if f.verdict in ('drift', 'warning'))}"
          f", rollup flags "
          f"{sorted(f.feature for f in sketched.features if f.verdict in ('drift', 'warning'))}")
    print("  verdicts exact / rollup: " + ", ".join(
        f"{f.feature} {f.verdict}/{g.verdict}" for f, g in
        zip(exact.features, sketched.features, strict=True) if f.feature in SHIFTED))
    print(f"  largest |KS_rollup - KS_exact| / stated bound: {worst:.3f} (<= 1 required)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=int, default=100)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reference-rows", type=int, default=1_000_000)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--child", nargs=2, metavar=("HOME", "URL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        timed_check(Path(args.child[0]), args.child[1], args.hours)
        return
    with tempfile.TemporaryDirectory(prefix="lc-scale-") as tmp:
        home = Path(tmp)
        if args.db == "sqlite":
            url = f"sqlite:///{home / 'scale.db'}"
        else:
            from tests.conftest import create_pg_database

            url, drop = create_pg_database("lc_bench_scale")
        print(f"building {args.hours} hours x {args.rows:,} rows x {N_FEATURES} features "
              f"({args.hours * args.rows:,} rows) on {args.db}", flush=True)
        t = time.perf_counter()
        build(home, url, args.hours, args.rows, args.reference_rows)
        print(f"built in {time.perf_counter() - t:.0f} s "
              f"({args.hours * args.rows / (time.perf_counter() - t):,.0f} rows/s of "
              "generation + rollup)", flush=True)
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, __file__, "--hours", str(args.hours), "--child", str(home),
                 url], capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        best = min(runs, key=lambda r: r["check_s"])
        times = ", ".join(f"{r['check_s']:.2f}" for r in runs)
        print(f"drift check of {best['n_current']:,} rows from rollups "
              f"(path {best['path']}, rank error {best['rank_error']:.4f}): "
              f"{best['check_s']:.2f} s (runs: "
              f"{times}; imports "
              f"{best['import_s']:.2f} s), peak RSS {best['peak_rss_mb']:.0f} MB "
              f"({best['rss_after_imports_mb']:.0f} MB after imports); verdict "
              f"{best['verdict']}, flagged {best['flagged']}")
        print(f"  targets: <= 2 s, <= 500 MB; shifted features {sorted(SHIFTED)}")
        agreement(home, url)
        if args.db == "postgresql":
            drop()


if __name__ == "__main__":
    main()

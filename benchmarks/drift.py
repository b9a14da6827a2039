"""Drift engine benchmark: time and peak memory of a full drift report, side by side with a
naive per-feature numpy/scipy loop measured in the same run, at 10k / 100k / 1M rows.

Data: reference and current frames of N rows x 20 features - 15 numeric (5 shifted by half a
standard deviation, 10 unshifted; 1% NaN), 5 categorical with 10 levels (strings, pandas
``str`` dtype; 1% missing; the current window adds a new level on 2% of rows). Every
statistic is computed for every feature (PSI, KS, Wasserstein, Jensen-Shannon, missing share,
out-of-range share; categorical: PSI, chi-square, Jensen-Shannon, the two shares).

Scenarios, each in its own subprocess so its peak RSS is its own (the RSS includes the two
data frames themselves):

* ``profile`` - ``check_drift(stored_profile, current)``: the reference profile is built
  beforehand (time reported separately) and round-tripped through its serialised form, as
  the database stores it; the timed part is what a scheduled check does.
* ``raw`` - ``check_drift(reference_df, current_df)``: profiles built on the fly (exact CDFs).
* ``naive`` - the baseline: per feature, ``scipy.stats.ks_2samp``,
  ``scipy.stats.wasserstein_distance``, ``np.histogram`` PSI on quantile bins,
  ``scipy.spatial.distance.jensenshannon``, ``chi2_contingency`` on ``value_counts``.
* ``db`` (``--db``) - 1,000,000 logged rows x 20 features bulk-inserted as prediction
  batches (10,000 rows each) into SQLite and PostgreSQL, then ``load_window`` timed, then the
  whole ``run_drift_check`` job (load + check + write).

Evidently and NannyML are not installed in this environment; they are not run here (the
issue quotes Evidently 0.7 at 88 s / 1.9 GB and NannyML 0.13 at 26 s / 1.3 GB on the same
shape of data on this machine). To compare, install Evidently in its own virtual environment
(``python -m venv /tmp/ev && /tmp/ev/bin/pip install 'evidently==0.7.*' 'pandas<3'``) and
time its ``DataDriftPreset`` on the parquet files written by ``--dump DIR``.

Usage::

    .venv/bin/python benchmarks/drift.py                  # 10k, 100k, 1M; all scenarios
    .venv/bin/python benchmarks/drift.py --sizes 1000000 --repeat 3
    .venv/bin/python benchmarks/drift.py --db sqlite,postgresql
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
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
N_NUM, N_SHIFTED, N_CAT = 15, 5, 5


def make_frames(n: int) -> tuple[Any, Any]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    levels = pa.array([f"level_{k}" for k in range(10)] + ["brand_new"])

    def one(seed: int, current: bool) -> Any:
        rng = np.random.default_rng(seed)
        cols: dict[str, Any] = {}
        for i in range(N_NUM):
            x = rng.normal(0.5 if current and i < N_SHIFTED else 0.0, 1.0, n)
            x[rng.random(n) < 0.01] = np.nan
            cols[f"num_{i:02d}"] = x
        for i in range(N_CAT):
            codes = rng.integers(0, 10, n).astype(np.int32)
            if current:
                codes[rng.random(n) < 0.02] = 10
            values = pc.take(levels, pa.array(codes, mask=rng.random(n) < 0.01))
            cols[f"cat_{i}"] = pd.array(values, dtype="str")
        return pd.DataFrame(cols)

    return one(1, False), one(2, True)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def naive_report(ref: Any, cur: Any) -> dict[str, Any]:
    """What a user writes with numpy/scipy: one loop over features, every statistic."""
    import pandas as pd
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    out: dict[str, Any] = {}
    for col in ref.columns:
        r_s, c_s = ref[col], cur[col]
        miss = (float(r_s.isna().mean()), float(c_s.isna().mean()))
        if pd.api.types.is_numeric_dtype(r_s.dtype):
            r = r_s.dropna().to_numpy()
            c = c_s.dropna().to_numpy()
            edges = np.quantile(r, np.linspace(0, 1, 11))
            edges[0], edges[-1] = -np.inf, np.inf
            rp = np.histogram(r, edges)[0] / r.size
            cp = np.histogram(c, edges)[0] / c.size
            rp, cp = np.where(rp == 0, 1e-4, rp), np.where(cp == 0, 1e-4, cp)
            ks = stats.ks_2samp(r, c)
            out[col] = {
                "psi": float(np.sum((cp - rp) * np.log(cp / rp))),
                "js": float(jensenshannon(rp, cp, base=2)),
                "ks": float(ks.statistic), "ks_p": float(ks.pvalue),
                "wasserstein": float(stats.wasserstein_distance(r, c) / r.std()),
                "oor": float(np.mean((c < r.min()) | (c > r.max()))), "missing": miss,
            }
        else:
            rv = r_s.value_counts()
            cv = c_s.value_counts()
            cats = rv.index.union(cv.index)
            rc = rv.reindex(cats, fill_value=0).to_numpy()
            cc = cv.reindex(cats, fill_value=0).to_numpy()
            chi = stats.chi2_contingency(np.vstack([rc, cc]))
            rp, cp = rc / rc.sum(), cc / cc.sum()
            rps, cps = np.where(rp == 0, 1e-4, rp), np.where(cp == 0, 1e-4, cp)
            out[col] = {
                "psi": float(np.sum((cps - rps) * np.log(cps / rps))),
                "js": float(jensenshannon(rp, cp, base=2)),
                "chi2": float(chi.statistic), "chi2_p": float(chi.pvalue), "missing": miss,
            }
    return out


def worker(mode: str, n: int, repeat: int, ks_method: str) -> dict[str, Any]:
    import lifecycle
    from lifecycle.drift import DriftPolicy, ReferenceProfile
    from lifecycle.drift_check import build_profile

    policy = DriftPolicy(ks_method=ks_method)

    ref, cur = make_frames(n)
    rss_data = _rss_mb()
    result: dict[str, Any] = {"mode": mode, "n": n, "rss_after_data_mb": round(rss_data, 1)}
    walls, cpus = [], []
    if mode == "profile":
        t = time.perf_counter()
        prof = build_profile(ref)
        result["profile_build_s"] = round(time.perf_counter() - t, 3)
        doc, blob = prof.to_payload()
        result["profile_bytes"] = len(json.dumps(doc)) + len(blob)
        prof = ReferenceProfile.from_payload(json.loads(json.dumps(doc)), blob)
        del ref

        def run() -> Any:
            return lifecycle.check_drift(prof, cur, policy=policy)
    elif mode == "raw":
        def run() -> Any:
            return lifecycle.check_drift(ref, cur, policy=policy)
    else:
        def run() -> Any:
            return naive_report(ref, cur)
    report = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        report = run()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    result.update(wall_s=round(min(walls), 3), wall_all=[round(w, 3) for w in walls],
                  cpu_s=round(min(cpus), 3), peak_rss_mb=round(_rss_mb(), 1))
    if mode != "naive":
        result.update(verdict=report.verdict, drifted=list(report.drifted_features))
    return result


def db_worker(backend: str, n: int) -> dict[str, Any]:
    """Bulk-insert ``n`` logged rows, then time load_window and the full drift job."""
    import uuid
    from datetime import UTC, datetime, timedelta

    import pandas as pd
    from sqlalchemy import create_engine, insert, text
    from sqlalchemy.orm import Session

    from lifecycle.config import load_settings
    from lifecycle.drift_check import build_profile
    from lifecycle.jobs.drift import run_drift_check
    from lifecycle.storage.codec import encode_frame
    from lifecycle.storage.drift_repo import save_profile
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import upgrade
    from lifecycle.storage.models_repo import get_or_create_model
    from lifecycle.storage.tables import PredictionBatch
    from lifecycle.storage.window import load_window

    tmp = tempfile.mkdtemp(prefix="lc_bench_")
    drop = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp}/bench.db"
    else:
        admin = os.environ.get("LIFECYCLE_TEST_POSTGRES_URL",
                               "postgresql://postgres@127.0.0.1:5432/test")
        name = f"lc_bench_{uuid.uuid4().hex[:10]}"
        admin_engine = create_engine(admin.replace("postgresql://", "postgresql+psycopg://"),
                                     isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.rsplit("/", 1)[0] + f"/{name}"

        def drop() -> None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()
    try:
        upgrade(url)
        engine = make_engine(url)
        ref, cur = make_frames(n)
        t0 = datetime(2026, 3, 1, tzinfo=UTC)
        batch = 10_000
        t = time.perf_counter()
        with Session(engine) as session, session.begin():
            mid = get_or_create_model(session, "bench", "regression").id
            save_profile(session, mid, build_profile(ref), source="bench")
        del ref
        encode_s = 0.0
        for start in range(0, n, batch):
            part = cur.iloc[start:start + batch].reset_index(drop=True)
            k = len(part)
            ts = pd.Series(pd.to_datetime(
                [t0 + timedelta(seconds=(start + i) * 0.01) for i in range(k)], utc=True))
            out = pd.DataFrame({
                "prediction": np.zeros(k), "_prediction_id": [uuid.uuid4().hex for _ in range(k)],
                "_join_key": [f"{start + i}" for i in range(k)], "_ts": ts,
                "_role": "champion", "_model_version": "1", "_latency_ms": 1.0,
            })
            e0 = time.perf_counter()
            blobs = encode_frame(part), encode_frame(out)
            encode_s += time.perf_counter() - e0
            with Session(engine) as session, session.begin():
                session.execute(insert(PredictionBatch), [{
                    "id": uuid.uuid4().hex, "model_id": mid, "ts_min": ts.iloc[0].to_pydatetime(),
                    "ts_max": ts.iloc[-1].to_pydatetime(), "n_rows": k,
                    "inputs": blobs[0], "outputs": blobs[1],
                }])
        insert_s = time.perf_counter() - t - encode_s
        del cur
        end = t0 + timedelta(days=1)
        loads = []
        for _ in range(2):
            t = time.perf_counter()
            window = load_window(engine, "bench", t0, end)
            loads.append(time.perf_counter() - t)
        rows = len(window)
        del window
        settings = load_settings(env={"LIFECYCLE_DATABASE_URL": url, "LIFECYCLE_HOME": tmp},
                                 cwd=Path(tmp))
        t = time.perf_counter()
        report = run_drift_check(engine, settings, "bench", t0, end)
        job_s = time.perf_counter() - t
        engine.dispose()
        return {"mode": f"db-{backend}", "n": rows, "insert_s": round(insert_s, 2),
                "encode_s": round(encode_s, 2), "load_window_s": round(min(loads), 3),
                "job_s": round(job_s, 3), "verdict": report.verdict,
                "peak_rss_mb": round(_rss_mb(), 1)}
    finally:
        if drop is not None:
            drop()


def _spawn(args: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ks-method", default="auto", choices=("auto", "exact", "asymp"),
                        help="KS p-value method for lifecycle (scipy's meaning)")
    parser.add_argument("--db", default="", help="comma list: sqlite,postgresql")
    parser.add_argument("--db-rows", type=int, default=1_000_000)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker.startswith("db-"):
            print(json.dumps(db_worker(args.worker[3:], args.n)))
        else:
            print(json.dumps(worker(args.worker, args.n, args.repeat, args.ks_method)))
        return

    print(f"# drift benchmark  ks_method={args.ks_method}  cpus={os.cpu_count()}  load avg="
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = []
    sizes = [int(s) for s in args.sizes.split(",") if s]
    header = (f"{'rows':>9} {'scenario':>8} {'wall s':>8} {'cpu s':>7} {'peak RSS MB':>12} "
              f"{'RSS data MB':>12} {'naive/ours':>10}  verdict")
    print(header)
    for n in sizes:
        row = {m: _spawn(["--worker", m, "--n", str(n), "--repeat", str(args.repeat),
                          "--ks-method", args.ks_method])
               for m in ("profile", "raw", "naive")}
        results.extend(row.values())
        base = row["naive"]["wall_s"]
        for m in ("profile", "raw", "naive"):
            r = row[m]
            ratio = f"{base / r['wall_s']:.1f}x" if m != "naive" else "1.0x"
            extra = r.get("verdict", "")
            if m == "profile":
                extra += f" (profile build {r['profile_build_s']} s, {r['profile_bytes']} B)"
            print(f"{n:>9} {m:>8} {r['wall_s']:>8.3f} {r['cpu_s']:>7.3f} "
                  f"{r['peak_rss_mb']:>12.1f} {r['rss_after_data_mb']:>12.1f} {ratio:>10}  "
                  f"{extra}", flush=True)
    if len(sizes) > 1:
        for m in ("profile", "raw", "naive"):
            times = {r["n"]: r["wall_s"] for r in results if r["mode"] == m}
            steps = [f"x{times[b] / times[a]:.1f} for x{b // a}" for a, b in
                     zip(sizes[:-1], sizes[1:], strict=True) if times.get(a)]
            print(f"scaling {m:>8}: {', '.join(steps)}")
    for backend in [b for b in args.db.split(",") if b]:
        r = _spawn(["--worker", f"db-{backend}", "--n", str(args.db_rows)])
        results.append(r)
        print(f"db {backend:>10}: {r['n']} rows; bulk insert {r['insert_s']} s (+ encode "
              f"{r['encode_s']} s); load_window {r['load_window_s']} s; full drift job "
              f"(load + check + write) {r['job_s']} s; peak RSS {r['peak_rss_mb']} MB")
    print("json:", json.dumps(results))


if __name__ == "__main__":
    main()

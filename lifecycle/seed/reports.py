"""Synthetic drift and performance reports for :mod:`lifecycle.seed`.

The numbers are computed, not invented: each window draws binned current counts from a
reference distribution that shifts after the drift onset, then PSI, a binned two-sample KS
(asymptotic p-value), chi-square / Cramér's V and Benjamini-Hochberg adjusted p-values are
calculated the way the drift engine defines them. ``details`` uses the field names of
:class:`lifecycle.drift.report.StatResult` (``bin_edges``, ``categories``,
``reference_counts``, ``current_counts``, ``effect``, ``n_reference``, ``n_current``,
``variant``, ``warning_threshold``, ``drift_threshold``...).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from lifecycle.seed.models import SeedModel
from lifecycle.states import DEGRADED, FINE
from lifecycle.states import INSUFFICIENT_LABELS as INSUFFICIENT
from lifecycle.storage.tables import (
    ChangePoint,
    DriftFeatureResult,
    DriftReportRow,
    PerformanceMetric,
    PerformanceReport,
)

N_REFERENCE = 10_000
PSI_WARNING, PSI_DRIFT = 0.1, 0.2
ALPHA = 0.05
EPS = 1e-4
_Z_EDGES = stats.norm.ppf(np.linspace(0.1, 0.9, 9))


def _psi(ref: np.ndarray, cur: np.ndarray) -> float:
    r = np.maximum(ref / max(ref.sum(), 1), EPS)
    c = np.maximum(cur / max(cur.sum(), 1), EPS)
    return float(np.sum((c - r) * np.log(c / r)))


def _bh(p: list[float | None]) -> list[float | None]:
    idx = [i for i, v in enumerate(p) if v is not None]
    if not idx:
        return [None] * len(p)
    vals = np.array([p[i] for i in idx], dtype=float)
    order = np.argsort(vals)
    m = len(vals)
    adj = vals[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1].clip(0, 1)
    out: list[float | None] = [None] * len(p)
    for rank, j in enumerate(order):
        out[idx[j]] = float(adj[rank])
    return out


class ReportSeeder:
    """Writes drift and performance history for one model at a time."""

    def __init__(self, engine: Engine, rng: np.random.Generator, chunk_size: int = 20_000):
        self.engine = engine
        self.rng = rng
        self.chunk_size = chunk_size

    # ------------------------------------------------------------------ distributions

    def _numeric(self, name: str, loc: float, scale: float, shift: float, n: int,
                 missing: float) -> dict[str, Any]:
        rng = self.rng
        ref_p = np.full(10, 0.1) * (1 - 0.01)
        ref_counts = np.append(np.round(ref_p * N_REFERENCE), round(0.01 * N_REFERENCE))
        cdf = stats.norm.cdf(_Z_EDGES - shift)
        cur_p = np.diff(np.concatenate([[0.0], cdf, [1.0]])) * (1 - missing)
        cur_counts = rng.multinomial(n, np.append(cur_p, missing)) if n else np.zeros(11)
        psi = _psi(ref_counts, cur_counts)
        r, c = ref_counts[:-1], cur_counts[:-1]
        d = float(np.max(np.abs(np.cumsum(r) / max(r.sum(), 1) - np.cumsum(c) / max(c.sum(), 1))))
        n_eff = r.sum() * c.sum() / max(r.sum() + c.sum(), 1)
        p = float(stats.kstwobign.sf(d * math.sqrt(n_eff))) if c.sum() else None
        oor = float(stats.norm.sf(3.09 - shift) + stats.norm.cdf(-3.09 - shift))
        return {
            "feature": name, "type": "numeric", "psi": psi, "test": "ks", "test_stat": d,
            "effect": d, "p": p, "missing_ref": 0.01, "missing_cur": missing,
            "oor": oor, "unseen": None, "n_cur": int(c.sum()),
            "details": {
                "name": "psi", "kind": "numeric", "statistic": psi, "effect": psi,
                "bin_edges": [round(loc + scale * z, 4) for z in _Z_EDGES],
                "categories": [], "reference_counts": ref_counts.astype(int).tolist(),
                "current_counts": np.asarray(cur_counts).astype(int).tolist(),
                "n_reference": int(N_REFERENCE), "n_current": int(n),
                "variant": "reference-quantile bins (10) + missing bin",
                "smoothing": f"zero-count bins -> proportion {EPS:g}", "log_base": math.e,
            },
        }

    def _categorical(self, name: str, cats: tuple[str, ...], ref_p: np.ndarray, shift: float,
                     n: int, missing: float) -> dict[str, Any]:
        rng = self.rng
        target = np.roll(ref_p, 1)
        unseen = 0.03 * min(shift, 1.0)
        cur_p = ((1 - min(shift, 1.0) * 0.6) * ref_p + min(shift, 1.0) * 0.6 * target)
        cur_p = np.append(cur_p * (1 - unseen - missing), [unseen, missing])
        ref_full = np.append(ref_p * 0.99, [0.0, 0.01])
        ref_counts = np.round(ref_full * N_REFERENCE)
        cur_counts = rng.multinomial(n, cur_p / cur_p.sum()) if n else np.zeros(len(cur_p))
        psi = _psi(ref_counts, cur_counts)
        table = np.vstack([ref_counts, cur_counts])
        table = table[:, table.sum(axis=0) > 0]
        chi2 = 0.0
        p: float | None = None
        if cur_counts.sum() and table.shape[1] > 1:
            expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
            chi2 = float(((table - expected) ** 2 / expected).sum())
            p = float(stats.chi2.sf(chi2, table.shape[1] - 1))
        v = math.sqrt(chi2 / table.sum()) if table.sum() else 0.0
        return {
            "feature": name, "type": "categorical", "psi": psi, "test": "chi_square",
            "test_stat": chi2, "effect": v, "p": p, "missing_ref": 0.01,
            "missing_cur": missing, "oor": None,
            "unseen": float(cur_counts[-2] / max(cur_counts.sum(), 1)), "n_cur": int(n),
            "details": {
                "name": "psi", "kind": "categorical", "statistic": psi, "effect": psi,
                "bin_edges": [], "categories": [*cats, "__unseen__", "__missing__"],
                "reference_counts": ref_counts.astype(int).tolist(),
                "current_counts": np.asarray(cur_counts).astype(int).tolist(),
                "n_reference": int(N_REFERENCE), "n_current": int(n),
                "variant": "reference categories + unseen + missing buckets",
                "smoothing": f"zero-count buckets -> proportion {EPS:g}", "log_base": math.e,
            },
        }

    # ------------------------------------------------------------------ drift

    def _drift_rows(self, feats: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]], int]:
        p_adj = _bh([f["p"] for f in feats])
        rows: list[dict[str, Any]] = []
        n_drifted = 0
        worst = "no_drift"
        for f, pa in zip(feats, p_adj, strict=True):
            significant = pa is not None and pa < ALPHA
            if f["n_cur"] < 30:
                verdict = "insufficient_data"
            elif f["psi"] >= PSI_DRIFT and significant:
                verdict = "drift"
            elif f["psi"] >= PSI_WARNING and significant:
                verdict = "warning"
            else:
                verdict = "no_drift"
            n_drifted += verdict == "drift"
            rank = ("no_drift", "warning", "insufficient_data", "drift")
            worst = max(worst, verdict, key=rank.index)
            common = {
                "feature": f["feature"], "feature_type": f["type"], "verdict": verdict,
                "missing_share_reference": f["missing_ref"],
                "missing_share_current": f["missing_cur"],
                "out_of_range_share": f["oor"], "unseen_share": f["unseen"],
            }
            details = dict(f["details"], warning_threshold=PSI_WARNING,
                           drift_threshold=PSI_DRIFT, level=verdict, deciding=True,
                           gate=f["test"], p_adjusted=pa)
            rows.append({**common, "statistic_name": "psi", "statistic": f["psi"],
                         "p_value": None, "p_adjusted": pa, "threshold": PSI_DRIFT,
                         "details": details})
            rows.append({**common, "statistic_name": f["test"], "statistic": f["test_stat"],
                         "p_value": f["p"], "p_adjusted": pa, "threshold": ALPHA,
                         "details": {"name": f["test"], "effect": f["effect"],
                                     "n_reference": N_REFERENCE, "n_current": f["n_cur"],
                                     "variant": ("binned two-sample KS, asymptotic p-value"
                                                 if f["test"] == "ks" else
                                                 "chi-square on the 2 x k contingency table;"
                                                 " effect = Cramér's V"),
                                     "level": verdict, "deciding": False}})
        return worst, rows, n_drifted

    def seed_model(self, m: SeedModel, model_id: int, hours: list[datetime], *, every: int,
                   drift_onset: float) -> dict[str, int]:
        rng = self.rng
        n_hours = len(hours)
        locs = {f: float(rng.uniform(5, 500)) for f in m.numeric}
        cat_p = {f: rng.dirichlet(np.full(len(c), 4.0)) for f, c in m.categorical.items()}
        cls_p = rng.dirichlet(np.full(len(m.classes), 6.0))
        reports: list[dict[str, Any]] = []
        features: list[list[dict[str, Any]]] = []
        perf: list[dict[str, Any]] = []
        metrics: list[list[dict[str, Any]]] = []
        now = hours[-1] + timedelta(hours=1)
        onset_h = int(n_hours * drift_onset)
        for h in range(0, n_hours, every):
            w_start, w_end = hours[h], hours[min(h + every, n_hours) - 1] + timedelta(hours=1)
            ramp = float(np.clip((h - onset_h) / max(n_hours * 0.1, 1), 0, 1))
            n = int(rng.poisson(m.rate_per_hour * every))
            kinds: list[tuple[str, list[dict[str, Any]]]] = []
            data = [self._numeric(f, locs[f], locs[f] * 0.2, 0.8 * ramp if f in m.drifting
                                  else 0.0, n, 0.01 + (0.03 * ramp if f in m.drifting else 0))
                    for f in m.numeric]
            data += [self._categorical(f, c, cat_p[f], ramp if f in m.drifting else 0.0, n,
                                       0.01) for f, c in m.categorical.items()]
            kinds.append(("data", data))
            if h % max(every, 24) == 0 or h + every >= n_hours:
                shift = 0.5 * ramp if m.drifting else 0.0
                coverage = 0.9 * min(1.0, (now - w_end).total_seconds() / 3600 / 48)
                n_lab = int(n * max(every, 24) / every * coverage)
                n_pred = int(n * max(every, 24) / every)
                if m.task == "classification":
                    kinds.append(("prediction", [self._categorical(
                        "prediction", m.classes, cls_p, shift, n_pred, 0.0)]))
                    kinds.append(("label", [self._categorical(
                        "label", m.classes, cls_p, shift * 0.5, n_lab, 0.0)]))
                else:
                    kinds.append(("prediction", [self._numeric(
                        "prediction", 100.0, 20.0, shift, n_pred, 0.0)]))
                    kinds.append(("label", [self._numeric(
                        "label", 100.0, 22.0, shift * 0.5, n_lab, 0.0)]))
            for kind, feats in kinds:
                verdict, rows, n_drifted = self._drift_rows(feats)
                assessed = sum(1 for f in feats if f["n_cur"] >= 30)
                reports.append({
                    "model_id": model_id, "reference_id": None, "kind": kind,
                    "window_start": w_start if kind == "data" else w_end - timedelta(
                        hours=max(every, 24)),
                    "window_end": w_end, "created_at": w_end + timedelta(minutes=2),
                    "n_reference": N_REFERENCE, "n_current": max(f["n_cur"] for f in feats),
                    "verdict": verdict, "drift_share": n_drifted / assessed if assessed else None,
                    "n_features": len(feats), "n_drifted": n_drifted,
                    "policy": {"statistics": ["psi", "ks", "chi_square"], "alpha": ALPHA,
                               "psi_warning": PSI_WARNING, "psi_drift": PSI_DRIFT,
                               "correction": "benjamini-hochberg"},
                    "summary": {"drifted": [f["feature"] for f, r in zip(
                        feats, rows[::2], strict=True) if r["verdict"] == "drift"]},
                })
                features.append(rows)
            perf_row, perf_metrics = self._performance(m, model_id, w_start, w_end, n, ramp, now)
            perf.append(perf_row)
            metrics.append(perf_metrics)
        n_feat = self._insert(DriftReportRow, reports, DriftFeatureResult, features)
        n_met = self._insert(PerformanceReport, perf, PerformanceMetric, metrics)
        points = []
        if m.drifting and onset_h < n_hours:
            for det, lag in (("page_hinkley", 6), ("ddm", 11)):
                ts = hours[min(onset_h + lag, n_hours - 1)]
                points.append({"model_id": model_id, "report_id": None, "detector": det,
                               "ts": ts, "stream_index": int((onset_h + lag) * m.rate_per_hour),
                               "created_at": ts, "details": {"statistic": "error rate"}})
        if points:
            with Session(self.engine) as session, session.begin():
                session.execute(insert(ChangePoint), points)
        return {"drift_reports": len(reports), "drift_feature_results": n_feat,
                "performance_reports": len(perf), "performance_metrics": n_met,
                "change_points": len(points)}

    # ------------------------------------------------------------------ performance

    def _performance(self, m: SeedModel, model_id: int, w_start: datetime, w_end: datetime,
                     n: int, ramp: float, now: datetime) -> tuple[dict[str, Any],
                                                                  list[dict[str, Any]]]:
        rng = self.rng
        age_h = (now - w_end).total_seconds() / 3600
        coverage = 0.9 * min(1.0, age_h / 48) if n else None
        n_lab = int(round(n * (coverage or 0)))
        decline = ramp if m.drifting else 0.0
        specs: list[tuple[str, float, float, bool]]
        if m.task == "classification":
            specs = [("accuracy", 0.88, -0.08, True), ("roc_auc", 0.91, -0.06, True)]
        else:
            specs = [("mae", 12.0, 4.0, False), ("rmse", 16.0, 6.0, False)]
        rows: list[dict[str, Any]] = []
        worst = FINE
        for metric, ref, delta, higher in specs:
            true = ref + delta * decline
            for kind in ("realised", "estimated"):
                if kind == "estimated":
                    # label-free estimate: sees covariate shift only, so misses part of it
                    value: float | None = ref + delta * decline * 0.4 + rng.normal(0, 0.004)
                    k = max(n, 1)
                elif n_lab >= 30:
                    k = n_lab
                    value = true + rng.normal(0, abs(ref) * 0.01)
                else:
                    value, k = None, 0
                if value is None:
                    lo = hi = None
                    verdict = "insufficient_data"
                else:
                    half = (1.96 * math.sqrt(max(value * (1 - value), 1e-6) / k) if higher
                            else 1.96 * ref * 0.8 / math.sqrt(k))
                    lo, hi = value - half, value + half
                    worse = hi < ref if higher else lo > ref
                    verdict = "degraded" if worse and abs(value - ref) > abs(delta) * 0.4 else "ok"
                    if kind == "realised" and verdict == "degraded":
                        worst = DEGRADED
                rows.append({"metric": metric, "kind": kind, "value": value, "ci_low": lo,
                             "ci_high": hi, "reference_value": ref, "p_value": None,
                             "verdict": verdict,
                             "details": {"n": k, "assumption": "no concept shift"
                                         if kind == "estimated" else None}})
        report = {
            "model_id": model_id, "window_start": w_start, "window_end": w_end,
            "created_at": w_end + timedelta(minutes=3), "task": m.task, "n_predictions": n,
            "n_labelled": n_lab, "label_coverage": coverage,
            "label_delay_median_s": float(rng.normal(6 * 3600, 900)) if n_lab else None,
            "verdict": worst if n_lab >= 30 else INSUFFICIENT,  # the job's own words
            "summary": {"primary_metric": specs[0][0]},
        }
        return report, rows

    # ------------------------------------------------------------------ writing

    def _insert(self, parent: Any, parents: list[dict[str, Any]], child: Any,
                children: list[list[dict[str, Any]]]) -> int:
        total = 0
        step = max(1, self.chunk_size // 10)
        fk = "report_id"
        for i in range(0, len(parents), step):
            with Session(self.engine) as session, session.begin():
                ids = session.scalars(
                    insert(parent).returning(parent.id, sort_by_parameter_order=True),
                    parents[i : i + step],
                ).all()
                rows = [dict(r, **{fk: pid}) for pid, group in
                        zip(ids, children[i : i + step], strict=True) for r in group]
                for j in range(0, len(rows), self.chunk_size):
                    session.execute(insert(child), rows[j : j + self.chunk_size])
                total += len(rows)
        return total

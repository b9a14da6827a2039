"""Job: model performance of one window against the reference period (concept drift).

``run_performance_check(engine, settings, model, window_start, window_end)`` joins the
window's predictions with their labels, compares every metric with the reference period
(interval + one-sided test), runs the error-stream detectors, estimates accuracy without labels
(classifiers that log probabilities, also when the window has no label yet), checks label drift
through the drift engine (stored as the window's ``label`` drift report; prediction drift is
the drift job's), and stores one report per model and window (running it again replaces it).

Labels arrive late: the scheduler runs a window again ``rerun_after`` its end (default +1d, +3d,
+7d; :mod:`lifecycle.jobs.reruns`). A re-run replaces the report, which records the coverage
every run saw (``summary["runs"]``); a re-run whose labels did not change since the stored
report returns :class:`UnchangedRerun` without computing anything. The reference period's
performance comes from :mod:`lifecycle.jobs.perf_baseline` (computed once per reference).

Verdicts: ``fine``, ``degraded`` (stored); ``no labels``, ``insufficient labels`` (nothing
stored: a number that cannot be trusted is not written as if it were); ``no data``: the window
has no prediction, a normal outcome the runner records as ``empty`` (never retried).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.detectors import DETECTORS, DriftDetector, PageHinkley
from lifecycle.errors import DataError
from lifecycle.jobs.perf_baseline import ReferenceBaseline, reference_baseline
from lifecycle.performance import (
    EstimatedPerformance,
    LabelledSample,
    PerformanceComparison,
    PerformanceEstimator,
    canonical_label,
    compare_performance,
)
from lifecycle.states import DEGRADED, FINE, NO_DATA, NO_LABELS
from lifecycle.states import INSUFFICIENT_LABELS as INSUFFICIENT
from lifecycle.storage.baseline_repo import iso_utc
from lifecycle.storage.labelled import LabelledWindow, load_labelled_window
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.performance_repo import (
    json_safe,
    load_report_summary,
    save_performance_report,
)
from lifecycle.storage.tables import ReferenceProfileRow
from lifecycle.storage.types import utcnow

__all__ = ["INITIAL", "MANUAL", "PerformanceCheckResult", "UnchangedRerun", "evaluate_alerts",
           "labels_seen", "resolve_reference_period", "run_performance_check"]

EXIT_CODES = {FINE: 0, DEGRADED: 1}
#: Reference errors fed to each detector before the window, so it starts from the baseline.
WARMUP = 2000
#: Standard deviation of the stream Page–Hinkley's defaults are tuned for (10 % error rate).
PH_REFERENCE_SD = 0.3
#: Which run computed a report: the scheduled run at the window's time, a manual check (CLI,
#: API); a re-run is named by its offset after the window's end (``+1d``).
INITIAL, MANUAL = "initial", "manual"
#: Runs kept in a report's coverage history.
MAX_HISTORY = 20


@dataclass(frozen=True)
class ChangePointFound:
    """Where a detector fired inside the window."""

    detector: str
    stream_index: int
    ts: datetime
    prediction_id: str


@dataclass(frozen=True)
class PerformanceCheckResult:
    """Everything one performance check found; ``exit_code`` is 0 fine, 1 degraded, 2 else."""

    model: str
    window_start: datetime
    window_end: datetime
    verdict: str
    task: str | None
    coverage: dict[str, Any]
    reference: dict[str, Any]
    comparison: PerformanceComparison | None = None
    estimate: EstimatedPerformance | None = None
    estimate_verdict: str | None = None
    change_points: tuple[ChangePointFound, ...] = ()
    drift: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    report_id: int | None = None
    #: which run this was: ``initial``, ``manual`` or a re-run (``+1d``)
    run: str = MANUAL
    #: coverage each run of the window saw (the stored report's ``summary["runs"]``)
    history: tuple[dict[str, Any], ...] = ()

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.verdict, 2)

    @property
    def empty(self) -> bool:
        """True when the window has no prediction (the runner records it as ``empty``)."""
        return self.verdict == NO_DATA

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the whole result (NaN as None, times as ISO-8601)."""
        from dataclasses import asdict

        from lifecycle.storage.performance_repo import json_safe

        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("comparison", "estimate"):
            value = out[name]
            out[name] = None if value is None else asdict(value)
        out["change_points"] = [asdict(c) for c in self.change_points]
        out["exit_code"] = self.exit_code
        return dict(json_safe(out))


@dataclass(frozen=True)
class UnchangedRerun:
    """A re-run whose window has the same labels as its stored report: nothing recomputed
    (the runner records the run ``done`` with ``outcome = unchanged``)."""

    model: str
    window_start: datetime
    window_end: datetime
    run: str
    report_id: int
    labels: dict[str, Any]
    verdict: str = "unchanged"

    @property
    def exit_code(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": "unchanged", "run": self.run, "report_id": self.report_id,
                "labels": self.labels,
                "reason": "no label arrived or changed for this window since its report"}


def labels_seen(window: LabelledWindow) -> dict[str, Any]:
    """What a run saw of a window's labels: predictions, labelled, latest ``received_at``
    and revisions (a re-run with the same values has nothing new to compute)."""
    frame = window.frame[window.frame["has_label"]]
    return {"n_predictions": window.n_predictions, "n_labelled": window.n_labelled,
            "max_received_at": iso_utc(frame["received_at"].max()) if len(frame) else None,
            "revisions": int(frame["revisions"].fillna(0).sum()) if len(frame) else 0}


def resolve_reference_period(
    engine: Engine, settings: Settings, model: str
) -> tuple[datetime, datetime, str]:
    """The reference period: configured, else the window of the active reference profile."""
    perf = settings.model(model).performance
    if perf.reference_since is not None:
        return perf.reference_since, perf.reference_until, f"[models.{model}.performance]"
    with Session(engine) as session:
        mid = get_model(session, model).id
        row = session.execute(
            select(ReferenceProfileRow.id, ReferenceProfileRow.window_start,
                   ReferenceProfileRow.window_end)
            .where(
                ReferenceProfileRow.model_id == mid,
                ReferenceProfileRow.is_active.is_(True),
                ReferenceProfileRow.window_start.is_not(None),
                ReferenceProfileRow.window_end.is_not(None),
            )
            .order_by((ReferenceProfileRow.kind == "data").desc(),
                      ReferenceProfileRow.created_at.desc())
        ).first()
    if row is None:
        raise DataError(
            f"no reference period for model {model!r}: set [models.{model}.performance] "
            "reference_since and reference_until, or set a reference profile over a labelled "
            "window with `lifecycle reference set`"
        )
    return row.window_start, row.window_end, f"reference profile #{row.id}"


def _task(settings: Settings, model: str, window: LabelledWindow) -> str:
    task = settings.model(model).task or window.model_task
    if task:
        return task
    return "classification" if window.frame["output_label"].notna().any() else "regression"


def _error_stream(sample: LabelledSample, scale: float) -> np.ndarray:
    if sample.task == "classification":
        return (sample.y_true != sample.y_pred).astype(np.float64)
    return np.clip(np.abs(sample.y_true - sample.y_pred) / scale, 0.0, 1.0)


def _detector(name: str, warm: np.ndarray) -> DriftDetector:
    """A fresh detector; Page–Hinkley's delta and threshold scaled to the reference spread.

    PH's false-alarm rate depends on delta * threshold / variance; its defaults suit a 0/1
    stream near a 10 % error rate (s.d. 0.3), so both are multiplied by s.d.(reference) / 0.3.
    """
    if name != "page_hinkley":
        return DETECTORS[name]()
    spread = float(np.std(warm)) if warm.size > 1 else PH_REFERENCE_SD
    k = min(max(spread / PH_REFERENCE_SD, 0.1), 10.0) if spread > 0 else 1.0
    default = PageHinkley()
    return PageHinkley(delta=default.delta * k, threshold=default.threshold * k)


def _detect(
    names: tuple[str, ...], reference: LabelledSample, current: LabelledSample,
    window: LabelledWindow,
) -> tuple[list[ChangePointFound], dict[str, Any]]:
    scale = 1.0
    if current.task == "regression":
        ref_abs = np.abs(reference.y_true - reference.y_pred)
        scale = float(np.quantile(ref_abs, 0.99)) or float(ref_abs.max()) or 1.0
    warm = _error_stream(reference, scale)[-WARMUP:]
    stream = _error_stream(current, scale)
    rows = window.labelled
    found: list[ChangePointFound] = []
    info: dict[str, Any] = {"stream": "0/1 errors" if current.task == "classification"
                            else f"|error| / {scale:.6g} (reference 99th percentile), clipped",
                            "warmup": int(warm.size), "detectors": {}}
    for name in names:
        if name == "ddm" and current.task != "classification":
            info["detectors"][name] = "skipped: DDM takes 0/1 errors (classification only)"
            continue
        detector = _detector(name, warm)
        detector.run(warm)
        hits = detector.run(stream)
        info["detectors"][name] = {"params": repr(detector), "detections": hits.tolist()}
        for i in hits.tolist():
            found.append(ChangePointFound(name, int(i), rows["ts"].iloc[i].to_pydatetime(),
                                          str(rows["prediction_id"].iloc[i])))
    return found, info


def _estimate(
    reference: LabelledSample, window: LabelledWindow, settings_calibration: str,
    min_drop: float,
) -> tuple[EstimatedPerformance | None, str | None, str | None]:
    if reference.proba is None or not window.proba_columns:
        return None, None, None
    frame = window.frame
    block = frame[list(window.proba_columns)].to_numpy(dtype=float)
    keep = ~np.isnan(block).any(axis=1)
    if not keep.any():
        return None, None, "no probabilities logged in the window"
    names = [canonical_label(c[len("proba_"):]) for c in window.proba_columns]
    order = [names.index(c) for c in reference.classes if c in names]
    if len(order) != len(reference.classes):
        return None, None, "window probabilities do not cover the reference classes"
    estimator = PerformanceEstimator(calibration=settings_calibration).fit(reference)
    preds = np.array([canonical_label(v) for v in frame.loc[keep, "output_label"]])
    est = estimator.estimate(block[keep][:, order], preds)
    drop = est.reference_accuracy - est.accuracy
    likely = drop >= min_drop and est.accuracy_ci_high < est.reference_accuracy
    return est, ("likely degraded" if likely else "no sign of degradation"), None


def _label_drift(engine: Engine, settings: Settings, model: str, ref: ReferenceBaseline,
                 cur: LabelledWindow, task: str, *, window_start: datetime,
                 window_end: datetime, persist: bool) -> dict[str, Any]:
    """Label drift of the labelled window, through the drift engine
    (:func:`lifecycle.jobs.drift.label_drift`), stored as the window's ``label`` drift report.

    The reference is the model's active ``label`` profile (``lifecycle reference set`` over a
    labelled window stores one), else the labels of the reference period. Prediction drift
    needs no labels: the drift job computes it (``prediction`` report). Switched off with
    ``[models.NAME.drift] label_drift = false``.
    """
    from lifecycle.jobs.drift import label_drift
    from lifecycle.storage.drift_repo import load_active_profiles, save_report
    from lifecycle.window_frames import labels_as_frame

    if not settings.model(model).drift.label_drift:
        return {}
    with Session(engine) as session:
        mid = get_model(session, model).id
        stored = load_active_profiles(session, mid).get("label")
    try:
        current = labels_as_frame(cur.labelled, task)
        if not stored and ref.labels is None:
            raise DataError(ref.labels_error or "no labels in the reference period")
        reference: Any = stored[1] if stored else ref.labels
        report = label_drift(reference, current, settings, model)
    except DataError as exc:
        return {"verdict": "not checked", "reason": str(exc)}
    source = f"reference profile #{stored[0]}" if stored else "labels of the reference period"
    out: dict[str, Any] = {"verdict": report.verdict, "drifted": list(report.drifted_features),
                           "reference": source, "report_id": None}
    if persist:
        with Session(engine) as session, session.begin():
            out["report_id"] = save_report(
                session, mid, report, window_start=window_start, window_end=window_end,
                reference_id=stored[0] if stored else None,
                extra_summary={"reference": source},
            )
    return out


def _metric_rows(comp: PerformanceComparison, est: EstimatedPerformance | None,
                 est_verdict: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for m in comp.metrics:
        verdict = "degraded" if m.worse else ("ok" if m.p_value is not None
                                              else "insufficient_data")
        rows.append({
            "metric": m.name, "kind": "realised", "value": m.value, "ci_low": m.ci_low,
            "ci_high": m.ci_high, "reference_value": m.reference, "p_value": m.p_value,
            "verdict": verdict,
            "details": {"p_adjusted": m.p_adjusted, "test": m.test, "min_effect": m.min_effect,
                        "difference": m.difference, "higher_is_better": m.higher_is_better,
                        "reference_ci": [m.reference_ci_low, m.reference_ci_high],
                        "n": m.n, "n_reference": m.n_reference},
        })
    if est is not None:
        for name, value, lo, hi, ref in (
            ("accuracy", est.accuracy, est.accuracy_ci_low, est.accuracy_ci_high,
             est.reference_accuracy),
            ("f1", est.f1, est.f1_ci_low, est.f1_ci_high, est.reference_f1),
        ):
            if value is None:
                continue
            rows.append({
                "metric": name, "kind": "estimated", "value": value, "ci_low": lo,
                "ci_high": hi, "reference_value": ref, "p_value": None,
                "verdict": "degraded" if est_verdict == "likely degraded" else "ok",
                "details": {"n": est.n, "calibration": est.calibration,
                            "estimate_verdict": est_verdict,
                            "assumption": est.assumption, "n_sim": est.n_sim},
            })
    return rows


def _history(previous: dict[str, Any] | None, entry: dict[str, Any]) -> list[dict[str, Any]]:
    runs = list((previous or {}).get("runs") or [])
    return [*runs, entry][-MAX_HISTORY:]


def run_performance_check(
    engine: Engine,
    settings: Settings,
    model: str,
    window_start: datetime,
    window_end: datetime,
    *,
    as_of: datetime | None = None,
    persist: bool = True,
    now: datetime | None = None,
    rerun: str | None = None,
) -> PerformanceCheckResult | UnchangedRerun:
    """Check ``model``'s performance on ``[window_start, window_end)``; idempotent per window.

    ``now`` is the scheduler's clock (the runner passes it: the run is then the ``initial``
    one, or the re-run ``rerun`` such as ``"+1d"``); labels received after ``as_of`` (default
    ``now``, else the current time) are ignored. A re-run whose window has the same labels as
    its stored report returns :class:`UnchangedRerun` and writes nothing.

    Raises
    ------
    DataError
        Wrong label types for the task, probabilities that do not sum to one, or no usable
        reference period. Nothing is written.
    UnknownModelError
        The model has never logged a prediction.
    """
    if window_start >= window_end:
        raise DataError(f"window start {window_start} is not before its end {window_end}")
    perf = settings.model(model).performance
    run = rerun or (INITIAL if now is not None else MANUAL)
    as_of = as_of or now or utcnow()
    ref_since, ref_until, ref_source = resolve_reference_period(engine, settings, model)
    current = load_labelled_window(engine, model, window_start, window_end, as_of=as_of)
    seen = labels_seen(current)
    previous: dict[str, Any] | None = None
    report_id: int | None = None
    with Session(engine) as session:
        mid = get_model(session, model).id
        stored = load_report_summary(session, mid, window_start, window_end)
    if stored is not None:
        report_id, previous = stored
        if rerun is not None and previous.get("labels_seen") == json_safe(seen):
            return UnchangedRerun(model, window_start, window_end, run, report_id, seen)
    coverage = current.coverage_summary()
    base: dict[str, Any] = {"model": model, "window_start": window_start,
                            "window_end": window_end, "coverage": coverage, "run": run,
                            "history": tuple((previous or {}).get("runs") or ())}
    reference_info: dict[str, Any] = {"since": ref_since, "until": ref_until,
                                      "source": ref_source}
    if current.n_predictions == 0:
        return PerformanceCheckResult(**base, verdict=NO_DATA, task=None,
                                      reference=reference_info)
    task = _task(settings, model, current)
    baseline = reference_baseline(engine, settings, model, task, ref_since, ref_until,
                                  ref_source, as_of=as_of, persist=persist)
    reference_info["n_labelled"] = baseline.n_labelled
    reference_info["baseline"] = baseline.status
    reference = baseline.sample
    notes: list[str] = []
    # validates the labels before anything else
    sample = current.sample(task, perf.positive_label) if current.n_labelled else None
    est, est_verdict, est_note = (None, None, None)
    if task == "classification":
        est, est_verdict, est_note = _estimate(reference, current, perf.calibration,
                                               perf.min_drop)
        if est_note:
            notes.append(est_note)
    if sample is None:
        return PerformanceCheckResult(**base, verdict=NO_LABELS, task=task,
                                      reference=reference_info, estimate=est,
                                      estimate_verdict=est_verdict, notes=tuple(notes))
    if current.n_labelled < perf.min_labels:
        notes.append(f"{current.n_labelled} labelled predictions, fewer than min_labels = "
                     f"{perf.min_labels}")
        return PerformanceCheckResult(**base, verdict=INSUFFICIENT, task=task,
                                      reference=reference_info, estimate=est,
                                      estimate_verdict=est_verdict, notes=tuple(notes))
    comparison = compare_performance(
        reference, sample, alpha=perf.alpha, min_drop=perf.min_drop,
        min_relative_increase=perf.min_relative_increase, confidence=perf.confidence,
        n_boot=perf.n_boot, min_labels=perf.min_labels, reference_boot=baseline.boot,
    )
    change_points, detector_info = _detect(perf.detectors, reference, sample, current)
    cov = current.coverage or 0.0
    if cov < perf.min_coverage:
        notes.append(f"low label coverage: {cov:.1%} of predictions are labelled "
                     f"(min_coverage = {perf.min_coverage:.0%}); metrics describe that share only")
    drift: dict[str, Any] = {}
    label = _label_drift(engine, settings, model, baseline, current, task,
                         window_start=window_start, window_end=window_end, persist=persist)
    if label:
        drift["label"] = label
    verdict = DEGRADED if comparison.degraded else FINE
    computed_at = now or utcnow()
    history = _history(previous, {"run": run, "computed_at": computed_at,
                                  "n_predictions": current.n_predictions,
                                  "n_labelled": current.n_labelled,
                                  "coverage": current.coverage, "verdict": verdict})
    report_id = None
    if persist:
        summary = {
            "coverage": coverage, "reference": reference_info, "notes": notes,
            "degraded_metrics": [m.name for m in comparison.metrics if m.worse],
            "policy": {"alpha": perf.alpha, "min_drop": perf.min_drop,
                       "min_relative_increase": perf.min_relative_increase,
                       "confidence": perf.confidence, "n_boot": perf.n_boot,
                       "min_labels": perf.min_labels, "correction": "holm"},
            "classes": list(sample.classes), "detectors": detector_info,
            "estimate": None if est is None else {
                "verdict": est_verdict, "assumption": est.assumption, "n": est.n},
            "label_drift": drift.get("label"),
            "run": run, "computed_at": computed_at, "labels_seen": seen, "runs": history,
        }
        with Session(engine) as session, session.begin():
            report_id = save_performance_report(
                session, model_id=mid, window_start=window_start, window_end=window_end,
                task=task, n_predictions=current.n_predictions, n_labelled=current.n_labelled,
                label_coverage=current.coverage,
                label_delay_median_s=coverage["delay_median_s"], verdict=verdict,
                summary=summary, metrics=_metric_rows(comparison, est, est_verdict),
                change_points=[{"detector": c.detector, "ts": c.ts,
                                "stream_index": c.stream_index,
                                "details": {"prediction_id": c.prediction_id}}
                               for c in change_points],
            )
    base["history"] = tuple(json_safe(history))
    return PerformanceCheckResult(
        **base, verdict=verdict, task=task, reference=reference_info, comparison=comparison,
        estimate=est, estimate_verdict=est_verdict, change_points=tuple(change_points),
        drift=drift, notes=tuple(notes), report_id=report_id,
    )


def evaluate_alerts(engine: Engine, settings: Settings, model: str, window_start: datetime,
                    window_end: datetime, *, now: datetime) -> list[Any]:
    """Alerts after a performance window: its performance report, then the drift reports of
    the same window - the ``label`` report this job wrote (``label_drift`` alerts). Evaluating
    a window's drift report again is harmless: a rerun of a window counts once."""
    from lifecycle.alerts.evaluate import evaluate_drift, evaluate_performance

    changes = evaluate_performance(engine, settings, model, window_start, window_end, now=now)
    return [*changes, *evaluate_drift(engine, settings, model, window_start, window_end,
                                      now=now)]

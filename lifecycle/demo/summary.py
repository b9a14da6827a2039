"""The demo's closing numbers, read back from the database the jobs wrote.

* **Covariate shift**: for each shifted feature, the first data-drift report whose window
  starts at or after the shift and flags it; the delay is that window's end minus the shift
  (the drift job runs when its window closes). Also how many of the later windows flag it.
* **False alarms**: data-drift reports that flag any feature in a window ending at or before
  the shift, and windows after it that flag a feature which never changed.
* **Between the shift and the concept change**: how many daily performance reports say
  ``degraded`` (the shift offsets its own risk, so none should).
* **Concept change**: the first performance report over a window starting at or after the
  concept day whose ROC AUC is significantly worse than the reference; the delay is the
  simulated time at which that report was written (its ``job_runs`` row, stamped by the
  runner's simulated clock; the performance job waits for labels) minus the change. ROC AUC
  is the signal because the covariate shift moves the default rate (and with it accuracy and
  log loss) but barely the model's ranking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.demo.observe import WORSE, drifted_features, sim_label
from lifecycle.storage.tables import (
    Alert,
    ChangePoint,
    DriftReportRow,
    JobRun,
    ModelRow,
    PerformanceMetric,
    PerformanceReport,
)

__all__ = ["Detection", "Summary", "format_delay", "format_summary", "summarise"]


@dataclass(frozen=True)
class Detection:
    """When (and whether) one thing was detected."""

    what: str
    started: datetime
    detected: datetime | None
    evidence: str = ""

    @property
    def delay(self) -> timedelta | None:
        return None if self.detected is None else self.detected - self.started


@dataclass(frozen=True)
class Summary:
    """Numbers for the end of the story."""

    shift_features: tuple[Detection, ...]
    windows_before_shift: int
    false_alarm_windows_before_shift: int
    false_alarm_features_before_shift: Mapping[str, int]
    windows_after_shift: int
    unchanged_flagged_after_shift: Mapping[str, int]
    shifted_flag_counts: Mapping[str, int]
    concept: Detection | None
    auc_worse_before_concept: int
    performance_windows_before_concept: int
    first_degraded_after_shift: Detection | None
    change_points_after_concept: Mapping[str, datetime]
    change_points_before_shift: int = 0
    change_points_after_shift: Mapping[str, datetime] = field(default_factory=dict)
    alerts: Mapping[str, int] = field(default_factory=dict)
    end: datetime | None = None
    reports_after_shift: int = 0
    degraded_after_shift: int = 0


def format_delay(delta: timedelta | None) -> str:
    """``"6 h"``, ``"3 days 0 h"``; ``"not detected"`` for None."""
    if delta is None:
        return "not detected"
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:g} h"
    days, rest = divmod(hours, 24)
    return f"{int(days)} days {rest:g} h"


def _data_reports(session: Session, mid: int) -> list[DriftReportRow]:
    return list(session.scalars(
        select(DriftReportRow).where(DriftReportRow.model_id == mid, DriftReportRow.kind == "data",
                                  DriftReportRow.verdict != "insufficient_data")
        .order_by(DriftReportRow.window_end)
    ))


def summarise(
    engine: Engine,
    model: str,
    *,
    start: datetime,
    shift_day: int,
    concept_day: int,
    shifted: Sequence[str],
    performance_seen_at: Mapping[int, datetime],
    end: datetime | None = None,
) -> Summary:
    """Read the detection numbers back from the database (see the module docstring)."""
    shift_at = start + timedelta(days=shift_day)
    concept_at = start + timedelta(days=concept_day)
    with Session(engine) as session:
        mid = session.scalar(select(ModelRow.id).where(ModelRow.name == model))
        if mid is None:
            raise LookupError(f"model {model!r} has no rows; the demo logged nothing")
        first: dict[str, tuple[datetime, str]] = {}
        before = after = false_before = 0
        before_features: Counter[str] = Counter()
        unchanged_after: Counter[str] = Counter()
        shifted_counts: Counter[str] = Counter()
        for report in _data_reports(session, mid):
            flagged = drifted_features(session, report.id)
            if report.window_end <= shift_at:
                before += 1
                if flagged:
                    false_before += 1
                    before_features.update(flagged)
                continue
            if report.window_start < shift_at:
                continue  # straddles the change: neither before nor after
            after += 1
            for feature, info in flagged.items():
                if feature in shifted:
                    shifted_counts[feature] += 1
                    if feature not in first:
                        psi = info.get("psi")
                        first[feature] = (report.window_end,
                                          f"PSI {psi:.2f}" if psi is not None else "flagged")
                else:
                    unchanged_after[feature] += 1
        detections = tuple(
            Detection(f"covariate shift in {f}", shift_at, *(first.get(f) or (None, "")))
            for f in shifted
        )
        concept, auc_worse_before, perf_before, degraded_after_shift, between = _performance(
            session, mid, shift_at, concept_at, performance_seen_at)
        cps: dict[str, datetime] = {}
        cps_shift: dict[str, datetime] = {}
        cps_before = 0
        for cp in session.scalars(
            select(ChangePoint).where(ChangePoint.model_id == mid).order_by(ChangePoint.ts)
        ):
            if cp.ts < shift_at:
                cps_before += 1
            elif cp.ts < concept_at:
                cps_shift.setdefault(cp.detector, cp.ts)
            else:
                cps.setdefault(cp.detector, cp.ts)
        alerts = Counter(
            f"{a.kind}{' on ' + a.feature if a.feature else ''}"
            for a in session.scalars(select(Alert).where(Alert.model_id == mid))
        )
    return Summary(
        shift_features=detections, windows_before_shift=before,
        false_alarm_windows_before_shift=false_before,
        false_alarm_features_before_shift=dict(before_features),
        windows_after_shift=after, unchanged_flagged_after_shift=dict(unchanged_after),
        shifted_flag_counts=dict(shifted_counts), concept=concept,
        auc_worse_before_concept=auc_worse_before,
        performance_windows_before_concept=perf_before,
        first_degraded_after_shift=degraded_after_shift,
        change_points_after_concept=cps, change_points_before_shift=cps_before,
        change_points_after_shift=cps_shift, alerts=dict(alerts), end=end,
        reports_after_shift=between[0], degraded_after_shift=between[1],
    )


def _performance(
    session: Session, mid: int, shift_at: datetime, concept_at: datetime,
    seen_at: Mapping[int, datetime],
) -> tuple[Detection | None, int, int, Detection | None, tuple[int, int]]:
    reports = list(session.scalars(
        select(PerformanceReport).where(PerformanceReport.model_id == mid)
        .order_by(PerformanceReport.window_start)
    ))
    if not reports:
        return None, 0, 0, None, (0, 0)
    auc = {m.report_id: m for m in session.scalars(
        select(PerformanceMetric).where(
            PerformanceMetric.report_id.in_([r.id for r in reports]),
            PerformanceMetric.metric == "roc_auc", PerformanceMetric.kind == "realised"))}
    concept = Detection("concept change", concept_at, None)
    degraded: Detection | None = Detection("performance after the covariate shift", shift_at,
                                           None)
    # When each window's report was written: the runner's job_runs rows carry simulated time.
    written: dict[tuple[datetime | None, datetime | None], datetime | None] = {}
    for ws, we, finished in session.execute(
        select(JobRun.window_start, JobRun.window_end, JobRun.finished_at)
        .where(JobRun.job_name == "performance", JobRun.status == "done",
               JobRun.finished_at.is_not(None))
        .order_by(JobRun.finished_at)
    ):
        written.setdefault((ws, we), finished)
    worse_before = n_before = n_between = degraded_between = 0
    for report in reports:
        when = (written.get((report.window_start, report.window_end))
                or seen_at.get(report.id, report.window_end))
        metric = auc.get(report.id)
        if report.window_end <= concept_at:
            n_before += 1
            worse_before += int(metric is not None and metric.verdict in WORSE)
        between = report.window_start >= shift_at and report.window_end <= concept_at
        n_between += int(between)
        degraded_between += int(between and report.verdict == "degraded")
        if (degraded is not None and degraded.detected is None
                and between and report.verdict == "degraded"):
            worse = ", ".join((report.summary or {}).get("degraded_metrics", []))
            degraded = Detection(degraded.what, shift_at, when,
                                 f"window {report.window_start:%Y-%m-%d} degraded ({worse})")
        if (concept.detected is None and report.window_start >= concept_at
                and metric is not None and metric.verdict in WORSE
                and metric.value is not None and metric.reference_value is not None):
            concept = Detection(concept.what, concept_at, when, (
                f"ROC AUC {metric.value:.3f} vs {metric.reference_value:.3f} reference "
                f"(p {metric.p_value:.1e}) on {report.n_labelled} labels of window "
                f"{report.window_start:%Y-%m-%d}"
                if metric.p_value is not None else
                f"ROC AUC {metric.value:.3f} vs {metric.reference_value:.3f} reference"))
    return concept, worse_before, n_before, degraded, (n_between, degraded_between)


def format_summary(summary: Summary, start: datetime) -> list[str]:
    """The summary as printable lines."""
    lines = ["", "Summary", "-------"]
    for d in summary.shift_features:
        feature = d.what.removeprefix("covariate shift in ")
        count = summary.shifted_flag_counts.get(feature, 0)
        found = ("not detected" if d.detected is None else
                 f"detected {format_delay(d.delay)} after it started "
                 f"(at {sim_label(d.detected, start)}, {d.evidence})")
        lines.append(f"covariate shift in {feature}: {found}; flagged in {count} of "
                     f"{summary.windows_after_shift} windows since")
    lines.append(
        f"false alarms before the shift: {summary.false_alarm_windows_before_shift} of "
        f"{summary.windows_before_shift} drift windows flagged a feature"
        + (f" ({', '.join(f'{k} x{v}' for k, v in sorted(summary.false_alarm_features_before_shift.items()))})"  # noqa: E501
           if summary.false_alarm_features_before_shift else ""))
    unchanged = summary.unchanged_flagged_after_shift
    lines.append(
        "unchanged features flagged after the shift: "
        + (", ".join(f"{k} in {v} windows" for k, v in sorted(unchanged.items()))
           if unchanged else "none"))
    if summary.first_degraded_after_shift is not None:
        d = summary.first_degraded_after_shift
        lines.append(
            f"performance between the covariate shift and the concept change: "
            f"{summary.degraded_after_shift} of {summary.reports_after_shift} daily reports "
            "degraded"
            + (f" (first at {sim_label(d.detected, start)}: {d.evidence})"
               if d.detected is not None else " (the inputs moved, the model's quality did not)"))
    if summary.concept is None:
        lines.append("concept change: not assessed (no performance report was written)")
    else:
        c = summary.concept
        left = "" if summary.end is None else (
            f" ({format_delay(summary.end - c.started)} after it; the performance job reads a "
            "day once its labels had two days to arrive)")
        found = (f"not detected by performance by the end of the run{left}" if c.detected is None
                 else f"detected by performance {format_delay(c.delay)} after it started "
                 f"(at {sim_label(c.detected, start)}: {c.evidence})")
        lines.append(
            f"concept change: {found}; ROC AUC flagged worse in "
            f"{summary.auc_worse_before_concept} of {summary.performance_windows_before_concept} "
            "windows before it")
    if (summary.change_points_before_shift or summary.change_points_after_shift
            or summary.change_points_after_concept):
        def first(found: Mapping[str, datetime]) -> str:
            return ", ".join(f"{k} {sim_label(v, start)}" for k, v in sorted(found.items())
                             ) or "none"

        lines.append(
            "error-stream detectors (on 0/1 errors, so they also react to the higher default "
            f"rate after the shift): {summary.change_points_before_shift} change points "
            f"before the shift; first after the shift: {first(summary.change_points_after_shift)}"
            f"; first after the concept change: {first(summary.change_points_after_concept)}")
    if summary.alerts:
        lines.append("alerts: " + ", ".join(f"{k} x{v}" for k, v in sorted(summary.alerts.items())))
    return lines

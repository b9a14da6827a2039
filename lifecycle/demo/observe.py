"""Read what the real jobs wrote (drift reports, performance reports, alerts) as story events.

The demo never computes a verdict itself: after each simulated tick it polls the tables the
production jobs fill and turns what is new into one printable :class:`Event` with its numbers.
Only *changes* are told (a feature starts or stops drifting, the performance verdict or the
verdict on ROC AUC changes, an alert opens or resolves), so six weeks fit on one screen; the
error-stream change points are left to the summary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.storage.tables import (
    Alert,
    DriftFeatureResult,
    DriftReportRow,
    ModelRow,
    PerformanceMetric,
    PerformanceReport,
)

__all__ = ["WORSE", "Event", "Observer", "drifted_features", "fmt_p", "sim_label"]

#: Verdicts of a stored performance metric that mean "significantly worse than reference".
WORSE = frozenset({"degraded", "worse"})

#: Statistic shown first for a drifting feature (effect size), then the gate test's p-value.
_EFFECT_STAT = "psi"
_GATE_STATS = ("ks", "chi_square")


def sim_label(ts: datetime, start: datetime) -> str:
    """``"day 15 06:00"``: a simulated time relative to the first live day."""
    delta = ts - start
    day = delta // timedelta(days=1)
    rest = delta - timedelta(days=day)
    hours, remainder = divmod(int(rest.total_seconds()), 3600)
    return f"day {day} {hours:02d}:{remainder // 60:02d}"


def fmt_p(p: float | None) -> str:
    """A p-value in a few characters (``1e-30``, ``0.003``)."""
    if p is None:
        return "n/a"
    if p == 0.0:
        return "<1e-300"
    if p < 1e-3:
        return f"{p:.0e}"
    return f"{p:.3f}"


@dataclass(frozen=True)
class Event:
    """One line of the story."""

    ts: datetime
    kind: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def drifted_features(session: Session, report_id: int) -> dict[str, dict[str, Any]]:
    """Features whose verdict is ``drift`` in one report (any statistic at the drift level),
    with the effect size and the gate test's adjusted p-value."""
    rows = session.execute(
        select(DriftFeatureResult.feature, DriftFeatureResult.statistic_name,
               DriftFeatureResult.statistic, DriftFeatureResult.p_adjusted,
               DriftFeatureResult.verdict)
        .where(DriftFeatureResult.report_id == report_id)
    ).all()
    by_feature: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_feature[row.feature].append(row)
    out: dict[str, dict[str, Any]] = {}
    for feature, stats in by_feature.items():
        if not any(s.verdict == "drift" for s in stats):
            continue
        info: dict[str, Any] = {"drifting": sorted(s.statistic_name for s in stats
                                                   if s.verdict == "drift")}
        for s in stats:
            if s.statistic_name == _EFFECT_STAT:
                info["psi"] = s.statistic
            if s.statistic_name in _GATE_STATS:
                info["gate"] = s.statistic_name
                info["p_adj"] = s.p_adjusted
        out[feature] = info
    return out


def _feature_text(feature: str, info: dict[str, Any]) -> str:
    parts = []
    if info.get("psi") is not None:
        parts.append(f"PSI {info['psi']:.2f}")
    if "p_adj" in info:
        parts.append(f"{info['gate']} p_adj {fmt_p(info['p_adj'])}")
    return f"{feature} ({', '.join(parts)})" if parts else feature


class Observer:
    """Polls the database for what the jobs wrote since the last poll."""

    def __init__(self, engine: Engine, model: str, start: datetime) -> None:
        self.engine = engine
        self.model = model
        self.start = start
        self._drift_seen = 0
        self._drifting: dict[str, set[str]] = defaultdict(set)  # kind -> features
        self._perf_seen: set[int] = set()
        self._perf_state: tuple[str, bool] | None = None
        self._alerts_open: set[int] = set()
        self._alerts_seen = 0
        #: (report id) -> simulated time its row was first seen (when the job had run).
        self.performance_seen_at: dict[int, datetime] = {}

    def _model_id(self, session: Session) -> int | None:
        return session.scalar(select(ModelRow.id).where(ModelRow.name == self.model))

    def poll(self, now: datetime) -> list[Event]:
        """Events for everything written since the previous poll, as of simulated ``now``."""
        with Session(self.engine) as session:
            mid = self._model_id(session)
            if mid is None:
                return []
            events = self._drift(session, mid)
            events += self._performance(session, mid, now)
            events += self._alerts(session, mid)
        return events

    # ----------------------------------------------------------------- drift

    def _drift(self, session: Session, mid: int) -> list[Event]:
        reports = session.scalars(
            select(DriftReportRow).where(DriftReportRow.model_id == mid,
                                      DriftReportRow.id > self._drift_seen)
            .order_by(DriftReportRow.window_end, DriftReportRow.id)
        ).all()
        events: list[Event] = []
        for report in reports:
            self._drift_seen = max(self._drift_seen, report.id)
            if report.verdict == "insufficient_data":
                continue
            flagged = drifted_features(session, report.id)
            before = self._drifting[report.kind]
            new = sorted(set(flagged) - before)
            gone = sorted(before - set(flagged))
            self._drifting[report.kind] = set(flagged)
            when = sim_label(report.window_end, self.start)
            what = f"{report.kind} drift"
            if new:
                text = ", ".join(_feature_text(f, flagged[f]) for f in new)
                events.append(Event(report.window_end, "drift", (
                    f"{when}: {what} detected on {text} in the window "
                    f"{sim_label(report.window_start, self.start)[-5:]}-{when[-5:]} "
                    f"({report.n_current} rows; {report.n_drifted} of {report.n_features} "
                    "features drifting)"), {"report_id": report.id, "features": new}))
            if gone:
                events.append(Event(report.window_end, "drift_cleared", (
                    f"{when}: {what} no longer seen on {', '.join(gone)}"),
                    {"report_id": report.id, "features": gone}))
        return events

    # ----------------------------------------------------------- performance

    def _performance(self, session: Session, mid: int, now: datetime) -> list[Event]:
        reports = session.scalars(
            select(PerformanceReport).where(PerformanceReport.model_id == mid)
            .order_by(PerformanceReport.window_end, PerformanceReport.id)
        ).all()
        events: list[Event] = []
        for report in reports:
            if report.id in self._perf_seen:
                continue
            self._perf_seen.add(report.id)
            self.performance_seen_at[report.id] = now
            metrics = {m.metric: m for m in session.scalars(
                select(PerformanceMetric).where(PerformanceMetric.report_id == report.id,
                                                PerformanceMetric.kind == "realised"))}
            worse = tuple(sorted(name for name, m in metrics.items() if m.verdict in WORSE))
            auc = metrics.get("roc_auc")
            state = (report.verdict, auc is not None and auc.verdict in WORSE)
            if state == self._perf_state:
                continue
            self._perf_state = state
            shown = [n for n in ("roc_auc", "accuracy", "log_loss") if n in metrics]
            numbers = ", ".join(
                f"{n} {metrics[n].value:.3f} (ref {metrics[n].reference_value:.3f}"
                f"{', worse' if metrics[n].verdict in WORSE else ''})"
                for n in shown
                if metrics[n].value is not None and metrics[n].reference_value is not None
            )
            coverage = report.label_coverage or 0.0
            events.append(Event(now, "performance", (
                f"{sim_label(now, self.start)}: performance of "
                f"{sim_label(report.window_start, self.start)[:-6]} is {report.verdict.upper()}"
                f"{' (worse: ' + ', '.join(worse) + ')' if worse else ''}: {numbers}; "
                f"{report.n_labelled} labels ({coverage:.0%} of predictions)"),
                {"report_id": report.id, "verdict": report.verdict, "worse": list(worse)}))
        return events

    # ---------------------------------------------------------------- alerts

    def _alerts(self, session: Session, mid: int) -> list[Event]:
        events: list[Event] = []
        new = session.scalars(
            select(Alert).where(Alert.model_id == mid, Alert.id > self._alerts_seen)
            .order_by(Alert.id)
        ).all()
        for alert in new:
            self._alerts_seen = max(self._alerts_seen, alert.id)
            self._alerts_open.add(alert.id)
            target = f" on {alert.feature}" if alert.feature else " (model level)"
            events.append(Event(alert.first_seen, "alert", (
                f"{sim_label(alert.first_seen, self.start)}: ALERT #{alert.id} opened "
                f"[{alert.severity}] {alert.kind}{target}"), {"alert_id": alert.id}))
        if self._alerts_open:
            for alert in session.scalars(
                select(Alert).where(Alert.id.in_(self._alerts_open),
                                    Alert.status == "resolved")
            ).all():
                self._alerts_open.discard(alert.id)
                when = alert.resolved_at or alert.last_seen
                events.append(Event(when, "alert_resolved", (
                    f"{sim_label(when, self.start)}: alert #{alert.id} resolved "
                    f"({alert.kind}{' on ' + alert.feature if alert.feature else ''})"),
                    {"alert_id": alert.id}))
        return events

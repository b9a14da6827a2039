"""Turn drift and performance reports into alerts, after each scheduled window.

Drift reports (``drift_reports``, one per model, kind and window) give alert kind
``<report kind>_drift`` (``data_drift``, ``prediction_drift``, ...). Verdicts map to signals:
``drift`` -> drift, ``warning`` -> warning, ``no_drift`` -> clear, ``insufficient_data`` ->
ignored. With ``per_feature = true`` each drifting feature also gets its own alert (same
policy, feature verdict = the worst verdict of its statistics).

Performance reports give alert kind ``performance``: ``degraded`` -> drift (fires by default),
``fine`` -> clear; any other verdict is ignored.

The policy (persistence K of N, severity, auto-resolve) is :func:`lifecycle.alerts.policy.decide`
over the latest N reports of the kind, so evaluating windows in order during a catch-up gives
the same alerts as evaluating them live.

**The newest window decides.** Windows can finish out of order (a lease taken over after a
crash, a failed window retried after later ones, two processes on adjacent windows). When the
evaluated window is older than the newest report of its kind with a known signal, it only adds
history: the decision is taken over the latest N reports, i.e. as of that newest window, and is
applied in its name (its window key, report and message). So a late clean window cannot
resolve an alert that newer drifting windows keep open, and a late drifting window cannot open
or reopen an alert that newer clean windows resolved; it can still complete a persistence
count (``2 of 3``) that the newer windows alone did not reach. Evaluations of one model
serialise on its ``models`` row (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL; SQLite has a
single writer), so two processes finishing adjacent windows at once see each other's reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.alerts.policy import AlertChange, decide
from lifecycle.alerts.store import apply_decision
from lifecycle.config import AlertSettings, Settings
from lifecycle.storage.tables import DriftFeatureResult, DriftReportRow, ModelRow, PerformanceReport
from lifecycle.windows import Window

DRIFT_SIGNALS: dict[str, str | None] = {
    "drift": "drift", "warning": "warning", "no_drift": "clear", "insufficient_data": None,
}
PERFORMANCE_SIGNALS: dict[str, str | None] = {"degraded": "drift", "fine": "clear"}
_WORST = {"drift": 3, "warning": 2, "clear": 1}
_DRIFT_KNOWN = [v for v, s in DRIFT_SIGNALS.items() if s is not None]


def _decide(signals: Sequence[str | None], policy: AlertSettings) -> Any:
    return decide(signals, fire_on=policy.fire_on, k=policy.persistence_k,
                  n=policy.persistence_n, resolve_after=policy.resolve_after,
                  severity=policy.severity)


def _history_len(policy: AlertSettings) -> int:
    return max(policy.persistence_n, policy.resolve_after)


def _model(session: Session, name: str) -> ModelRow | None:
    """The model row, locked so that alert evaluations of one model run one at a time."""
    return session.scalar(
        select(ModelRow).where(ModelRow.name == name).with_for_update(key_share=True)
    )


def _newest_drift(session: Session, model_id: int, report: DriftReportRow) -> DriftReportRow:
    """The report whose window decides for ``report``'s kind: the newest with a known signal.

    ``report`` itself unless a newer window of the same kind was already computed.
    """
    newest = session.scalar(
        select(DriftReportRow)
        .where(DriftReportRow.model_id == model_id, DriftReportRow.kind == report.kind,
               DriftReportRow.verdict.in_(_DRIFT_KNOWN))
        .order_by(DriftReportRow.window_end.desc()).limit(1)
    )
    return newest if newest is not None and newest.window_end > report.window_end else report


def evaluate_drift(
    engine: Engine, settings: Settings, model: str, window_start: datetime,
    window_end: datetime, *, now: datetime,
) -> list[AlertChange]:
    """Alerts from the drift reports of ``model`` for the window ending at ``window_end``."""
    policy = settings.model(model).alerts
    if not policy.enabled:
        return []
    changes: list[AlertChange] = []
    with Session(engine) as session, session.begin():
        row = _model(session, model)
        if row is None:
            return []
        reports = session.scalars(
            select(DriftReportRow).where(DriftReportRow.model_id == row.id,
                                      DriftReportRow.window_start == window_start,
                                      DriftReportRow.window_end == window_end)
        ).all()
        for evaluated in reports:
            report = _newest_drift(session, row.id, evaluated)
            key = Window(report.window_start, report.window_end).key
            history = session.execute(
                select(DriftReportRow.id, DriftReportRow.verdict)
                .where(DriftReportRow.model_id == row.id, DriftReportRow.kind == report.kind,
                       DriftReportRow.window_end <= report.window_end,
                       DriftReportRow.verdict.in_(_DRIFT_KNOWN))
                .order_by(DriftReportRow.window_end.desc())
                .limit(_history_len(policy))
            ).all()
            signals = [DRIFT_SIGNALS.get(v) for _, v in history]
            decision = _decide(signals, policy)
            kind = f"{report.kind}_drift"
            late = "" if report is evaluated else (
                f" (window {Window(window_start, window_end)} finished late and only added "
                "history)")
            message = (
                f"{model}: {report.kind} drift verdict {report.verdict!r} for window "
                f"{Window(report.window_start, report.window_end)}: "
                f"{report.n_drifted}/{report.n_features} features drifted "
                f"({decision.firing_windows} of the last {decision.considered} windows "
                f"firing){late}"
            )
            change = apply_decision(
                session, row, kind=kind, feature=None, decision=decision, now=now,
                cooldown_s=policy.cooldown.total_seconds(), window_key=key, message=message,
                report_id=report.id,
                details={"verdict": report.verdict, "drift_share": report.drift_share,
                         "n_drifted": report.n_drifted, "n_features": report.n_features},
            )
            if change is not None:
                changes.append(change)
            if policy.per_feature:
                changes += _feature_alerts(session, row, evaluated, report, policy, now=now,
                                           key=key)
    return changes


def _feature_alerts(session: Session, row: ModelRow, evaluated: DriftReportRow,
                    report: DriftReportRow,
                    policy: AlertSettings, *, now: datetime, key: str) -> list[AlertChange]:
    """Per-feature alerts for the features of ``evaluated``, decided as of ``report``."""
    report_ids = session.scalars(
        select(DriftReportRow.id)
        .where(DriftReportRow.model_id == row.id, DriftReportRow.kind == report.kind,
               DriftReportRow.window_end <= report.window_end)
        .order_by(DriftReportRow.window_end.desc())
        .limit(3 * _history_len(policy))
    ).all()
    order = {rid: i for i, rid in enumerate(report_ids)}
    worst: dict[str, dict[int, str | None]] = defaultdict(dict)
    for rid, feature, verdict in session.execute(
        select(DriftFeatureResult.report_id, DriftFeatureResult.feature,
               DriftFeatureResult.verdict)
        .where(DriftFeatureResult.report_id.in_(report_ids))
    ):
        signal = DRIFT_SIGNALS.get(verdict)
        current = worst[feature].get(rid)
        if signal is not None and _WORST[signal] > _WORST.get(current or "", 0):
            worst[feature][rid] = signal
        else:
            worst[feature].setdefault(rid, current)
    changes: list[AlertChange] = []
    for feature in sorted(worst):
        per_report = worst[feature]
        if evaluated.id not in per_report:
            continue
        signals = [per_report.get(rid) for rid in sorted(per_report, key=order.__getitem__)]
        decision = _decide(signals, policy)
        message = (f"{row.name}: feature {feature!r} {report.kind} drift "
                   f"({decision.firing_windows} of the last {decision.considered} windows)")
        change = apply_decision(
            session, row, kind=f"{report.kind}_drift", feature=feature, decision=decision,
            now=now, cooldown_s=policy.cooldown.total_seconds(), window_key=key,
            message=message, report_id=report.id, details={},
        )
        if change is not None:
            changes.append(change)
    return changes


def evaluate_performance(
    engine: Engine, settings: Settings, model: str, window_start: datetime,
    window_end: datetime, *, now: datetime,
) -> list[AlertChange]:
    """Alerts from the performance report of ``model`` for the window."""
    policy = settings.model(model).alerts
    if not policy.enabled:
        return []
    with Session(engine) as session, session.begin():
        row = _model(session, model)
        if row is None:
            return []
        evaluated = session.scalar(
            select(PerformanceReport).where(PerformanceReport.model_id == row.id,
                                            PerformanceReport.window_start == window_start,
                                            PerformanceReport.window_end == window_end)
        )
        if evaluated is None:
            return []
        newest = session.scalar(
            select(PerformanceReport)
            .where(PerformanceReport.model_id == row.id,
                   PerformanceReport.verdict.in_(list(PERFORMANCE_SIGNALS)))
            .order_by(PerformanceReport.window_end.desc()).limit(1)
        )
        report = (newest if newest is not None and newest.window_end > evaluated.window_end
                  else evaluated)
        key = Window(report.window_start, report.window_end).key
        history = session.execute(
            select(PerformanceReport.verdict)
            .where(PerformanceReport.model_id == row.id,
                   PerformanceReport.window_end <= report.window_end,
                   PerformanceReport.verdict.in_(list(PERFORMANCE_SIGNALS)))
            .order_by(PerformanceReport.window_end.desc())
            .limit(_history_len(policy))
        ).scalars().all()
        decision = _decide([PERFORMANCE_SIGNALS.get(v) for v in history], policy)
        late = "" if report is evaluated else (
            f" (window {Window(window_start, window_end)} finished late and only added history)")
        message = (f"{model}: performance verdict {report.verdict!r} for window "
                   f"{Window(report.window_start, report.window_end)} "
                   f"({report.n_labelled} labelled; "
                   f"{decision.firing_windows} of the last {decision.considered} windows){late}")
        change = apply_decision(
            session, row, kind="performance", feature=None, decision=decision, now=now,
            cooldown_s=policy.cooldown.total_seconds(), window_key=key, message=message,
            report_id=report.id,
            details={"verdict": report.verdict, "label_coverage": report.label_coverage},
        )
    return [change] if change is not None else []

"""Turn drift and performance reports into alerts, after each scheduled window.

Drift reports (``drift_reports``, one per model, kind and window) give alert kind
``<report kind>_drift`` (``data_drift``, ``prediction_drift``, ...). Verdicts map to signals:
``drift`` -> drift, ``warning`` -> warning, ``no_drift`` -> clear, ``insufficient_data`` ->
ignored. With ``per_feature = true`` each drifting feature also gets its own alert (same
policy, feature verdict = the worst verdict of its statistics).

Performance reports give alert kind ``performance``: ``degraded`` -> drift (fires by default),
``fine`` -> clear; any other verdict is ignored.

The policy (persistence K of N, severity, auto-resolve) is :func:`lifecycle.alerts.policy.decide`
over the latest N reports up to the evaluated window, so evaluating windows in order during a
catch-up gives the same alerts as evaluating them live.
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
from lifecycle.storage.tables import DriftFeatureResult, DriftReport, Model, PerformanceReport
from lifecycle.windows import Window

DRIFT_SIGNALS: dict[str, str | None] = {
    "drift": "drift", "warning": "warning", "no_drift": "clear", "insufficient_data": None,
}
PERFORMANCE_SIGNALS: dict[str, str | None] = {"degraded": "drift", "fine": "clear"}
_WORST = {"drift": 3, "warning": 2, "clear": 1}


def _decide(signals: Sequence[str | None], policy: AlertSettings) -> Any:
    return decide(signals, fire_on=policy.fire_on, k=policy.persistence_k,
                  n=policy.persistence_n, resolve_after=policy.resolve_after,
                  severity=policy.severity)


def _history_len(policy: AlertSettings) -> int:
    return max(policy.persistence_n, policy.resolve_after)


def _model(session: Session, name: str) -> Model | None:
    return session.scalar(select(Model).where(Model.name == name))


def evaluate_drift(
    engine: Engine, settings: Settings, model: str, window_start: datetime,
    window_end: datetime, *, now: datetime,
) -> list[AlertChange]:
    """Alerts from the drift reports of ``model`` for the window ending at ``window_end``."""
    policy = settings.model(model).alerts
    if not policy.enabled:
        return []
    changes: list[AlertChange] = []
    key = Window(window_start, window_end).key
    with Session(engine) as session, session.begin():
        row = _model(session, model)
        if row is None:
            return []
        reports = session.scalars(
            select(DriftReport).where(DriftReport.model_id == row.id,
                                      DriftReport.window_start == window_start,
                                      DriftReport.window_end == window_end)
        ).all()
        for report in reports:
            signal_verdicts = [v for v, s in DRIFT_SIGNALS.items() if s is not None]
            history = session.execute(
                select(DriftReport.id, DriftReport.verdict)
                .where(DriftReport.model_id == row.id, DriftReport.kind == report.kind,
                       DriftReport.window_end <= window_end,
                       DriftReport.verdict.in_(signal_verdicts))
                .order_by(DriftReport.window_end.desc())
                .limit(_history_len(policy))
            ).all()
            signals = [DRIFT_SIGNALS.get(v) for _, v in history]
            decision = _decide(signals, policy)
            kind = f"{report.kind}_drift"
            message = (
                f"{model}: {report.kind} drift verdict {report.verdict!r} for window "
                f"{Window(window_start, window_end)}: {report.n_drifted}/{report.n_features} "
                f"features drifted ({decision.firing_windows} of the last "
                f"{decision.considered} windows firing)"
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
                changes += _feature_alerts(session, row, report, policy, now=now, key=key,
                                           window_end=window_end)
    return changes


def _feature_alerts(session: Session, row: Model, report: DriftReport, policy: AlertSettings,
                    *, now: datetime, key: str, window_end: datetime) -> list[AlertChange]:
    report_ids = session.scalars(
        select(DriftReport.id)
        .where(DriftReport.model_id == row.id, DriftReport.kind == report.kind,
               DriftReport.window_end <= window_end)
        .order_by(DriftReport.window_end.desc())
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
        if report.id not in per_report:
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
    key = Window(window_start, window_end).key
    with Session(engine) as session, session.begin():
        row = _model(session, model)
        if row is None:
            return []
        report = session.scalar(
            select(PerformanceReport).where(PerformanceReport.model_id == row.id,
                                            PerformanceReport.window_start == window_start,
                                            PerformanceReport.window_end == window_end)
        )
        if report is None:
            return []
        history = session.execute(
            select(PerformanceReport.verdict)
            .where(PerformanceReport.model_id == row.id,
                   PerformanceReport.window_end <= window_end,
                   PerformanceReport.verdict.in_(list(PERFORMANCE_SIGNALS)))
            .order_by(PerformanceReport.window_end.desc())
            .limit(_history_len(policy))
        ).scalars().all()
        decision = _decide([PERFORMANCE_SIGNALS.get(v) for v in history], policy)
        message = (f"{model}: performance verdict {report.verdict!r} for window "
                   f"{Window(window_start, window_end)} ({report.n_labelled} labelled; "
                   f"{decision.firing_windows} of the last {decision.considered} windows)")
        change = apply_decision(
            session, row, kind="performance", feature=None, decision=decision, now=now,
            cooldown_s=policy.cooldown.total_seconds(), window_key=key, message=message,
            report_id=report.id,
            details={"verdict": report.verdict, "label_coverage": report.label_coverage},
        )
    return [change] if change is not None else []

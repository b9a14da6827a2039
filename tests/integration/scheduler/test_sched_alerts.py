"""Alert policy on real databases: persistence, dedup, escalation, auto-resolve, cooldown,
acknowledge (audited), per-feature alerts, performance alerts and the retrain hook."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.alerts.evaluate import evaluate_drift, evaluate_performance
from lifecycle.alerts.store import AlertStateError, acknowledge
from lifecycle.cli import main
from lifecycle.config import Settings
from lifecycle.jobs.requests import process_pending
from lifecycle.jobs.retrain_trigger import maybe_trigger_retrain
from lifecycle.jobs.runner import RunContext
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import (
    Alert,
    AuditEvent,
    DriftFeatureResult,
    DriftReportRow,
    JobRequest,
    PerformanceReport,
)
from lifecycle.windows import Window
from tests.integration.scheduler import jobfns

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


class Feed:
    """Writes one drift report per hourly window and evaluates it, like the runner does."""

    def __init__(self, engine: Engine, settings: Settings, model: str = "churn") -> None:
        self.engine, self.settings, self.model, self.i = engine, settings, model, 0

    def __call__(self, verdict: str, features: dict[str, str] | None = None
                 ) -> list[tuple[str, str | None, str, str]]:
        start, end = T0 + self.i * H, T0 + (self.i + 1) * H
        self.i += 1
        with Session(self.engine) as s, s.begin():
            m = get_or_create_model(s, self.model)
            report = DriftReportRow(model_id=m.id, kind="data", window_start=start, window_end=end,
                                 n_reference=100, n_current=100, verdict=verdict,
                                 n_features=2, n_drifted=0)
            s.add(report)
            s.flush()
            for feature, v in (features or {}).items():
                s.add(DriftFeatureResult(report_id=report.id, feature=feature,
                                         feature_type="numeric", statistic_name="psi",
                                         verdict=v))
        changes = evaluate_drift(self.engine, self.settings, self.model, start, end,
                                 now=end + timedelta(minutes=1))
        return [(c.action, c.feature, c.severity, c.status) for c in changes]


def alerts(engine: Engine) -> list[tuple[int, str, str, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            select(Alert.id, Alert.status, Alert.severity, Alert.occurrences).order_by(Alert.id))]


def test_persistence_dedup_escalation_resolve_and_cooldown(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, """
[models.churn.alerts]
fire_on = ["warning", "drift"]
persistence = "2 of 3"
cooldown = "3h"
""")
    feed = Feed(engine, settings)
    assert feed("warning") == []                                   # 1 of 3: not yet
    assert feed("insufficient_data") == []                         # ignored
    assert feed("warning") == [("opened", None, "warning", "open")]
    assert feed("warning") == [("updated", None, "warning", "open")]   # dedup: no new alert
    assert feed("drift") == [("escalated", None, "critical", "open")]
    assert alerts(engine) == [(1, "open", "critical", 3)]
    assert feed("no_drift") == [("resolved", None, "critical", "resolved")]
    assert feed("drift") == [("reopened", None, "critical", "open")]  # 2 of 3, within cooldown
    assert [a[:2] for a in alerts(engine)] == [(1, "open")]
    assert feed("no_drift") == [("resolved", None, "critical", "resolved")]
    feed.i += 4  # four quiet hours pass: beyond the 3h cooldown
    assert feed("drift") == [("opened", None, "critical", "open")]
    assert [a[:2] for a in alerts(engine)] == [(1, "resolved"), (2, "open")]


def test_acknowledged_alert_stays_deduplicated_and_ack_is_audited(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings], tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(db_url, "")
    feed = Feed(engine, settings)
    assert feed("drift") == [("opened", None, "critical", "open")]
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(settings.config_path))
    runner = CliRunner()
    out = runner.invoke(main, ["alerts", "--open"])
    assert out.exit_code == 0 and "data_drift" in out.output and "critical" in out.output
    out = runner.invoke(main, ["alerts", "ack", "1", "--actor", "alice"])
    assert out.exit_code == 0, out.output
    assert "acknowledged by alice" in out.output
    assert feed("drift") == [("updated", None, "critical", "acknowledged")]
    out = runner.invoke(main, ["alerts", "ack", "1"])
    assert out.exit_code != 0 and "only open alerts" in out.output
    out = runner.invoke(main, ["alerts", "ack", "99"])
    assert out.exit_code != 0 and "no alert with id 99" in out.output
    with engine.connect() as conn:
        audit = conn.execute(select(AuditEvent.actor, AuditEvent.action,
                                    AuditEvent.target)).all()
    assert [tuple(a) for a in audit] == [("alice", "alert.acknowledge", "alert:1")]
    assert feed("no_drift") == [("resolved", None, "critical", "resolved")]
    with Session(engine) as s, pytest.raises(AlertStateError, match="resolved"):
        acknowledge(s, 1, actor="bob", now=T0)


def test_per_feature_alerts(db_url: str, engine: Engine,
                            make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(db_url, "[models.churn.alerts]\nper_feature = true")
    feed = Feed(engine, settings)
    got = feed("drift", {"age": "drift", "income": "no_drift"})
    assert sorted(got, key=str) == sorted([("opened", None, "critical", "open"),
                                           ("opened", "age", "critical", "open")], key=str)
    got = feed("drift", {"age": "no_drift", "income": "drift"})
    assert ("resolved", "age", "critical", "resolved") in got
    assert ("opened", "income", "critical", "open") in got


def test_performance_alerts(db_url: str, engine: Engine,
                            make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(db_url, "")
    actions = []
    for i, verdict in enumerate(["fine", "degraded", "fine"]):  # each window, then its alerts
        with Session(engine) as s, s.begin():
            m = get_or_create_model(s, "churn")
            s.add(PerformanceReport(model_id=m.id, window_start=T0 + i * H,
                                    window_end=T0 + (i + 1) * H, task="classification",
                                    n_predictions=10, n_labelled=10, verdict=verdict))
        actions.append([c.action for c in evaluate_performance(
            engine, settings, "churn", T0 + i * H, T0 + (i + 1) * H, now=T0 + 9 * H)])
    assert actions == [[], ["opened"], ["resolved"]]


def test_retrain_hook_fires_once_per_cooldown(db_url: str, engine: Engine,
                                              make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(db_url, f"""
[scheduler]
retrain_function = "{jobfns.__name__}:retrain_hook"
[models.churn.alerts]
retrain_on = ["data_drift"]
retrain_cooldown = "6h"
""")
    jobfns.CALLS.clear()
    feed = Feed(engine, settings)
    outcomes, ran = [], []
    for i in range(10):  # drift persists for 10 hours
        changes = evaluate_drift(engine, settings, "churn", *_report(engine, feed), now=T0 + i * H)
        outcomes.append(maybe_trigger_retrain(engine, settings, "churn", changes,
                                              now=T0 + i * H, owner="me"))
        assert len(jobfns.CALLS) == len(ran)  # the trigger only queues: nothing ran inline
        ran += process_pending(_context(engine, settings, T0 + i * H))
    statuses = [o["status"] if o else None for o in outcomes]
    assert statuses == ["queued"] + ["cooldown"] * 5 + ["queued"] + ["cooldown"] * 3
    assert [(r.kind, r.status) for r in ran] == [("retrain", "done")] * 2
    assert [c[0] for c in jobfns.CALLS] == ["churn", "churn"]
    with engine.connect() as conn:
        audit = conn.execute(select(AuditEvent.action, AuditEvent.actor)
                             .order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in audit] == [("retrain.trigger", "scheduler"),
                                         ("retrain.run", "scheduler")] * 2


def _context(engine: Engine, settings: Settings, now: datetime) -> RunContext:
    return RunContext(engine=engine, settings=settings, clock=lambda: now, owner="me")


def test_failing_retrain_hook_is_recorded_not_raised(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, f"""
[scheduler]
retrain_function = "{jobfns.__name__}:failing_retrain_hook"
[models.churn.alerts]
retrain_on = ["data_drift"]
""")
    feed = Feed(engine, settings)
    changes = evaluate_drift(engine, settings, "churn", *_report(engine, feed), now=T0)
    outcome = maybe_trigger_retrain(engine, settings, "churn", changes, now=T0, owner="me")
    assert outcome is not None and outcome["status"] == "queued"
    (ran,) = process_pending(_context(engine, settings, T0))
    assert ran.status == "failed" and "trainer exploded" in (ran.error or "")
    with engine.connect() as conn:
        details = conn.execute(select(AuditEvent.details)
                               .where(AuditEvent.action == "retrain.run")).scalar_one()
        request = conn.execute(select(JobRequest.status, JobRequest.error)).one()
    assert details["status"] == "failed" and "trainer exploded" in details["error"]
    assert request.status == "failed" and "trainer exploded" in request.error


def _report(engine: Engine, feed: Feed) -> tuple[datetime, datetime]:
    start, end = T0 + feed.i * H, T0 + (feed.i + 1) * H
    feed.i += 1
    with Session(engine) as s, s.begin():
        m = get_or_create_model(s, feed.model)
        s.add(DriftReportRow(model_id=m.id, kind="data", window_start=start, window_end=end,
                          n_reference=1, n_current=1, verdict="drift"))
    return start, end


# -- windows finishing out of order: the newest window decides ---------------------------------

def _drift_window(engine: Engine, settings: Settings, i: int, verdict: str,
                  features: dict[str, str] | None = None) -> list[tuple[str, str | None]]:
    """Write the drift report of hourly window ``i`` and evaluate it (window order is free)."""
    start, end = T0 + i * H, T0 + (i + 1) * H
    with Session(engine) as s, s.begin():
        m = get_or_create_model(s, "churn")
        report = DriftReportRow(model_id=m.id, kind="data", window_start=start, window_end=end,
                             n_reference=100, n_current=100, verdict=verdict, n_features=2,
                             n_drifted=0)
        s.add(report)
        s.flush()
        for feature, v in (features or {}).items():
            s.add(DriftFeatureResult(report_id=report.id, feature=feature,
                                     feature_type="numeric", statistic_name="psi", verdict=v))
    changes = evaluate_drift(engine, settings, "churn", start, end, now=T0 + 9 * H + i * H)
    return [(c.action, c.feature) for c in changes]


def test_late_older_clean_window_does_not_resolve_what_a_newer_window_keeps_open(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, "[models.churn.alerts]\nper_feature = true\n")
    assert _drift_window(engine, settings, 0, "no_drift") == []
    # W2 finishes first and drifts; W1 (older) finishes late and is clean.
    assert _drift_window(engine, settings, 2, "drift", {"age": "drift"}) == [
        ("opened", None), ("opened", "age")]
    late = _drift_window(engine, settings, 1, "no_drift", {"age": "no_drift"})
    assert ("resolved", None) not in late and ("resolved", "age") not in late
    with Session(engine) as s:
        rows = s.scalars(select(Alert).order_by(Alert.id)).all()
        assert [(a.status, a.feature, a.occurrences) for a in rows] == [
            ("open", None, 1), ("open", "age", 1)]  # the late window is not an occurrence
        assert rows[0].details["last_window"] == rows[0].details["first_window"]
        assert "finished late" in rows[0].message
    # the next newer clean window still resolves it
    assert ("resolved", None) in _drift_window(engine, settings, 3, "no_drift",
                                               {"age": "no_drift"})


def test_late_older_drifting_window_does_not_reopen_what_newer_windows_resolved(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, '[models.churn.alerts]\ncooldown = "6h"\n')
    assert _drift_window(engine, settings, 0, "drift") == [("opened", None)]
    assert _drift_window(engine, settings, 2, "no_drift") == [("resolved", None)]
    # a drifting W1 finishing after W2: no reopen (within cooldown) and no new alert
    assert _drift_window(engine, settings, 1, "drift") == []
    assert alerts(engine) == [(1, "resolved", "critical", 1)]


def test_late_window_can_complete_persistence_for_the_newest_window(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, '[models.churn.alerts]\npersistence = "2 of 2"\n')
    assert _drift_window(engine, settings, 1, "drift") == []        # 1 of 1 known: not yet
    assert _drift_window(engine, settings, 0, "drift") == [("opened", None)]  # late: 2 of 2
    with Session(engine) as s:
        alert = s.scalars(select(Alert)).one()
        assert alert.details["first_window"] == alert.details["last_window"]
        assert alert.details["first_window"] == Window(T0 + H, T0 + 2 * H).key  # the newest


def test_late_older_performance_window_does_not_resolve_newer_degradation(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url)

    def window(i: int, verdict: str) -> list[str]:
        with Session(engine) as s, s.begin():
            m = get_or_create_model(s, "churn")
            s.add(PerformanceReport(model_id=m.id, window_start=T0 + i * H,
                                    window_end=T0 + (i + 1) * H, task="classification",
                                    n_predictions=10, n_labelled=10, verdict=verdict))
        return [c.action for c in evaluate_performance(
            engine, settings, "churn", T0 + i * H, T0 + (i + 1) * H, now=T0 + 9 * H)]

    assert window(2, "degraded") == ["opened"]
    assert window(1, "fine") == ["updated"]  # decided as of window 2: still firing, no notice
    assert alerts(engine) == [(1, "open", "critical", 1)]
    assert window(3, "fine") == ["resolved"]

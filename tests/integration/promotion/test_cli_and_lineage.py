"""``lifecycle shadow evaluate | history``, ``promote``, ``rollback`` and ``lineage`` on a
real database and MLflow store: exit codes (0 promote, 1 reject, 3 continue, 2 error), the
manual override's --reason, and a lineage read back from report to promotion."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner, Result
from promotion_support import MODEL, Lab, fitted
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.jobs.lineage import version_lineage
from lifecycle.states import CHALLENGER, CHAMPION, DEGRADED, DRIFT
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import (
    Alert,
    AuditEvent,
    DriftReportRow,
    PerformanceReport,
    RetrainRun,
)
from lifecycle.storage.types import utcnow


def _cli(lab: Lab, *args: str) -> Result:
    lab.settings()  # writes lifecycle.toml
    return CliRunner().invoke(main, ["--config", str(lab.home / "lifecycle.toml"), *args])


def _shadowed(lab: Lab, challenger_columns: list[str], n: int = 300) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    lab.register(fitted(challenger_columns), CHALLENGER)
    lab.served_at = utcnow()  # the command evaluates up to now
    served = lab.managed()
    try:
        lab.serve(served, n)
    finally:
        served.close(timeout=10)


def test_no_challenger_is_an_error(lab: Lab) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    result = _cli(lab, "shadow", "evaluate", MODEL)
    assert result.exit_code == 2
    assert "no challenger" in result.output and "lifecycle retrain" in result.output


def test_better_challenger_exit_0_and_history(lab: Lab) -> None:
    _shadowed(lab, ["f0", "f1"])
    result = _cli(lab, "shadow", "evaluate", MODEL, "--no-act")
    assert result.exit_code == 0, result.output
    for text in ("champion 1 vs challenger 2", "300 labelled", "McNemar exact",
                 "nominal alpha", "decision: PROMOTE", "action: none", "error_rate"):
        assert text in result.output
    assert lab.aliases()[CHAMPION] == "1"
    history = _cli(lab, "shadow", "history", MODEL)
    assert history.exit_code == 0 and "promote" in history.output
    # the recorded PROMOTE lets a person promote without a reason
    promoted = _cli(lab, "promote", MODEL, "--actor", "ana")
    assert promoted.exit_code == 0, promoted.output
    assert "champion 1 -> 2" in promoted.output and "override" not in promoted.output
    assert lab.aliases() == {CHAMPION: "2", CHALLENGER: None, "previous": "1"}
    back = _cli(lab, "rollback", MODEL, "--reason", "drill", "--actor", "ana")
    assert back.exit_code == 0 and "champion 2 -> 1" in back.output
    assert _cli(lab, "rollback", MODEL).exit_code == 0  # twice: back again
    assert lab.aliases()[CHAMPION] == "2"


def test_worse_challenger_exit_1(lab: Lab) -> None:
    _shadowed(lab, ["f2"])
    result = _cli(lab, "shadow", "evaluate", MODEL)
    assert result.exit_code == 1, result.output
    assert "decision: REJECT" in result.output and "action: rejected" in result.output
    assert lab.aliases()[CHALLENGER] is None


def test_continue_exit_3_and_the_manual_override(lab: Lab) -> None:
    _shadowed(lab, ["f1"], n=100)
    result = _cli(lab, "shadow", "evaluate", MODEL, "--json")
    assert result.exit_code == 3, result.output
    payload = json.loads(result.output)
    assert payload["decision"] == "continue" and payload["record"]["pairs_needed"] is not None
    refused = _cli(lab, "promote", MODEL)
    assert refused.exit_code == 2 and "--reason" in refused.output
    assert lab.aliases()[CHAMPION] == "1"
    done = _cli(lab, "promote", MODEL, "2", "--reason", "business call", "--actor", "ana")
    assert done.exit_code == 0 and "manual override" in done.output
    with Session(lab.engine) as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        override = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "model.promote.override")).one()
    assert actions == ["model.promote", "model.promote.override"]
    assert override.actor == "ana" and override.details["latest_decision"] == "continue"
    assert _cli(lab, "promote", MODEL, "7", "--reason", "x").exit_code == 2  # no version 7


def test_lineage_from_report_to_promotion(lab: Lab) -> None:
    now = utcnow()
    with Session(lab.engine) as session, session.begin():
        model_id = get_or_create_model(session, MODEL, "classification").id
        drift = DriftReportRow(model_id=model_id, kind="data", window_start=now - timedelta(
            hours=1), window_end=now, n_reference=1000, n_current=1000, verdict=DRIFT)
        perf = PerformanceReport(model_id=model_id, window_start=now - timedelta(hours=1),
                                 window_end=now, task="classification", n_predictions=900,
                                 n_labelled=800, verdict=DEGRADED)
        alert = Alert(model_id=model_id, kind="drift", severity="critical",
                      message="f1 drifted")
        session.add_all([drift, perf, alert])
        session.flush()
        retrain = RetrainRun(model_id=model_id, trigger="alert", trigger_alert_id=alert.id,
                             drift_report_id=drift.id, performance_report_id=perf.id,
                             status="done", champion_version="1", n_rows=1600)
        session.add(retrain)
        session.flush()
        ids = (drift.id, perf.id, alert.id, retrain.id)
    lab.register(fitted(["f0"]), CHAMPION)
    lab.register(fitted(["f0", "f1"]), CHALLENGER, tags={"lifecycle.retrain_id": str(ids[3])})
    lab.served_at = utcnow()
    served = lab.managed()
    try:
        lab.serve(served, 300)
    finally:
        served.close(timeout=10)
    assert _cli(lab, "shadow", "evaluate", MODEL).exit_code == 0
    lin = version_lineage(lab.engine, lab.registry, MODEL)  # the champion: version 2 now
    assert lin.version.version == "2" and CHAMPION in lin.version.aliases
    assert [(r.kind, r.id) for r in lin.reports] == [("data", ids[0]), ("performance", ids[1])]
    assert lin.alert is not None and lin.alert.id == ids[2]
    assert lin.retrain is not None and lin.retrain.id == ids[3]
    assert lin.run is not None and lin.run.run_id == lab.registry.version(MODEL, "2").run_id
    assert [e.decision for e in lin.evaluations] == ["promote"]
    assert [(m.action, m.from_version, m.to_version, m.evaluation_id) for m in lin.moves] == [
        ("promote", "1", "2", lin.evaluations[0].id)]
    old = version_lineage(lab.engine, lab.registry, MODEL, "1")
    assert old.retrain is None and [m.action for m in old.moves] == ["promote"]
    printed = _cli(lab, "lineage", MODEL)
    assert printed.exit_code == 0, printed.output
    for text in (f"report     data #{ids[0]}", f"alert      #{ids[2]}",
                 f"retrain    #{ids[3]}", "mlflow run", "shadow     #", "promote    #"):
        assert text in printed.output
    as_json = json.loads(_cli(lab, "lineage", MODEL, "2", "--json").output)
    assert as_json["retrain"]["id"] == ids[3]
    assert _cli(lab, "lineage", MODEL, "9").exit_code == 2
    with Session(lab.engine) as session:
        assert session.scalar(select(RetrainRun.registered_version)) is None  # read only

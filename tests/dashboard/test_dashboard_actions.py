"""Actions: refused without the admin token, effective and audited with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import page_test, seed, texts
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.dashboard import actions
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import Alert, AuditEvent

TOKEN = "s3cret-token-0123456"


def _first_open(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        alert_id = session.scalar(select(Alert.id).where(Alert.status == "open")
                                  .order_by(Alert.id))
    engine.dispose()
    assert alert_id is not None
    return int(alert_id)


def _state(url: str, alert_id: int) -> tuple[str, str | None, list[tuple[str, str]]]:
    engine = make_engine(url)
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        audits = session.execute(
            select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.target == f"alert:{alert_id}")).all()
        state = (alert.status, alert.acknowledged_by, [tuple(a) for a in audits])
    engine.dispose()
    return state  # type: ignore[return-value]


def test_authorize_compares_the_token() -> None:
    with pytest.raises(actions.ActionRefused, match="Read-only"):
        actions.authorize(None, "anything")
    with pytest.raises(actions.ActionRefused, match="wrong admin token"):
        actions.authorize(TOKEN, "guess")
    with pytest.raises(actions.ActionRefused, match="wrong admin token"):
        actions.authorize(TOKEN, "")
    actions.authorize(TOKEN, TOKEN)
    assert issubclass(actions.ActionRefused, PermissionError)


def test_acknowledge_refused_without_token_and_unconfirmed(sqlite_url: str) -> None:
    seed(sqlite_url, days=1, predictions=None)
    alert_id = _first_open(sqlite_url)
    engine = make_engine(sqlite_url)
    for token, admin, confirmed in ((None, TOKEN, True), ("nope", TOKEN, True),
                                    (TOKEN, None, True), (TOKEN, TOKEN, False)):
        with pytest.raises(actions.ActionRefused):
            actions.acknowledge_alert(engine, alert_id, actor="bob", token=token,
                                      admin_token=admin, confirmed=confirmed)
    with pytest.raises(actions.ActionRefused, match="actor"):
        actions.acknowledge_alert(engine, alert_id, actor="  ", token=TOKEN,
                                  admin_token=TOKEN, confirmed=True)
    engine.dispose()
    assert _state(sqlite_url, alert_id) == ("open", None, [])


def test_acknowledge_twice_is_refused(sqlite_url: str) -> None:
    seed(sqlite_url, days=1, predictions=None)
    alert_id = _first_open(sqlite_url)
    engine = make_engine(sqlite_url)
    result = actions.acknowledge_alert(engine, alert_id, actor="carol", token=TOKEN,
                                       admin_token=TOKEN, confirmed=True)
    assert "carol" in result.message
    with pytest.raises(actions.ActionRefused, match="acknowledged"):
        actions.acknowledge_alert(engine, alert_id, actor="carol", token=TOKEN,
                                  admin_token=TOKEN, confirmed=True)
    engine.dispose()
    status, by, audits = _state(sqlite_url, alert_id)
    assert (status, by) == ("acknowledged", "carol")
    assert audits == [("carol", "alert.acknowledge")]


def _fill(at: object, token: str, actor: str = "alice", confirm: bool = True) -> None:
    at.text_input(key="ack_actor").input(actor)  # type: ignore[attr-defined]
    at.text_input(key="ack_token").input(token)  # type: ignore[attr-defined]
    at.checkbox(key="ack_confirm").set_value(confirm)  # type: ignore[attr-defined]
    submit = [b for b in at.button if b.label == "Acknowledge"]  # type: ignore[attr-defined]
    submit[0].click().run()


def _run_check(at: object, token: str, actor: str) -> None:
    at.text_input(key="check_actor").input(actor)  # type: ignore[attr-defined]
    at.text_input(key="check_token").input(token)  # type: ignore[attr-defined]
    at.checkbox(key="check_confirm").check()  # type: ignore[attr-defined]
    submit = [b for b in at.button if b.label == "Run check"]  # type: ignore[attr-defined]
    submit[0].click().run()


def test_dashboard_is_read_only_without_configured_token(
        sqlite_url: str, use_db: Callable[[str], None]) -> None:
    seed(sqlite_url, days=1, predictions=None)
    use_db(sqlite_url)
    at = page_test("jobs").run()
    assert not at.exception
    assert "Read-only: no admin token is configured" in texts(at)
    assert not [b for b in at.button if b.label == "Acknowledge"]


def test_acknowledge_in_the_page_refused_then_done_and_audited(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url, days=1, predictions=None)
    use_db(sqlite_url)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    alert_id = _first_open(sqlite_url)
    at = page_test("jobs").run()
    assert not at.exception
    assert at.selectbox(key="ack_alert").value == alert_id

    _fill(at, token="wrong")
    assert not at.exception
    assert any("Refused: wrong admin token" in e.value for e in at.error)
    assert _state(sqlite_url, alert_id) == ("open", None, [])
    assert at.text_input(key="ack_token").value == ""  # not left filled in after a submit

    _fill(at, token=TOKEN, confirm=False)
    assert any("not confirmed" in e.value for e in at.error)
    assert _state(sqlite_url, alert_id)[0] == "open"

    at = page_test("jobs").run()
    _fill(at, token=TOKEN, actor="alice")
    assert not at.exception
    assert any(f"alert {alert_id} acknowledged by alice" in s.value for s in at.success)
    assert _state(sqlite_url, alert_id) == ("acknowledged", "alice",
                                            [("alice", "alert.acknowledge")])
    # the page shows the new state at once (caches were cleared) and the audit row
    assert at.selectbox(key="ack_alert").value != alert_id
    audit = at.dataframe[-1].value
    assert audit.iloc[0]["actor"] == "alice" and audit.iloc[0]["action"] == "alert.acknowledge"


def test_a_refused_action_refreshes_the_stale_alert_list(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An alert acknowledged elsewhere (here: the CLI's function) after the page cached its
    list: acknowledging it in the page is refused AND the lists are read again, so the
    alert leaves the open list without a reload."""
    from lifecycle.alerts.store import acknowledge
    from lifecycle.storage.types import utcnow

    seed(sqlite_url, days=1, predictions=None)
    use_db(sqlite_url)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    alert_id = _first_open(sqlite_url)
    at = page_test("jobs").run()
    n_open = len(at.selectbox(key="ack_alert").options)
    assert at.selectbox(key="ack_alert").value == alert_id and n_open >= 2
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        acknowledge(session, alert_id, actor="cli:eve", now=utcnow())
    engine.dispose()
    _fill(at, token=TOKEN, actor="alice")
    assert not at.exception
    assert any(f"alert {alert_id} is acknowledged" in e.value for e in at.error)
    assert len(at.selectbox(key="ack_alert").options) == n_open - 1
    assert at.selectbox(key="ack_alert").value != alert_id
    assert at.tabs[0].label == f"Open ({n_open - 1})"


def test_run_check_now_queues_the_real_job_for_a_scheduler_and_is_audited(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    from lifecycle.config import load_settings
    from lifecycle.jobs.requests import process_pending
    from lifecycle.jobs.runner import RunContext
    from lifecycle.seed import DEFAULT_MODELS, seed_reference
    from lifecycle.storage.tables import DriftReportRow, JobRequest, JobRun

    # the action runs on the latest window by the wall clock, so the history ends now
    summary = seed(sqlite_url, models=DEFAULT_MODELS[:1], days=2, predictions=4_000,
                   now=datetime.now(UTC))
    engine = make_engine(sqlite_url)
    seed_reference(engine, DEFAULT_MODELS[0], summary.start,
                   summary.start + timedelta(hours=12))
    use_db(sqlite_url)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    at = page_test("jobs").run()
    assert not at.exception
    _run_check(at, token="wrong", actor="dora")
    assert any("wrong admin token" in e.value for e in at.error)
    # the submitted form comes back empty: the token is never left filled in
    assert at.text_input(key="check_token").value == ""
    assert at.checkbox(key="check_confirm").value is False
    with Session(engine) as session:
        assert not session.scalars(select(JobRun).where(JobRun.owner == "dashboard:dora")).all()

    with Session(engine) as session:
        runs_before = len(session.scalars(select(JobRun)).all())
    _run_check(at, token=TOKEN, actor="dora")
    assert not at.exception
    assert any("drift check of churn" in s.value and "queued as request" in s.value
               and "dora" in s.value for s in at.success)
    with Session(engine) as session:
        audit = session.execute(select(AuditEvent.actor, AuditEvent.details)
                                .where(AuditEvent.action == "drift.check_now")).one()
        start = datetime.fromisoformat(audit[1]["window_start"])
        end = datetime.fromisoformat(audit[1]["window_end"])
        assert end - start == timedelta(hours=1) and end <= datetime.now(UTC)
        assert start == start.replace(minute=0, second=0, microsecond=0)  # aligned
        request = session.scalars(select(JobRequest)).one()
        assert (request.kind, request.model_name, request.status) == ("drift", "churn",
                                                                      "pending")
        assert (request.window_start, request.window_end) == (start, end)
        assert request.requested_by == "dashboard:dora"
        assert audit[1]["request_id"] == request.id
        # nothing ran in the Streamlit process: no run beyond the seeded history
        assert len(session.scalars(select(JobRun)).all()) == runs_before
    # asking again for the same window while it waits queues nothing new
    _run_check(at, token=TOKEN, actor="dora")
    assert any("already queued as request" in s.value for s in at.success)
    # a scheduler process claims it and runs the real drift job on that window
    settings = load_settings(env={"LIFECYCLE_DATABASE_URL": sqlite_url})
    ctx = RunContext(engine=engine, settings=settings, owner="scheduler-test")
    [outcome] = process_pending(ctx)
    assert outcome.status == "done", outcome.error
    with Session(engine) as session:
        run = session.scalars(select(JobRun).where(JobRun.owner == "scheduler-test")).one()
        assert run.job_name == "drift" and run.window_end == end
        report = session.scalar(select(DriftReportRow).where(
            DriftReportRow.window_start == start, DriftReportRow.window_end == end,
            DriftReportRow.kind == "data", DriftReportRow.reference_id.is_not(None)))
        assert report is not None  # written by the real drift job, not by the seed
        assert session.scalars(select(JobRequest.status)).all() == ["done"]
    engine.dispose()


# ---------------------------------------------------------------- token hardening (issue 14)


def _audits(url: str, action: str) -> list[tuple[str, dict[str, Any]]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(AuditEvent.actor, AuditEvent.details)
                               .where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()
    engine.dispose()
    return [(actor, details) for actor, details in rows]


def test_short_token_is_refused_at_settings_load(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url, days=1, predictions=None)
    use_db(sqlite_url)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", "letmein")
    at = page_test("jobs").run()
    assert not at.exception
    shown = texts(at)
    assert "The settings are invalid: LIFECYCLE_ADMIN_TOKEN is too short" in shown
    assert "secrets.token_urlsafe(24)" in shown and "letmein" not in shown
    assert not [b for b in at.button if b.label == "Acknowledge"]


def test_wrong_token_is_audited_without_the_token(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url, days=1, predictions=None)
    use_db(sqlite_url)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    alert_id = _first_open(sqlite_url)
    at = page_test("jobs").run()
    _fill(at, token="guess-0123456789-planted", actor="mallory")
    assert any("Refused: wrong admin token" in e.value for e in at.error)
    _fill(at, token="", actor="")
    denied = _audits(sqlite_url, actions.DENIED)
    assert [actor for actor, _ in denied] == ["mallory", "(not given)"]
    assert denied[0][1] == {"source": "dashboard", "attempted": "alert.acknowledge",
                            "target": f"alert:{alert_id}", "reason": "wrong token"}
    assert denied[1][1]["reason"] == "no token given"
    assert "planted" not in repr(denied)
    assert _state(sqlite_url, alert_id) == ("open", None, [])


def test_failures_from_any_session_lock_actions_for_a_while(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url, days=1, predictions=None)
    use_db(sqlite_url)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    alert_id = _first_open(sqlite_url)
    engine = make_engine(sqlite_url)
    # four wrong tokens from one caller, the fifth from a browser session: the state is shared
    for i in range(actions.MAX_FAILURES - 1):
        with pytest.raises(actions.ActionRefused, match="wrong admin token"):
            actions.acknowledge_alert(engine, alert_id, actor=f"bot{i}", token=f"guess{i}",
                                      admin_token=TOKEN, confirmed=True)
    assert actions.locked_until(engine) is None
    at = page_test("jobs").run()
    _fill(at, token="guess-in-the-page")
    assert any("Refused: wrong admin token" in e.value for e in at.error)
    until = actions.locked_until(engine)
    assert until is not None
    assert timedelta(minutes=9) < until - datetime.now(UTC) <= actions.FAILURE_WINDOW

    # now even the right token is refused, in a new session, without being checked
    at = page_test("jobs").run()
    _fill(at, token=TOKEN, actor="alice")
    assert any("too many wrong admin tokens (5 within 10 minutes)" in e.value
               for e in at.error)
    with pytest.raises(actions.ActionRefused, match="locked until"):
        actions.acknowledge_alert(engine, alert_id, actor="alice", token=TOKEN,
                                  admin_token=TOKEN, confirmed=True)
    assert _state(sqlite_url, alert_id) == ("open", None, [])
    throttled = _audits(sqlite_url, actions.THROTTLED)
    assert [actor for actor, _ in throttled] == ["alice", "alice"]
    assert len(_audits(sqlite_url, actions.DENIED)) == actions.MAX_FAILURES

    # the lock lifts once the failures are older than the window
    with engine.begin() as conn:
        conn.execute(AuditEvent.__table__.update()
                     .values(ts=datetime.now(UTC) - actions.FAILURE_WINDOW
                             - timedelta(seconds=1)))
    assert actions.locked_until(engine) is None
    actions.acknowledge_alert(engine, alert_id, actor="alice", token=TOKEN,
                              admin_token=TOKEN, confirmed=True)
    engine.dispose()
    assert _state(sqlite_url, alert_id)[:2] == ("acknowledged", "alice")


def test_plain_http_on_a_public_address_is_warned_about(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url, days=1, predictions=None)
    use_db(sqlite_url)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", TOKEN)
    at = page_test("jobs").run()
    assert not any("plain HTTP" in w.value for w in at.warning)  # 127.0.0.1 by default
    monkeypatch.setenv("LIFECYCLE_DASHBOARD_HOST", "0.0.0.0")
    at = page_test("jobs").run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "plain HTTP" in w.value]
    assert "served over plain HTTP on 0.0.0.0" in warning and "sslCertFile" in warning
    assert [b for b in at.button if b.label == "Acknowledge"]  # still offered, with a warning
    monkeypatch.delenv("LIFECYCLE_ADMIN_TOKEN")
    at = page_test("jobs").run()  # read-only: no action, no warning
    assert not any("plain HTTP" in w.value for w in at.warning)


@pytest.mark.parametrize(("host", "cert", "warned"), [
    ("127.0.0.1", None, False), ("127.8.9.10", None, False), ("::1", None, False),
    ("[::1]", None, False), ("localhost", None, False), ("0.0.0.0", None, True),
    ("::", None, True), ("", None, True), ("10.1.2.3", None, True),
    ("dashboard.example.com", None, True), ("0.0.0.0", "/etc/tls/cert.pem", False),
])
def test_plain_http_warning_rule(host: str, cert: str | None, warned: bool) -> None:
    assert (actions.plain_http_warning(host, cert) is not None) is warned


def test_cli_prints_the_warning_at_start(
        sqlite_url: str, tmp_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from click.testing import CliRunner

    from lifecycle.cli import main

    started: list[list[str]] = []

    def execve(path: str, args: list[str], env: dict[str, str]) -> None:
        started.append(args)  # instead of replacing this process with Streamlit
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", execve)
    env = {"LIFECYCLE_DATABASE_URL": sqlite_url, "LIFECYCLE_ADMIN_TOKEN": TOKEN}
    result = CliRunner().invoke(main, ["dashboard", "--host", "0.0.0.0"], env=env)
    assert result.exit_code == 0, result.output
    assert "WARNING: Admin actions are served over plain HTTP on 0.0.0.0" in result.output
    result = CliRunner().invoke(main, ["dashboard"], env=env)  # 127.0.0.1
    assert "WARNING" not in result.output
    result = CliRunner().invoke(main, ["dashboard", "--host", "0.0.0.0"],
                                env={"LIFECYCLE_DATABASE_URL": sqlite_url})  # read-only
    assert "WARNING" not in result.output
    assert len(started) == 3 and "0.0.0.0" in started[0]

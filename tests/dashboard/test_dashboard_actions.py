"""Actions: refused without the admin token, effective and audited with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from dashboard_support import page_test, seed, texts
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.dashboard import actions
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import Alert, AuditEvent

TOKEN = "s3cret-token"


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


def test_run_check_now_runs_the_real_job_and_is_audited(
        sqlite_url: str, use_db: Callable[[str], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    from lifecycle.seed import DEFAULT_MODELS, seed_reference
    from lifecycle.storage.tables import DriftReport, JobRun

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
    at.text_input(key="check_actor").input("dora")
    at.text_input(key="check_token").input("wrong")
    at.checkbox(key="check_confirm").check()
    [b for b in at.button if b.label == "Run check"][0].click().run()
    assert any("wrong admin token" in e.value for e in at.error)
    # the submitted form comes back empty: the token is never left filled in
    assert at.text_input(key="check_token").value == ""
    assert at.checkbox(key="check_confirm").value is False
    with Session(engine) as session:
        assert not session.scalars(select(JobRun).where(JobRun.owner == "dashboard:dora")).all()

    at.text_input(key="check_actor").input("dora")
    at.text_input(key="check_token").input(TOKEN)
    at.checkbox(key="check_confirm").check()
    [b for b in at.button if b.label == "Run check"][0].click().run()
    assert not at.exception
    assert any("drift check of churn" in s.value and "dora" in s.value for s in at.success)
    with Session(engine) as session:
        audit = session.execute(select(AuditEvent.actor, AuditEvent.details)
                                .where(AuditEvent.action == "drift.check_now")).one()
        start = datetime.fromisoformat(audit[1]["window_start"])
        end = datetime.fromisoformat(audit[1]["window_end"])
        assert end - start == timedelta(hours=1) and end <= datetime.now(UTC)
        run = session.scalars(select(JobRun).where(JobRun.owner == "dashboard:dora")).one()
        assert run.job_name.startswith("drift") and run.window_end == end
        report = session.scalar(select(DriftReport).where(
            DriftReport.window_start == start, DriftReport.window_end == end,
            DriftReport.kind == "data", DriftReport.reference_id.is_not(None)))
        assert report is not None  # written by the real drift job, not by the seed
    engine.dispose()
    assert audit[0] == "dora" and audit[1]["status"] == run.status


def test_latest_window_is_aligned() -> None:
    from datetime import timedelta

    now = datetime(2026, 3, 1, 10, 17, tzinfo=UTC)
    assert actions.latest_window(timedelta(hours=1), now) == (
        datetime(2026, 3, 1, 9, tzinfo=UTC), datetime(2026, 3, 1, 10, tzinfo=UTC))
    assert actions.latest_window(timedelta(days=1), now) == (
        datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    # Same windows as the scheduler, including multi-day sizes and a delay.
    from lifecycle.windows import latest_closed

    for size, delay in ((timedelta(days=7), timedelta(0)), (timedelta(hours=6),
                                                            timedelta(minutes=30))):
        expected = latest_closed(now, size, delay)
        assert actions.latest_window(size, now, delay) == (expected.start, expected.end)

"""Alert delivery to a real local HTTP server: received, retried with backoff, recorded,
never blocking the caller, and the URL's secret never stored."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from lifecycle.alerts.delivery import AlertDispatcher
from lifecycle.config import Settings
from lifecycle.jobs.runner import run_window
from lifecycle.storage.tables import AlertDelivery
from tests.integration.scheduler import jobfns

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


def body(url: str, retries: int = 3) -> str:
    return f"""
[scheduler]
webhook_url = "{url}"
webhook_retries = {retries}
webhook_backoff_s = 0.01
webhook_timeout_s = 5
[scheduler.jobs]
rec = {{ function = "tests.integration.scheduler.jobfns:record", alerts = "drift" }}
[models.drifty.schedule.rec]
every = "1h"
"""


def deliveries(engine: Engine) -> list[tuple[str, int, str, int | None, str | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            select(AlertDelivery.channel, AlertDelivery.attempt, AlertDelivery.status,
                   AlertDelivery.status_code, AlertDelivery.error)
            .order_by(AlertDelivery.id))]


def run_drifty(engine: Engine, settings: Settings, dispatcher: AlertDispatcher, i: int = 0
               ) -> None:
    result = run_window("rec", engine, settings, "drifty", T0 + i * H, T0 + (i + 1) * H,
                        clock=lambda: T0 + (i + 2) * H, dispatcher=dispatcher)
    assert result.status == "done", result.error


def test_webhook_receives_the_alert_off_the_callers_thread(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings], sink: Any
) -> None:
    jobfns.create_table(engine)
    settings = make_settings(db_url, body(sink.url))
    sink.delay_s = 0.5  # a slow endpoint
    dispatcher = AlertDispatcher(engine, settings, background=True)
    run_drifty(engine, settings, dispatcher)
    assert sink.received == []  # the job finished before the slow webhook answered
    assert dispatcher.flush(timeout=30)
    run_drifty(engine, settings, dispatcher, 1)  # still drifting: deduplicated, no new post
    dispatcher.close(timeout=30)
    assert len(sink.received) == 1
    posted = sink.received[0]["json"]
    assert posted["model"] == "drifty" and posted["kind"] == "data_drift"
    assert posted["action"] == "opened" and posted["severity"] == "critical"
    assert posted["text"].startswith("[lifecycle] CRITICAL: drifty: data drift")
    assert deliveries(engine) == [("log", 1, "sent", None, None),
                                  ("webhook", 1, "sent", 200, None)]


def test_failing_webhook_is_retried_and_every_attempt_recorded(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings], sink: Any
) -> None:
    jobfns.create_table(engine)
    sink.statuses = [500, 503]
    settings = make_settings(db_url, body(sink.url))
    run_drifty(engine, settings, AlertDispatcher(engine, settings, background=False))
    rows = deliveries(engine)
    assert [(c, a, s, code) for c, a, s, code, _ in rows] == [
        ("log", 1, "sent", None), ("webhook", 1, "failed", 500),
        ("webhook", 2, "failed", 503), ("webhook", 3, "sent", 200)]
    assert len(sink.received) == 3
    assert all("s3cr3tTOKEN" not in (err or "") for *_, err in rows)


def test_webhook_gives_up_after_retries_and_does_not_retry_client_errors(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings], sink: Any
) -> None:
    jobfns.create_table(engine)
    settings = make_settings(db_url, body(sink.url, retries=2))
    dispatcher = AlertDispatcher(engine, settings, background=False)
    sink.statuses = [500, 500, 500]
    run_drifty(engine, settings, dispatcher)
    sink.statuses = [404]
    run_drifty(engine, settings, dispatcher, 1)  # deduplicated: nothing posted
    webhook = [(a, s, code) for c, a, s, code, _ in deliveries(engine) if c == "webhook"]
    assert webhook == [(1, "failed", 500), (2, "failed", 500), (3, "failed", 500)]


def test_unreachable_webhook_is_recorded_at_delivery_time(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    jobfns.create_table(engine)
    settings = make_settings(db_url, body(f"http://127.0.0.1:{port}/hook/s3cr3tTOKEN", 1))
    run_drifty(engine, settings, AlertDispatcher(engine, settings, background=False))
    webhook = [r for r in deliveries(engine) if r[0] == "webhook"]
    assert [(a, s, code) for _, a, s, code, _ in webhook] == [(1, "failed", None),
                                                              (2, "failed", None)]
    assert all("refused" in (err or "").lower() for *_, err in webhook)
    assert all("s3cr3tTOKEN" not in (err or "") for *_, err in webhook)

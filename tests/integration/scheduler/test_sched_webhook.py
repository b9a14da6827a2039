"""Alert delivery to a real local HTTP server: received, retried with backoff, recorded,
never blocking the caller, redirects not followed, plain http refused unless allowed, and the
URL's secret never stored or logged."""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from lifecycle.alerts.delivery import AlertDispatcher
from lifecycle.config import Settings
from lifecycle.errors import ConfigError
from lifecycle.jobs.runner import run_window
from lifecycle.storage.tables import AlertDelivery
from tests.integration.scheduler import jobfns

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


def body(url: str, retries: int = 3, allow_http: bool = True) -> str:
    return f"""
[scheduler]
webhook_url = "{url}"
webhook_allow_http = {str(allow_http).lower()}
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


def test_plain_http_webhook_is_refused_at_load_unless_allowed(
    db_url: str, make_settings: Callable[..., Settings]
) -> None:
    url = "http://hooks.example.com/hooks/s3cr3tTOKEN?token=s3cr3tQUERY"
    with pytest.raises(ConfigError) as err:
        make_settings(db_url, body(url, allow_http=False))
    message = str(err.value)
    assert "scheduler.webhook_url" in message and "webhook_allow_http = true" in message
    assert "https://" in message and "s3cr3t" not in message
    with pytest.raises(ConfigError, match="LIFECYCLE_WEBHOOK_URL.*webhook_allow_http"):
        make_settings(db_url, "", env={"LIFECYCLE_WEBHOOK_URL": url})
    assert make_settings(db_url, body(url)).scheduler.webhook_allow_http is True
    https = make_settings(db_url, body(url.replace("http:", "https:"), allow_http=False))
    assert https.scheduler.webhook_allow_http is False


def test_plain_http_built_in_code_is_not_posted(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings], sink: Any
) -> None:
    jobfns.create_table(engine)
    loaded = make_settings(db_url, body(sink.url))
    settings = dataclasses.replace(
        loaded, scheduler=dataclasses.replace(loaded.scheduler, webhook_allow_http=False))
    run_drifty(engine, settings, AlertDispatcher(engine, settings, background=False))
    assert sink.received == []
    webhook = [r for r in deliveries(engine) if r[0] == "webhook"]
    assert [(a, s, code) for _, a, s, code, _ in webhook] == [(1, "failed", None)]
    assert "webhook_allow_http" in (webhook[0][4] or "")


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_is_not_a_delivery(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings], sink: Any,
    status: int, caplog: pytest.LogCaptureFixture,
) -> None:
    jobfns.create_table(engine)
    url = sink.url + "?token=s3cr3tQUERY"
    sink.statuses = [status]
    sink.location = sink.url.rsplit("/", 2)[0] + "/moved/s3cr3tMOVED?token=s3cr3tLOCATION"
    settings = make_settings(db_url, body(url))
    with caplog.at_level(logging.DEBUG, logger="lifecycle"):
        run_drifty(engine, settings, AlertDispatcher(engine, settings, background=False))
    assert [r["path"] for r in sink.received] == ["/hooks/T0/s3cr3tTOKEN?token=s3cr3tQUERY"]
    webhook = [r for r in deliveries(engine) if r[0] == "webhook"]
    # failed with the 3xx status and where it pointed, and not retried (same answer next time)
    assert [(a, s, code) for _, a, s, code, _ in webhook] == [(1, "failed", status)]
    error = webhook[0][4] or ""
    assert f"HTTP {status} redirect to http://127.0.0.1:" in error and "not followed" in error
    assert "s3cr3t" not in error
    assert "s3cr3t" not in caplog.text and "redirect" in caplog.text

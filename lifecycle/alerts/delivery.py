"""Delivering alerts: to the log (always) and to an optional webhook (JSON POST).

The webhook is posted from a background thread with a bounded queue, so a slow or dead
endpoint never blocks the scheduler. Each attempt is recorded in ``alert_deliveries`` (channel,
attempt, status, HTTP status code, error). Failures are retried with exponential backoff
(``webhook_backoff_s * 2**(attempt - 1)``, at most 60 s between attempts) on connection errors,
timeouts, HTTP 408, 429 and 5xx; other 4xx answers are not retried (the request itself is wrong).

A redirect is not a delivery: a 3xx answer is recorded as a failed attempt with its status and
(redacted) ``Location`` and is not followed (following it would re-send the alert, and a
``POST`` turned into a ``GET`` by a 301/302 would look delivered) nor retried (it is the same
answer next time: point ``webhook_url`` at the final URL). A plain ``http://`` URL is refused
unless ``[scheduler] webhook_allow_http = true`` (checked when settings load, and again here
for settings built in code).

The URL's path, query and user info often hold a token: they are never logged or stored
(:func:`lifecycle.config.schedules.redact_webhook_url`), nor is a redirect's ``Location``.

The payload has a ``text`` field (so Slack / Mattermost incoming webhooks display it as is)
plus the structured alert.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, insert

from lifecycle import __version__
from lifecycle.alerts.policy import AlertChange
from lifecycle.config import Settings
from lifecycle.config.schedules import redact_webhook_url
from lifecycle.storage.tables import AlertDelivery
from lifecycle.storage.types import utcnow
from lifecycle.windows import window_from_key

logger = logging.getLogger("lifecycle.alerts")

QUEUE_SIZE = 1000
MAX_BACKOFF_S = 60.0
_STOP = object()


def alert_text(change: AlertChange) -> str:
    """The one-line text of a delivered change. A firing alert says what fires; a resolved
    one says what cleared and when, not the firing text again (which stays in ``message``)."""
    if change.action != "resolved":
        return f"[lifecycle] {change.severity.upper()}: {change.message}"
    what = change.kind.replace("_", " ") + (
        f" on feature {change.feature!r}" if change.feature else "")
    key, window = change.details.get("resolved_window"), ""
    if isinstance(key, str):
        with contextlib.suppress(ValueError):  # an odd key: say no window
            window = f" in window {window_from_key(key)}"
    times = "once" if change.occurrences == 1 else f"{change.occurrences} times"
    return (f"[lifecycle] RESOLVED: {change.model}: {what} is back to normal{window} "
            f"(alert #{change.alert_id}, {change.severity}, fired {times})")


def payload(change: AlertChange) -> dict[str, Any]:
    """The JSON body posted to the webhook."""
    return {
        "text": alert_text(change),
        "source": "lifecycle",
        "version": __version__,
        "alert_id": change.alert_id,
        "model": change.model,
        "kind": change.kind,
        "feature": change.feature,
        "severity": change.severity,
        "status": change.status,
        "action": change.action,
        "occurrences": change.occurrences,
        "message": change.message,
        "details": change.details,
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Do not follow redirects: urllib then raises HTTPError with the 3xx answer."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _retryable(status_code: int | None) -> bool:
    return status_code is None or status_code in (408, 429) or status_code >= 500


class AlertDispatcher:
    """Delivers alert changes; webhook posts happen off the caller's thread.

    Parameters
    ----------
    engine, settings
        Where attempts are recorded; webhook URL, timeout, retries and backoff.
    background
        False delivers inline (manual runs, tests); True (the scheduler) uses a worker thread.
    sleep
        Injected for tests.
    """

    def __init__(self, engine: Engine, settings: Settings, *, background: bool = True,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine = engine
        self.settings = settings
        self.background = background
        self._sleep = sleep
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    # ----------------------------------------------------------------- public
    def submit(self, change: AlertChange) -> None:
        """Log the change now; queue the webhook post. Never raises."""
        try:
            self._log(change)
        except Exception:  # noqa: BLE001 - delivery must never break the job
            logger.exception("could not record log delivery of alert %s", change.alert_id)
        url = self.settings.scheduler.webhook_url
        if url is None or not self.settings.model(change.model).alerts.webhook:
            return
        if not self.background:
            self._post_with_retries(change)
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait(change)
        except queue.Full:
            logger.error("webhook queue full (%d); alert %s not posted", QUEUE_SIZE,
                         change.alert_id)
            self._record(change.alert_id, "webhook", 0, "dropped", None, "queue full")

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued post has finished (or ``timeout``); True when drained."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self, timeout: float | None = 30.0) -> None:
        """Drain (up to ``timeout``) and stop the worker."""
        drained = self.flush(timeout)
        if not drained:
            logger.warning("%d webhook deliveries still pending at shutdown were not sent",
                           self._queue.unfinished_tasks)
        self._closed.set()
        if self._thread is not None:
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                pass
            self._thread.join(timeout=1.0)

    # ----------------------------------------------------------------- internals
    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._worker, name="lifecycle-webhook",
                                                daemon=True)
                self._thread.start()

    def _worker(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                self._post_with_retries(item)
            except Exception:  # noqa: BLE001 - the worker must survive anything
                logger.exception("webhook worker error")
            finally:
                self._queue.task_done()

    def _log(self, change: AlertChange) -> None:
        level = logging.INFO if change.action == "resolved" else (
            logging.ERROR if change.severity == "critical" else logging.WARNING)
        logger.log(level, "alert %s %s [%s] %s", change.alert_id, change.action,
                   change.severity, change.message)
        self._record(change.alert_id, "log", 1, "sent", None, None)

    def _post_with_retries(self, change: AlertChange) -> bool:
        cfg = self.settings.scheduler
        url = cfg.webhook_url
        assert url is not None
        if urllib.parse.urlsplit(url).scheme == "http" and not cfg.webhook_allow_http:
            refused = ("plain http webhook refused: use an https:// URL or set "
                       "[scheduler] webhook_allow_http = true")
            self._record(change.alert_id, "webhook", 1, "failed", None, refused)
            logger.error("webhook %s not posted for alert %s: %s", redact_webhook_url(url),
                         change.alert_id, refused)
            return False
        body = json.dumps(payload(change), default=str).encode()
        attempts = cfg.webhook_retries + 1
        for attempt in range(1, attempts + 1):
            status_code, error = self._post_once(url, body, cfg.webhook_timeout_s)
            ok = error is None
            self._record(change.alert_id, "webhook", attempt, "sent" if ok else "failed",
                         status_code, error)
            if ok:
                return True
            if not _retryable(status_code) or attempt == attempts or self._closed.is_set():
                logger.error("webhook %s failed for alert %s after %d attempt(s): %s",
                             redact_webhook_url(url), change.alert_id, attempt, error)
                return False
            self._sleep(min(MAX_BACKOFF_S, cfg.webhook_backoff_s * 2 ** (attempt - 1)))
        return False

    @staticmethod
    def _post_once(url: str, body: bytes, timeout: float) -> tuple[int | None, str | None]:
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "User-Agent": f"lifecycle/{__version__}"},
        )
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                code = int(response.status)
            return code, None if 200 <= code < 300 else f"HTTP {code}"
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                location = exc.headers.get("Location") if exc.headers else None
                target = (redact_webhook_url(urllib.parse.urljoin(url, location)) if location
                          else "no Location")
                return exc.code, (f"HTTP {exc.code} redirect to {target} not followed: a "
                                  "redirect is not a delivery; set webhook_url to the final URL")
            return exc.code, f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return None, f"{type(exc).__name__}: {reason}".replace(url, redact_webhook_url(url))

    def _record(self, alert_id: int, channel: str, attempt: int, status: str,
                status_code: int | None, error: str | None) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(AlertDelivery).values(
                    alert_id=alert_id, channel=channel, attempt=attempt, status=status,
                    status_code=status_code, error=error,
                    created_at=utcnow(),
                ))
        except Exception:  # noqa: BLE001 - recording must not break delivery
            logger.exception("could not record delivery of alert %s", alert_id)

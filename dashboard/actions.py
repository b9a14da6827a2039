"""State-changing dashboard actions: token check, acknowledge an alert, run a check now.

No ``st.*`` calls here: the pages collect the token, the actor and the confirmation, and
these functions do the work. Every action

* is refused unless an admin token is configured (``LIFECYCLE_ADMIN_TOKEN`` /
  ``admin_token``, at least 16 characters) and the given token matches it
  (``hmac.compare_digest``, constant time);
* is throttled: a wrong token writes an ``admin.denied`` audit row (never the token), and
  after :data:`MAX_FAILURES` of them within :data:`FAILURE_WINDOW` (from any session, any
  dashboard process: the audit table is the state) every attempt is refused without checking
  the token, and audited as ``admin.throttled``, until the oldest of those failures is older
  than the window;
* needs an explicit confirmation and a non-empty actor name;
* writes an ``audit_events`` row with the actor in the same transaction as its change.

:func:`plain_http_warning` is the warning the pages show (and ``lifecycle dashboard`` prints)
when actions are offered over plain HTTP on an address other than loopback.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.errors import LifecycleError
from lifecycle.storage.tables import AuditEvent, ModelRow
from lifecycle.storage.types import utcnow
from lifecycle.windows import latest_closed

READ_ONLY_MESSAGE = (
    "Read-only: no admin token is configured. Set LIFECYCLE_ADMIN_TOKEN (or admin_token in "
    "lifecycle.toml) and restart the dashboard to enable actions."
)


#: Wrong admin tokens tolerated within :data:`FAILURE_WINDOW` before actions lock.
MAX_FAILURES = 5
#: The sliding window the failures are counted in; also the longest a lock lasts.
FAILURE_WINDOW = timedelta(minutes=10)
DENIED = "admin.denied"
THROTTLED = "admin.throttled"
#: Hosts a browser reaches only from the same machine.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class ActionRefused(LifecycleError, PermissionError):
    """The action was not authorised, not confirmed, or cannot apply to its target."""


@dataclass(frozen=True)
class ActionResult:
    """What an action did (shown to the user and kept in the audit row)."""

    action: str
    target: str
    message: str


def authorize(admin_token: str | None, given: str | None) -> None:
    """Raise :class:`ActionRefused` unless ``given`` equals the configured admin token."""
    if not admin_token:
        raise ActionRefused(READ_ONLY_MESSAGE)
    if not given or not hmac.compare_digest(given.encode("utf-8"),
                                            admin_token.encode("utf-8")):
        raise ActionRefused("wrong admin token: the action was refused and nothing changed")


def locked_until(engine: Engine, now: datetime | None = None) -> datetime | None:
    """When actions unlock, if :data:`MAX_FAILURES` wrong tokens were given within the last
    :data:`FAILURE_WINDOW` (else None). Read from ``audit_events``, so every session and
    every dashboard process sees the same state."""
    now = now or utcnow()
    with Session(engine) as session:
        recent = session.scalars(
            select(AuditEvent.ts).where(AuditEvent.action == DENIED,
                                        AuditEvent.ts > now - FAILURE_WINDOW)
            .order_by(AuditEvent.ts.desc()).limit(MAX_FAILURES)).all()
    if len(recent) < MAX_FAILURES:
        return None
    oldest = min(recent)
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return oldest + FAILURE_WINDOW


def _audit_refusal(engine: Engine, action: str, actor: str, attempted: str, target: str,
                   reason: str) -> None:
    with Session(engine) as session, session.begin():
        session.add(AuditEvent(
            actor=(actor or "").strip()[:200] or "(not given)", action=action, target=None,
            details={"source": "dashboard", "attempted": attempted, "target": target,
                     "reason": reason},
        ))


def check_admin(engine: Engine, admin_token: str | None, token: str | None, actor: str,
                confirmed: bool, attempted: str, target: str) -> str:
    """Every action's gate: a configured token, no throttle lock, the right token (a wrong
    one is audited), a confirmation and an actor name. Returns the actor as audited;
    raises :class:`ActionRefused` otherwise (nothing changed)."""
    if not admin_token:
        raise ActionRefused(READ_ONLY_MESSAGE)
    until = locked_until(engine)
    if until is not None:  # the token is not even looked at
        _audit_refusal(engine, THROTTLED, actor, attempted, target,
                       f"{MAX_FAILURES} wrong admin tokens within {FAILURE_WINDOW}")
        raise ActionRefused(
            f"too many wrong admin tokens ({MAX_FAILURES} within "
            f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes): actions are locked until "
            f"{until:%H:%M:%S} UTC; nothing changed. If that was not you, rotate "
            "LIFECYCLE_ADMIN_TOKEN")
    try:
        authorize(admin_token, token)
    except ActionRefused:
        _audit_refusal(engine, DENIED, actor, attempted, target,
                       "no token given" if not token else "wrong token")
        raise
    if not confirmed:
        raise ActionRefused("not confirmed: tick the confirmation box to proceed")
    actor = (actor or "").strip()
    if not actor:
        raise ActionRefused("say who you are: the actor name is written to the audit log")
    return actor[:200]


def acknowledge_alert(
    engine: Engine,
    alert_id: int,
    *,
    actor: str,
    token: str | None,
    admin_token: str | None,
    confirmed: bool,
) -> ActionResult:
    """Mark an open alert acknowledged by ``actor`` with the alerting layer's own state
    change and audit row (:func:`lifecycle.alerts.store.acknowledge`), in one transaction.
    Only an ``open`` alert can be acknowledged."""
    from lifecycle.alerts.store import acknowledge

    actor = check_admin(engine, admin_token, token, actor, confirmed, "alert.acknowledge",
                        f"alert:{alert_id}")
    try:
        with Session(engine) as session, session.begin():
            acknowledge(session, alert_id, actor=actor, now=utcnow())
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    return ActionResult("alert.acknowledge", f"alert:{alert_id}",
                        f"alert {alert_id} acknowledged by {actor}")


def run_check_now(
    engine: Engine,
    settings: Any,
    model: str,
    *,
    actor: str,
    token: str | None,
    admin_token: str | None,
    confirmed: bool,
) -> ActionResult:
    """Queue the drift check of ``model`` on its latest complete window for a scheduler
    process (:mod:`lifecycle.jobs.requests`), and audit who asked for it.

    Nothing long runs in the Streamlit process: the check, its alert evaluation and any webhook
    delivery run in the scheduler that claims the request, through the job runner (lease,
    ``job_runs`` row), exactly like a scheduled window. Asking twice for the same window queues
    once.
    """
    from lifecycle.jobs.plan import manual_job
    from lifecycle.jobs.queue import enqueue

    actor = check_admin(engine, admin_token, token, actor, confirmed, "drift.check_now",
                        f"model:{model}")
    with Session(engine) as session:
        model_id = session.scalar(select(ModelRow.id).where(ModelRow.name == model))
    if model_id is None:
        raise ActionRefused(f"unknown model {model!r} (refresh the page)")
    try:
        schedule = manual_job(settings, "drift", model).schedule
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    now = utcnow()
    window = latest_closed(now, schedule.window, schedule.delay)
    queued = enqueue(engine, "drift", model, requested_by=f"dashboard:{actor}", now=now,
                     window=window)
    with Session(engine) as session, session.begin():
        session.add(AuditEvent(
            ts=now, actor=actor, action="drift.check_now", model_id=model_id,
            target=f"model:{model}",
            details={"source": "dashboard", "window_start": window.start.isoformat(),
                     "window_end": window.end.isoformat(), "request_id": queued.request_id,
                     "already_queued": not queued.created},
        ))
    shown = f"{window.start:%Y-%m-%d %H:%M} to {window.end:%H:%M} UTC"
    how = "queued" if queued.created else "already queued"
    return ActionResult("drift.check_now", f"model:{model}",
                        f"drift check of {model} for {shown} {how} as request "
                        f"{queued.request_id} (requested by {actor}); a scheduler process runs "
                        "it within scheduler.request_poll_seconds (`lifecycle jobs --requests`)")


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable only from this machine (127.0.0.0/8, ::1,
    localhost); an empty host, ``0.0.0.0`` and ``::`` listen on every interface."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def plain_http_warning(host: str | None, ssl_cert_file: str | None) -> str | None:
    """The warning to show where actions are offered, or None when they are safe enough:
    served on a loopback address, or over HTTPS (Streamlit's ``server.sslCertFile``)."""
    if ssl_cert_file or (host is not None and is_loopback(host)):
        return None
    shown = host or "every interface"
    return (
        f"Admin actions are served over plain HTTP on {shown}: the admin token crosses the "
        "network unencrypted and can be read on the way. Serve the dashboard over HTTPS (a "
        "reverse proxy with TLS, or Streamlit's server.sslCertFile and server.sslKeyFile), "
        "or bind it to 127.0.0.1 (dashboard.host)."
    )

"""State-changing dashboard actions: token check, acknowledge an alert, run a check now.

No ``st.*`` calls here: the pages collect the token, the actor and the confirmation, and
these functions do the work. Every action

* is refused unless an admin token is configured (``LIFECYCLE_ADMIN_TOKEN`` /
  ``admin_token``) and the given token matches it (``hmac.compare_digest``, constant time);
* needs an explicit confirmation and a non-empty actor name;
* writes an ``audit_events`` row with the actor in the same transaction as its change.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.errors import LifecycleError
from lifecycle.storage.tables import AuditEvent, Model
from lifecycle.storage.types import utcnow

READ_ONLY_MESSAGE = (
    "Read-only: no admin token is configured. Set LIFECYCLE_ADMIN_TOKEN (or admin_token in "
    "lifecycle.toml) and restart the dashboard to enable actions."
)


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


def _check(admin_token: str | None, token: str | None, actor: str, confirmed: bool) -> str:
    authorize(admin_token, token)
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

    actor = _check(admin_token, token, actor, confirmed)
    try:
        with Session(engine) as session, session.begin():
            acknowledge(session, alert_id, actor=actor, now=utcnow())
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    return ActionResult("alert.acknowledge", f"alert:{alert_id}",
                        f"alert {alert_id} acknowledged by {actor}")


def latest_window(
    size: timedelta, now: datetime, delay: timedelta = timedelta(0)
) -> tuple[datetime, datetime]:
    """The last complete window of ``size``, aligned exactly as the scheduler aligns it
    (:func:`lifecycle.windows.latest_closed`), so a manual run never creates an odd window."""
    from lifecycle.windows import latest_closed

    window = latest_closed(now, size, delay)
    return window.start, window.end


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
    """Run the drift check of ``model`` on its latest complete window, through the job runner
    (lease, ``job_runs`` row, alert evaluation), and audit who asked for it."""
    from lifecycle.jobs.plan import manual_job
    from lifecycle.jobs.runner import run_window

    actor = _check(admin_token, token, actor, confirmed)

    with Session(engine) as session:
        model_id = session.scalar(select(Model.id).where(Model.name == model))
    if model_id is None:
        raise ActionRefused(f"unknown model {model!r} (refresh the page)")
    try:
        schedule = manual_job(settings, "drift", model).schedule
    except LifecycleError as exc:
        raise ActionRefused(str(exc)) from None
    start, end = latest_window(schedule.window, utcnow(), schedule.delay)
    result = run_window("drift", engine, settings, model, start, end,
                        owner=f"dashboard:{actor}")
    status, error = str(getattr(result, "status", "unknown")), getattr(result, "error", None)
    with Session(engine) as session, session.begin():
        session.add(AuditEvent(
            actor=actor, action="drift.check_now", model_id=model_id, target=f"model:{model}",
            details={"source": "dashboard", "window_start": start.isoformat(),
                     "window_end": end.isoformat(), "status": status, "error": error,
                     "run_id": getattr(result, "run_id", None)},
        ))
    window = f"{start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC"
    if error:
        raise ActionRefused(f"the drift check of {model} ({window}) {status}: {error}")
    return ActionResult("drift.check_now", f"model:{model}",
                        f"drift check of {model} for {window}: {status} "
                        f"(requested by {actor})")

"""The ``model_load_failed`` alert: a version an alias points to did not load.

One live alert per model and alias (the alert's feature is the alias), raised through the
alert store (dedup, cooldown) and delivered like every alert (log, webhook); resolved when a
version of that alias loads again. Never raises: a failure here is logged, and serving goes
on with the model it has.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.alerts.delivery import AlertDispatcher
from lifecycle.alerts.policy import Decision
from lifecycle.alerts.store import apply_decision
from lifecycle.config import Settings
from lifecycle.storage.models_repo import get_or_create_model

KIND = "model_load_failed"
log = logging.getLogger("lifecycle.serving")


def _apply(engine: Engine, settings: Settings, model: str, alias: str, *, fire: bool,
           key: str, message: str, details: dict[str, str]) -> bool:
    try:
        policy = settings.model(model).alerts
        with Session(engine) as session, session.begin():
            row = get_or_create_model(session, model)
            change = apply_decision(
                session, row, kind=KIND, feature=alias,
                decision=Decision(fire=fire, clear=not fire,
                                  severity="critical" if alias == "champion" else "warning"),
                now=datetime.now(UTC), cooldown_s=policy.cooldown.total_seconds(),
                window_key=key, message=message, report_id=None, details=details)
        if change is not None and change.notify:
            AlertDispatcher(engine, settings, background=False).submit(change)
        return True
    except Exception:  # noqa: BLE001 - alerting must never stop serving
        log.exception("could not record the %s alert of model %r (%s)", KIND, model, alias)
        return False


def raise_load_alert(engine: Engine, settings: Settings, model: str, alias: str,
                     version: str, serving: str | None, error: str) -> bool:
    """Open (or update) the alert; True when it was recorded."""
    kept = (f"version {serving} keeps serving" if serving is not None
            else "nothing is shadowed meanwhile")
    message = (f"{model}: version {version} (alias {alias}) failed to load: {error}; {kept}. "
               f"Fix the model's artifacts or move the {alias!r} alias to a version that "
               "loads")
    return _apply(engine, settings, model, alias, fire=True, key=f"{alias}:{version}",
                  message=message, details={"alias": alias, "version": version,
                                            "error": error[:2000]})


def resolve_load_alert(engine: Engine, settings: Settings, model: str, alias: str,
                       version: str) -> bool:
    """Resolve the alert once a version of ``alias`` loaded."""
    return _apply(engine, settings, model, alias, fire=False, key=f"{alias}:{version}",
                  message=f"{model}: version {version} (alias {alias}) loaded",
                  details={"alias": alias, "version": version})

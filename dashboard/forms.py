"""The admin-action forms every page shares: the outcome of the last submit, the actor /
token / confirmation inputs, running an action, and the read-only and plain-HTTP notices.

After every submit, refused or done, the caches are cleared and the page reruns: it shows the
database as it is now, and the forms come back with the token empty and the confirmation
unticked (the actor name stays).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from lifecycle.dashboard import actions, data, ui

_FLASH = "lc_action_flash"
_CLEAR = "lc_clear_admin_inputs"
#: Key prefixes of every admin form (their token and confirmation are cleared after a submit).
PREFIXES = ("ack", "check", "promote", "rollback", "retrain")


def flash() -> None:
    """The outcome of the action submitted in the previous run (kept across its rerun)."""
    shown = st.session_state.pop(_FLASH, None)
    if shown:
        ok, message = shown
        (st.success if ok else st.error)(message)


def clear_admin_inputs() -> None:
    """After a submit, the forms come back with the token and reason empty and the
    confirmation unticked (set before the widgets exist in this run, which Streamlit
    allows); the actor name stays."""
    if st.session_state.pop(_CLEAR, False):
        for prefix in PREFIXES:
            st.session_state[f"{prefix}_token"] = ""
            st.session_state[f"{prefix}_reason"] = ""
            st.session_state[f"{prefix}_confirm"] = False


def admin_inputs(prefix: str) -> tuple[str, str, bool]:
    """Actor name, admin token (a password field, never stored) and the confirmation box."""
    actor = st.text_input("Your name (written to the audit log)", key=f"{prefix}_actor")
    token = st.text_input("Admin token", type="password", key=f"{prefix}_token")
    confirmed = st.checkbox("I confirm this action", key=f"{prefix}_confirm")
    return actor, token, confirmed


def perform(action: Callable[[], Any]) -> None:
    """Run an admin action, then clear the caches and rerun the page with its outcome: the
    lists show the database as it is now (also after a refusal), and the token is never left
    filled in."""
    try:
        shown = (True, action().message)
    except actions.ActionRefused as exc:
        shown = (False, f"Refused: {exc}")
    data.clear()
    st.session_state[_FLASH] = shown
    st.session_state[_CLEAR] = True
    st.rerun()


def actions_allowed(ctx: ui.Context) -> bool:
    """False (after saying so) when no admin token is configured; else True, with a warning
    when the token would cross the network over plain HTTP."""
    if not ctx.settings.admin_token:
        st.info(actions.READ_ONLY_MESSAGE)
        return False
    insecure = actions.plain_http_warning(
        st.get_option("server.address") or ctx.settings.dashboard.host,
        st.get_option("server.sslCertFile"))
    if insecure:
        st.warning(insecure)
    return True

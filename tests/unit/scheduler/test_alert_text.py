"""The one-line text of a delivered alert change (webhook ``text`` field)."""

from __future__ import annotations

from lifecycle.alerts.delivery import payload
from lifecycle.alerts.policy import AlertChange


def test_resolved_text_says_what_cleared_not_the_firing_text() -> None:
    firing = "churn: data drift verdict 'drift' for window [...]: 3/5 features drifted"
    change = AlertChange(alert_id=12, model="churn", kind="data_drift", feature="tenure",
                         severity="critical", status="resolved", action="resolved",
                         message=firing, occurrences=4,
                         details={"resolved_window": "2026-03-01T10:00:00Z/3600s"})
    body = payload(change)
    assert body["text"] == (
        "[lifecycle] RESOLVED: churn: data drift on feature 'tenure' is back to normal in "
        "window [2026-03-01 10:00:00, 2026-03-01 11:00:00) UTC (alert #12, critical, "
        "fired 4 times)")
    assert firing not in body["text"] and body["message"] == firing
    once = AlertChange(alert_id=1, model="m", kind="performance", feature=None,
                       severity="warning", status="resolved", action="resolved",
                       message="x", occurrences=1, details={})
    assert payload(once)["text"] == (
        "[lifecycle] RESOLVED: m: performance is back to normal (alert #1, warning, "
        "fired once)")
    firing_change = AlertChange(alert_id=1, model="m", kind="performance", feature=None,
                                severity="critical", status="open", action="opened",
                                message="m: degraded")
    assert payload(firing_change)["text"] == "[lifecycle] CRITICAL: m: degraded"

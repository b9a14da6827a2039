"""Alert policy (pure): persistence K of N, severity, auto-resolve, retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifecycle.alerts.delivery import payload
from lifecycle.alerts.policy import AlertChange, decide, open_key
from lifecycle.config import JobSchedule
from lifecycle.jobs.runner import retry_at

SEV = {"warning": "warning", "drift": "critical"}


def d(signals: list[str | None], k: int = 1, n: int = 1, resolve_after: int = 1,
      fire_on: tuple[str, ...] = ("drift",)):  # type: ignore[no-untyped-def]
    return decide(signals, fire_on=fire_on, k=k, n=n, resolve_after=resolve_after, severity=SEV)


def test_one_of_one_fires_on_first_bad_window() -> None:
    assert d(["drift"]).fire and d(["drift"]).severity == "critical"
    assert not d(["warning"]).fire  # warnings do not fire unless listed in fire_on
    assert d(["warning"], fire_on=("warning", "drift")).severity == "warning"


def test_persistence_two_of_three_ignores_a_single_noisy_window() -> None:
    assert not d(["drift", "clear", "clear"], k=2, n=3).fire
    assert d(["drift", "clear", "drift"], k=2, n=3).fire
    assert not d(["drift", "clear", "clear", "drift"], k=2, n=3).fire  # outside the last 3
    assert not d(["clear", "drift", "drift"], k=2, n=3).fire  # the latest window is clear


def test_insufficient_data_neither_counts_nor_clears() -> None:
    assert d([None, None, "drift", "drift"], k=2, n=2).fire
    assert not d([None]).clear and not d([None]).fire


def test_severity_is_the_highest_among_firing_windows() -> None:
    r = d(["warning", "drift", "warning"], k=2, n=3, fire_on=("warning", "drift"))
    assert r.fire and r.severity == "critical"


def test_resolve_needs_resolve_after_clear_windows() -> None:
    assert d(["clear", "drift"]).clear
    assert not d(["clear", "drift"], resolve_after=2).clear
    assert d(["clear", "clear", "drift"], resolve_after=2).clear
    assert d(["warning"]).clear  # non-firing counts as clear


def test_open_key_and_notify_flags() -> None:
    assert open_key(7, "data_drift", None) == "7:data_drift:"
    assert open_key(7, "data_drift", "age") == "7:data_drift:age"
    base = dict(alert_id=1, model="m", kind="data_drift", feature=None, severity="critical",
                status="open", message="x")
    assert AlertChange(action="opened", **base).notify  # type: ignore[arg-type]
    assert not AlertChange(action="updated", **base).notify  # type: ignore[arg-type]
    assert not AlertChange(action="reopened", **base).notify  # type: ignore[arg-type]
    resolved = AlertChange(action="resolved", **base)  # type: ignore[arg-type]
    assert resolved.notify and not resolved.firing
    body = payload(resolved)
    assert body["text"].startswith("[lifecycle] RESOLVED") and body["alert_id"] == 1


def test_retry_backoff_doubles_then_gives_up() -> None:
    sched = JobSchedule(kind="k", window=timedelta(hours=1), every=timedelta(hours=1),
                        max_attempts=3, retry_backoff=timedelta(minutes=1))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_at(sched, 1, now) == now + timedelta(minutes=1)
    assert retry_at(sched, 2, now) == now + timedelta(minutes=2)
    assert retry_at(sched, 3, now) is None

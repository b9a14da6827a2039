"""Alert policy, pure: from a history of verdicts to "fire", "clear" or "no change".

Signals
-------
Each window's verdict is mapped to a *signal* by the evaluator: ``"drift"`` or ``"warning"``
(possibly firing), ``"clear"``, or ``None`` (not enough data: ignored entirely, it neither
counts toward persistence nor clears an alert).

Rules (defaults in :class:`lifecycle.config.AlertSettings`)
-----------------------------------------------------------
* **Persistence** ``K of N``: fire when the latest known signal is in ``fire_on`` (default
  ``("drift",)``) and at least K of the last N known signals are. ``1 of 1`` alerts on the
  first bad window; ``2 of 3`` ignores a single noisy window.
* **Severity**: the highest severity among the firing signals in those N windows, mapped by
  ``severity`` (default warning -> ``warning``, drift -> ``critical``).
* **Auto-resolve**: an alert resolves when the last ``resolve_after`` known signals are all
  non-firing.
* **Dedup** and **cooldown** are enforced by the store (:mod:`lifecycle.alerts.store`): one
  live alert per (model, kind, feature) while open or acknowledged; a signal that returns within
  ``cooldown`` of the resolve reopens the same alert silently instead of notifying again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}

#: What a change means for notification.
OPENED, REOPENED, ESCALATED, UPDATED, RESOLVED = (
    "opened", "reopened", "escalated", "updated", "resolved",
)
NOTIFY_ACTIONS = frozenset({OPENED, ESCALATED, RESOLVED})


@dataclass(frozen=True)
class Decision:
    """What the policy says about the latest window."""

    fire: bool
    clear: bool
    severity: str | None = None
    firing_windows: int = 0
    considered: int = 0


def decide(
    signals: Sequence[str | None],
    *,
    fire_on: Sequence[str],
    k: int,
    n: int,
    resolve_after: int,
    severity: dict[str, str] | Any,
) -> Decision:
    """Apply persistence and auto-resolve to ``signals`` (newest first).

    Examples
    --------
    >>> decide(["drift", "clear", "drift"], fire_on=["drift"], k=2, n=3, resolve_after=1,
    ...        severity={"drift": "critical", "warning": "warning"}).fire
    True
    >>> decide(["clear", "drift"], fire_on=["drift"], k=1, n=1, resolve_after=1,
    ...        severity={}).clear
    True
    """
    known = [s for s in signals if s is not None]
    recent = known[:n]
    firing = [s for s in recent if s in fire_on]
    fire = bool(recent) and recent[0] in fire_on and len(firing) >= k
    sev: str | None = None
    if fire:
        sev = max((severity.get(s, "warning") for s in firing),
                  key=lambda x: SEVERITY_RANK.get(x, 1))
    latest = known[:resolve_after]
    clear = (not fire) and len(latest) >= resolve_after and all(
        s not in fire_on for s in latest
    )
    return Decision(fire=fire, clear=clear, severity=sev, firing_windows=len(firing),
                    considered=len(recent))


@dataclass(frozen=True)
class AlertChange:
    """What happened to one alert after evaluating one window."""

    alert_id: int
    model: str
    kind: str
    feature: str | None
    severity: str
    status: str
    action: str
    message: str
    occurrences: int = 1
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def notify(self) -> bool:
        """Opened, escalated and resolved alerts are delivered; repeats are not."""
        return self.action in NOTIFY_ACTIONS

    @property
    def firing(self) -> bool:
        return self.action != RESOLVED


def open_key(model_id: int, kind: str, feature: str | None) -> str:
    """The dedup key, unique among live (open or acknowledged) alerts."""
    return f"{model_id}:{kind}:{feature or ''}"

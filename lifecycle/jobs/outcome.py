"""What a job function returns for a window with nothing to check.

An empty window (no served traffic) is a normal outcome, not a failure: the job returns
:class:`EmptyWindow` (or any result with ``empty = True``), and the runner records the run as
``empty`` and releases the window as done - no retry, no red.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.states import EMPTY

__all__ = ["EMPTY", "EmptyWindow", "is_empty"]


@dataclass(frozen=True)
class EmptyWindow:
    """A window that holds nothing to check, and why."""

    reason: str
    empty: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": EMPTY, "reason": self.reason}


def is_empty(result: Any) -> bool:
    """True for a job result that says its window had nothing to check."""
    return getattr(result, "empty", False) is True

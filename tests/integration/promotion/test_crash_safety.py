"""Crash safety of alias moves: a process that dies between two registry writes leaves a
pending intent, and the reconciler repairs it to the full new assignment (target still there)
or the full old one (target gone), never a model without a champion. Real MLflow store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from promotion_support import MODEL, Lab, fitted
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.errors import RegistryError
from lifecycle.jobs.promote import has_pending, promote, reconcile_promotions, rollback
from lifecycle.jobs.reconcile import reconcile_pending
from lifecycle.jobs.runner import RunContext
from lifecycle.states import CHALLENGER, CHAMPION, DONE, FAILED, PENDING
from lifecycle.storage.tables import AuditEvent, PromotionEvent
from lifecycle.storage.types import utcnow


class Crash(BaseException):
    """The process dies (BaseException: nothing in lifecycle catches it)."""


class DiesAfter:
    """The real registry, until ``writes`` alias writes have happened: then the process dies."""

    def __init__(self, inner: Any, writes: int) -> None:
        self.inner, self.left = inner, writes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _write(self) -> None:
        if self.left == 0:
            raise Crash("killed between alias moves")
        self.left -= 1

    def set_alias(self, *args: Any) -> None:
        self._write()
        self.inner.set_alias(*args)

    def delete_alias(self, *args: Any) -> None:
        self._write()
        self.inner.delete_alias(*args)


def _two_versions(lab: Lab) -> tuple[str, str]:
    return lab.register(fitted(["f0"]), CHAMPION), lab.register(fitted(["f0", "f1"]),
                                                                 CHALLENGER)


def _statuses(lab: Lab) -> list[str]:
    with Session(lab.engine) as session:
        return list(session.scalars(select(PromotionEvent.status).order_by(PromotionEvent.id)))


@pytest.mark.parametrize("writes", [1, 2])
def test_killed_mid_promotion_is_finished_by_the_reconciler(lab: Lab, writes: int) -> None:
    old, new = _two_versions(lab)
    with pytest.raises(Crash):
        promote(lab.engine, DiesAfter(lab.registry, writes), MODEL, actor="test")
    assert _statuses(lab) == [PENDING] and has_pending(lab.engine)
    half = lab.aliases()
    assert half[CHAMPION] in (old, new)  # never without a champion, even half-way
    # too recent: another process may still be moving it
    assert reconcile_promotions(lab.engine, lab.registry, now=utcnow()) == []
    closed = reconcile_promotions(lab.engine, lab.registry,
                                  now=utcnow() + timedelta(minutes=3))
    assert len(closed) == 1 and _statuses(lab) == [DONE]
    assert lab.aliases() == {CHAMPION: new, CHALLENGER: None, "previous": old}
    tags = lab.registry.version(MODEL, new).tags
    assert tags["lifecycle.status"] == CHAMPION and tags["lifecycle.reconciled"] == "true"
    assert tags["lifecycle.promoted_by"] == "test"
    assert not has_pending(lab.engine)


def test_target_gone_is_undone_to_the_old_champion(lab: Lab) -> None:
    old, new = _two_versions(lab)
    with pytest.raises(Crash):
        promote(lab.engine, DiesAfter(lab.registry, 2), MODEL, actor="test")
    assert lab.aliases()[CHAMPION] == new
    lab.registry.delete_version(MODEL, new)  # someone deleted it meanwhile
    assert lab.aliases()[CHAMPION] is None
    reconcile_promotions(lab.engine, lab.registry, now=utcnow() + timedelta(minutes=3))
    assert _statuses(lab) == [FAILED]
    assert lab.aliases()[CHAMPION] == old
    with Session(lab.engine) as session:
        audit = session.scalars(select(AuditEvent)).one()
    assert audit.action == "model.promote.reconciled" and audit.details["outcome"] == "undone"


def test_killed_mid_rollback_is_finished(lab: Lab) -> None:
    old, new = _two_versions(lab)
    promote(lab.engine, lab.registry, MODEL, actor="test")
    with pytest.raises(Crash):
        rollback(lab.engine, DiesAfter(lab.registry, 1), MODEL, actor="test")
    assert lab.aliases()[CHAMPION] == old and lab.aliases()["previous"] == old
    reconcile_promotions(lab.engine, lab.registry, now=utcnow() + timedelta(minutes=3))
    assert lab.aliases() == {CHAMPION: old, CHALLENGER: None, "previous": new}
    assert lab.registry.version(MODEL, old).tags["lifecycle.rolled_back_by"] == "test"


def test_a_new_move_waits_for_a_recent_pending_one(lab: Lab) -> None:
    _two_versions(lab)
    with pytest.raises(Crash):
        promote(lab.engine, DiesAfter(lab.registry, 1), MODEL, actor="test")
    with pytest.raises(RegistryError, match="in progress"):
        promote(lab.engine, lab.registry, MODEL, actor="someone else")
    # a stale one is finished first, then the new move runs on top of it
    later = utcnow() + timedelta(minutes=3)
    with pytest.raises(RegistryError, match="already the champion"):
        promote(lab.engine, lab.registry, MODEL, actor="someone else", clock=lambda: later)
    assert _statuses(lab) == [DONE]


def test_scheduler_poll_reconciles(lab: Lab) -> None:
    old, new = _two_versions(lab)
    with pytest.raises(Crash):
        promote(lab.engine, DiesAfter(lab.registry, 1), MODEL, actor="test")
    ctx = RunContext(engine=lab.engine, settings=lab.settings(), registry=lab.registry,
                     clock=lambda: utcnow() + timedelta(minutes=3))
    assert len(reconcile_pending(ctx)) == 1
    assert lab.aliases()[CHAMPION] == new
    assert reconcile_pending(ctx) == []  # nothing pending: one query, no registry call

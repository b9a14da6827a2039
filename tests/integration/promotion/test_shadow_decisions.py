"""The shadow evaluation end to end, on generated data with a known truth: real capture through
a ManagedModel, a real database (SQLite and PostgreSQL) and a real MLflow store.

Truth: y = 1 when f0 + f1 + noise > 0. The champion sees f0 only (about 75% accurate); a
challenger that sees f0 and f1 is truly better (about 95%), one that sees f2 (noise) is truly
worse (50%), one that sees f1 only is equal in expectation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from promotion_support import MODEL, Lab, fitted, world
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.jobs.outcome import EmptyWindow
from lifecycle.jobs.promote import rollback
from lifecycle.jobs.shadow import ShadowRun, run_shadow_evaluation
from lifecycle.states import CHALLENGER, CHAMPION, CONTINUE, PROMOTE, REJECT, REJECTED
from lifecycle.storage.shadow_repo import evaluations
from lifecycle.storage.tables import AuditEvent, PromotionEvent


def _evaluate(lab: Lab, extra: str = "", *, after: timedelta = timedelta(minutes=5),
              act: bool = True) -> ShadowRun | EmptyWindow:
    when = lab.served_at + after
    return run_shadow_evaluation(lab.engine, lab.settings(extra), MODEL, None, when,
                                 registry=lab.registry, now=when, act=act)


def test_better_challenger_is_promoted_and_served_without_restart(lab: Lab) -> None:
    champion, better = fitted(["f0"]), fitted(["f0", "f1"])
    old = lab.register(champion, CHAMPION)
    new = lab.register(better, CHALLENGER)
    served = lab.managed()
    try:
        answers = lab.serve(served, 300)
        frame_check = world(np.random.default_rng(99), 50)[0]
        np.testing.assert_array_equal(served.predict(frame_check), champion.predict(frame_check))
        run = _evaluate(lab)
        assert isinstance(run, ShadowRun)
        assert run.decision == PROMOTE and run.action == "promoted"
        assert run.paired is not None and run.paired.n_labelled_pairs == 300
        assert run.evaluation.test.startswith("McNemar exact")
        assert run.evaluation.metric_delta is not None and run.evaluation.metric_delta > 0.1
        assert lab.aliases() == {CHAMPION: new, CHALLENGER: None, "previous": old}
        tags = lab.registry.version(MODEL, new).tags
        assert tags["lifecycle.status"] == CHAMPION
        assert tags["lifecycle.evaluation_id"] == str(run.evaluation.id)
        assert float(tags["lifecycle.shadow.p_value"]) < float(
            tags["lifecycle.shadow.nominal_alpha"])
        served.refresh()  # what the poll thread does every poll_seconds
        assert served.versions == (new, None)
        np.testing.assert_array_equal(served.predict(frame_check), better.predict(frame_check))
        # rollback is picked up the same way
        rollback(lab.engine, lab.registry, MODEL, actor="test", reason="drill")
        served.refresh()
        assert served.versions == (old, None)
        np.testing.assert_array_equal(served.predict(frame_check), champion.predict(frame_check))
        assert lab.aliases() == {CHAMPION: old, CHALLENGER: None, "previous": new}
        assert lab.registry.version(MODEL, new).tags["lifecycle.status"] == "rolled_back"
    finally:
        served.close(timeout=10)
    assert len(answers) == 300
    with Session(lab.engine) as session:
        moves = session.execute(select(PromotionEvent.action, PromotionEvent.status,
                                       PromotionEvent.evaluation_id)
                                .order_by(PromotionEvent.id)).all()
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [tuple(m) for m in moves] == [("promote", "done", run.evaluation.id),
                                         ("rollback", "done", None)]
    assert actions == ["model.promote", "model.rollback"]


def test_worse_challenger_is_rejected(lab: Lab) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    worse = lab.register(fitted(["f2"]), CHALLENGER)
    served = lab.managed()
    try:
        lab.serve(served, 300)
    finally:
        served.close(timeout=10)
    run = _evaluate(lab)
    assert isinstance(run, ShadowRun)
    assert run.decision == REJECT and run.action == "rejected"
    assert run.evaluation.record["reason"].startswith("challenger worse")
    assert lab.aliases()[CHALLENGER] is None and lab.aliases()[CHAMPION] == "1"
    assert lab.registry.version(MODEL, worse).tags["lifecycle.status"] == REJECTED
    # nothing left to evaluate: a normal empty outcome, not an error
    assert isinstance(_evaluate(lab), EmptyWindow)
    with Session(lab.engine) as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "model.reject")
                                ).one()
    assert audit.target == f"version:{worse}"
    assert audit.details["evaluation_id"] == run.evaluation.id


def test_equal_challenger_continues_then_is_rejected_at_the_horizon(lab: Lab) -> None:
    """max_pairs = 600: looks at 150, 300, 450 continue; the look at 600 is final and rejects;
    the decision then stands (never flips), whatever later data say."""
    lab.register(fitted(["f0"]), CHAMPION)
    lab.register(fitted(["f1"]), CHALLENGER)
    served = lab.managed()
    decisions: list[tuple[str, int, bool]] = []
    try:
        for _ in range(5):
            lab.serve(served, 150)
            run = _evaluate(lab, act=False)
            assert isinstance(run, ShadowRun)
            decisions.append((run.decision, run.evaluation.n_paired, run.decided_earlier))
    finally:
        served.close(timeout=10)
    assert decisions == [(CONTINUE, 150, False), (CONTINUE, 300, False),
                         (CONTINUE, 450, False), (REJECT, 600, False), (REJECT, 600, True)]
    rows = evaluations(lab.engine, MODEL)
    assert [r.decision for r in rows] == [CONTINUE, CONTINUE, CONTINUE, REJECT]
    assert [r.record["look"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1].record["final"] is True
    assert all(r.record["pairs_needed"] is None or r.record["pairs_needed"] > 0
               for r in rows[:3])
    # nominal levels grow with the information (O'Brien-Fleming-type spending)
    levels = [r.nominal_alpha for r in rows]
    assert levels == sorted(levels) and levels[-1] is not None and levels[-1] < 0.05
    assert lab.aliases()[CHALLENGER] == "2"  # act=False: recorded, not acted on
    run = _evaluate(lab)  # acting now applies the standing decision
    assert isinstance(run, ShadowRun) and run.decided_earlier and run.action == "rejected"
    assert lab.aliases()[CHALLENGER] is None


def test_equal_challenger_rejected_at_max_duration(lab: Lab) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    lab.register(fitted(["f1"]), CHALLENGER)
    served = lab.managed()
    try:
        lab.serve(served, 150)
    finally:
        served.close(timeout=10)
    run = _evaluate(lab, 'max_duration = "1h"', after=timedelta(minutes=5), act=False)
    assert isinstance(run, ShadowRun) and run.decision == CONTINUE
    late = _evaluate(lab, 'max_duration = "1h"', after=timedelta(hours=2))
    assert isinstance(late, ShadowRun)
    assert late.decision == REJECT and late.evaluation.record["final"] is True
    assert "max_duration" in late.evaluation.record["reason"]


class Exploding:
    """A predictor that raises on every request (it never saw the columns it is sent)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def predict(self, x: Any) -> Any:
        if "zz" not in pd.DataFrame(x).columns:
            raise RuntimeError("challenger exploded")
        return self.inner.predict(pd.DataFrame(x).drop(columns=["zz"]))


def test_challenger_that_raises_never_affects_the_caller_and_is_rejected(lab: Lab) -> None:
    champion = fitted(["f0"])
    lab.register(champion, CHAMPION)
    example = world(np.random.default_rng(0), 5)[0].assign(zz=1.0)
    broken = lab.register(Exploding(fitted(["f0", "f1"])), CHALLENGER, example=example)
    served = lab.managed()
    try:
        frame, _ = world(np.random.default_rng(5), 120)
        answers = np.concatenate([served.predict(frame.iloc[i:i + 1]) for i in range(120)])
        np.testing.assert_array_equal(answers, champion.predict(frame))
        lab.serve(served, 200, label=False)
        assert served.flush(60)
        assert served.stats.shadow_errors == 320
    finally:
        served.close(timeout=10)
    run = _evaluate(lab)
    assert isinstance(run, ShadowRun)
    assert run.decision == REJECT and run.action == "rejected"
    error_rate = run.evaluation.guardrails["error_rate"]
    assert error_rate["passed"] is False and error_rate["observed"] == 1.0
    assert run.evaluation.details["counts"]["challenger_rows"] == 0
    assert lab.registry.version(MODEL, broken).tags["lifecycle.status"] == REJECTED


def test_auto_false_records_promote_without_acting(lab: Lab) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    lab.register(fitted(["f0", "f1"]), CHALLENGER)
    served = lab.managed()
    try:
        lab.serve(served, 300)
    finally:
        served.close(timeout=10)
    extra = "[models.churn.promotion]\nauto = false"
    run = _evaluate(lab, extra)
    assert isinstance(run, ShadowRun) and run.decision == PROMOTE and run.action == "none"
    assert lab.aliases()[CHAMPION] == "1" and lab.aliases()[CHALLENGER] == "2"
    again = _evaluate(lab, extra, after=timedelta(minutes=30))
    assert isinstance(again, ShadowRun) and again.decided_earlier
    assert again.evaluation.id == run.evaluation.id  # no second row: the decision stands

"""Guardrails measured fairly: the latency guardrail times both versions on the same requests
(logged latencies of a shadowed challenger are shares of batch calls, not comparable), and
requests the batch scorer has not reached yet are not counted as challenger failures."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
import pandas as pd
from promotion_support import MODEL, Lab, fitted
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from lifecycle.jobs.shadow import ShadowRun, run_shadow_evaluation
from lifecycle.jobs.shadow_score import run_shadow_scoring
from lifecycle.states import CHALLENGER, CHAMPION, REJECT

#: the slow challenger's extra time per call: several times a loaded machine's single-row
#: pipeline call (5-8 ms measured here under load), so the guardrail's 1.5x cannot be noise
SLOW_S = 0.025


def _slow(frame: pd.DataFrame) -> pd.DataFrame:
    time.sleep(SLOW_S)
    return frame


def test_a_slow_challenger_breaks_the_latency_guardrail(lab: Lab) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    slow = Pipeline([("wait", FunctionTransformer(_slow)), ("model", fitted(["f0", "f1"]))])
    lab.register(slow, CHALLENGER)
    served = lab.managed(shadow="batch")
    try:
        lab.serve(served, 200)
    finally:
        served.close(timeout=10)
    window = (lab.served_at - timedelta(minutes=1), lab.served_at + timedelta(minutes=1))
    scored = run_shadow_scoring(lab.engine, lab.settings(), MODEL, *window,
                                registry=lab.registry)
    assert scored.scored == 200
    when = lab.served_at + timedelta(minutes=5)
    run = run_shadow_evaluation(lab.engine, lab.settings(), MODEL, None, when,
                                registry=lab.registry, now=when, act=False)
    assert isinstance(run, ShadowRun)
    counts = run.evaluation.details["counts"]
    assert counts["latency_source"].startswith("probe")
    # logged: the challenger's share of one 200-row chunk call looks faster than the champion
    assert counts["logged_latency_p95"]["challenger"] < 1000 * SLOW_S
    assert counts["challenger_latency_p95"] >= 1000 * SLOW_S
    assert counts["challenger_latency_p95"] > 1.5 * counts["champion_latency_p95"]
    assert run.decision == REJECT
    assert "latency_p95" in run.evaluation.record["reason"]


def test_requests_not_yet_scored_in_batch_are_not_failures(lab: Lab) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    lab.register(fitted(["f0", "f1"]), CHALLENGER)
    served = lab.managed(shadow="batch")
    first = lab.served_at
    try:
        lab.serve(served, 200)
        lab.served_at = first + timedelta(minutes=30)  # then traffic the job has not reached
        lab.serve(served, 200)
    finally:
        served.close(timeout=10)
    run_shadow_scoring(lab.engine, lab.settings(), MODEL, first - timedelta(minutes=1),
                       first + timedelta(minutes=1), registry=lab.registry)
    when = lab.served_at + timedelta(minutes=5)
    run = run_shadow_evaluation(lab.engine, lab.settings(), MODEL, None, when,
                                registry=lab.registry, now=when, act=False)
    assert isinstance(run, ShadowRun)
    counts = run.evaluation.details["counts"]
    assert counts["counted_requests"] == 200 and counts["answered_requests"] == 200
    assert counts["drop_rate"] == 0.0
    # the challenger sees f0 and f1, the champion f0 only: they agree often, not always
    assert 0.5 < counts["agreement_rate"] < 1.0
    guard = run.evaluation.guardrails["error_rate"]
    assert guard["passed"] is True and guard["observed"] == 0.0, guard
    assert np.isfinite(counts["champion_latency_p95"])
    assert counts["latency_source"].startswith("probe")


def test_a_later_look_reuses_the_latency_probe(lab: Lab) -> None:
    lab.register(fitted(["f0"]), CHAMPION)
    lab.register(fitted(["f0"], seed=1), CHALLENGER)  # equal: no decision yet
    served = lab.managed()
    try:
        lab.serve(served, 120)
    finally:
        served.close(timeout=10)
    when = lab.served_at + timedelta(minutes=5)
    first = run_shadow_evaluation(lab.engine, lab.settings(), MODEL, None, when,
                                  registry=lab.registry, now=when, act=False)
    again = run_shadow_evaluation(lab.engine, lab.settings(), MODEL, None, when,
                                  registry=lab.registry, now=when, act=False)
    assert isinstance(first, ShadowRun) and isinstance(again, ShadowRun)
    assert not again.decided_earlier and again.evaluation.id != first.evaluation.id
    timed = first.evaluation.details["counts"]
    reused = again.evaluation.details["counts"]
    assert timed["latency_source"].startswith("probe")
    assert f"evaluation {first.evaluation.id}" in reused["latency_source"]
    assert reused["challenger_latency_p95"] == timed["challenger_latency_p95"]

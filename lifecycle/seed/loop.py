"""The lifecycle half of a seeded history: retrain runs, shadow evaluations, promotions.

:func:`write_loop` writes what :func:`lifecycle.seed.loop_plan.plan_loop` planned for one
model, in the shapes the real jobs write:

* ``retrain_runs``: done runs with holdout metrics of the new model next to the champion's
  (``metrics = {"new": ..., "champion": ...}``), the window, counts and timing breakdown in
  ``details``; skipped runs (too few labelled rows); failed runs with the error and the
  traceback (``details.traceback``), as :mod:`lifecycle.jobs.retrain` records them;
* ``shadow_evaluations``: one row per look, the pairs accumulating as labels arrive, so the
  interval of the metric delta narrows; ``details.decision`` is the gate's record
  (:meth:`lifecycle.evaluation.gate.ShadowDecision.record`), ``details.counts`` the paired
  window's counts (drop rate, latency p95 of both, agreement);
* ``promotion_events`` (and their ``audit_events``): promotions by the gate with the
  evaluation's numbers, a rollback and a manual re-promotion by people with their reasons,
  and, in one scenario, an intent still pending;
* when a :class:`~lifecycle.registry.base.Registry` is given (a local MLflow store, or
  :class:`lifecycle.testing.InMemoryRegistry`): one run and one registered version per
  version of the plan, with the ``champion``, ``previous`` and ``challenger`` aliases and the
  ``lifecycle.*`` tags the jobs set.

Statuses, decisions and roles are the product's constants (:mod:`lifecycle.states`).
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from lifecycle.config import RetrainSettings
from lifecycle.evaluation.policy import ShadowPolicy
from lifecycle.evaluation.sample_size import additional_pairs, pairs_from_standard_error
from lifecycle.evaluation.spending import obrien_fleming_spending
from lifecycle.jobs.promote import ROLLBACK_ACTION, decision_numbers
from lifecycle.jobs.shadow import policy_dict
from lifecycle.registry.base import PREVIOUS, TAG_PREFIX, Registry
from lifecycle.seed.loop_plan import LoopPlan, PlannedEvaluation, PlannedRetrain
from lifecycle.seed.models import SeedModel
from lifecycle.states import (
    CHALLENGER,
    CHAMPION,
    CONTINUE,
    DONE,
    PENDING,
    PROMOTE,
    REJECT,
    SKIPPED,
)
from lifecycle.storage.tables import (
    Alert,
    AuditEvent,
    DriftReportRow,
    PromotionEvent,
    RetrainRun,
    ShadowEvaluation,
)

__all__ = ["write_loop"]

#: The gate's defaults the seeded numbers follow.
POLICY = ShadowPolicy()
ALPHA, MIN_PAIRS, MAX_PAIRS = POLICY.alpha, POLICY.min_pairs, POLICY.max_pairs
#: The gate's interval is two-sided at 1 - 2 alpha (its lower end is the one-sided bound).
CONFIDENCE = 1.0 - 2.0 * ALPHA
Z = NormalDist().inv_cdf(1.0 - ALPHA)
#: Labelled pairs a challenger reaches by its last look.
FINAL_PAIRS = 2_500
#: Standard deviation of one pair's metric difference: correctness (classification) and
#: absolute error (regression).
PAIR_SD = {"classification": 0.35, "regression": 5.0}
#: True challenger-minus-champion effect by how its evaluation ends (classification accuracy,
#: regression mean absolute error: lower is better).
EFFECT = {
    "classification": {PROMOTE: 0.03, CONTINUE: 0.004, REJECT: -0.03},
    "regression": {PROMOTE: -1.0, CONTINUE: -0.1, REJECT: 1.2},
}
FAILED_ERROR = (
    "RegistryUnavailableError: the MLflow tracking store http://mlflow.internal:5000 cannot "
    "be reached (a read (ping): GET /health failed: [Errno 111] Connection refused); start "
    "the tracking server or fix mlflow_tracking_uri in lifecycle.toml "
    "(LIFECYCLE_MLFLOW_TRACKING_URI / MLFLOW_TRACKING_URI), then retry"
)
FAILED_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "lifecycle/jobs/retrain.py", line 282, in run_retrain\n'
    "    registry.ping()\n"
    '  File "lifecycle/registry/mlflow_store.py", line 122, in ping\n'
    "    with self._errors(\"a read (ping)\"):\n"
    "lifecycle.errors.RegistryUnavailableError: the MLflow tracking store "
    "http://mlflow.internal:5000 cannot be reached\n"
)
SKIPPED_ERROR = (
    "InsufficientDataError: {n} labelled rows in the training window, at least "
    f"{RetrainSettings().min_rows} needed (min_rows); wait for more labels or lower "
    "[models.{model}.retrain] min_rows"
)
#: Who decided each kind of move in the seeded story.
ROLLBACK_ACTOR, REPROMOTE_ACTOR, PENDING_ACTOR = "alice", "bob", "carol"


def _metric(task: str) -> tuple[str, bool, float]:
    """(metric, higher is better, champion value)."""
    return ("accuracy", True, 0.88) if task == "classification" else ("mae", False, 12.0)


def write_loop(engine: Engine, m: SeedModel, model_id: int, hours: list[datetime],
               plan: LoopPlan, rng: np.random.Generator,
               registry: Registry | None = None) -> dict[str, int]:
    """Write one model's planned lifecycle history; returns rows written per table."""
    run_ids = (_register(registry, m, plan) if registry is not None
               else {v: _hex(rng, 32) for v in plan.versions})
    retrain_rows = [_retrain_row(m, model_id, hours, r, rng, run_ids) for r in plan.retrains]
    with Session(engine) as session, session.begin():
        _link_triggers(session, model_id, hours, plan, retrain_rows)
        session.execute(insert(RetrainRun), retrain_rows)
        eval_rows = [_evaluation_row(m, model_id, hours, e, rng) for e in plan.evaluations]
        ids = session.scalars(insert(ShadowEvaluation).returning(
            ShadowEvaluation.id, sort_by_parameter_order=True), eval_rows).all()
        by_pair = {}
        for row, eid in zip(eval_rows, ids, strict=True):
            if row["decision"] == PROMOTE:
                by_pair[(row["champion_version"], row["challenger_version"])] = (eid, row)
        moves, audits = _moves(m, model_id, hours, plan, by_pair)
        if moves:
            session.execute(insert(PromotionEvent), moves)
        if audits:
            session.execute(insert(AuditEvent), audits)
    return {"retrain_runs": len(retrain_rows), "shadow_evaluations": len(eval_rows),
            "promotion_events": len(moves)}


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join(f"{int(x):x}" for x in rng.integers(0, 16, size=n))


# ---------------------------------------------------------------------- retrain runs


def _link_triggers(session: Session, model_id: int, hours: list[datetime], plan: LoopPlan,
                   rows: list[dict[str, Any]]) -> None:
    """Alert-triggered runs point at the data drift report of the hour before them, and the
    current challenger's retrain at the model's open drift alert when it has one."""
    challenger = plan.live_challenger or (plan.challenger[1] if plan.challenger else None)
    alert_id = session.scalar(select(Alert.id).where(
        Alert.model_id == model_id, Alert.kind == "data_drift").order_by(Alert.id).limit(1))
    for row in rows:
        if row["trigger"] != "alert":
            continue
        row["drift_report_id"] = session.scalar(
            select(DriftReportRow.id).where(DriftReportRow.model_id == model_id,
                                            DriftReportRow.kind == "data",
                                            DriftReportRow.window_end <= row["started_at"])
            .order_by(DriftReportRow.window_end.desc()).limit(1))
        if row["registered_version"] == challenger and alert_id is not None:
            row["trigger_alert_id"] = alert_id


def _holdout(task: str, rng: np.random.Generator, better: float) -> dict[str, dict[str, float]]:
    if task == "classification":
        champion = {"accuracy": float(rng.normal(0.86, 0.01)),
                    "roc_auc": float(rng.normal(0.89, 0.01)),
                    "log_loss": float(rng.normal(0.34, 0.02))}
        new = {"accuracy": champion["accuracy"] + better * 0.02,
               "roc_auc": champion["roc_auc"] + better * 0.015,
               "log_loss": champion["log_loss"] - better * 0.02}
    else:
        champion = {"mae": float(rng.normal(12.5, 0.4)), "rmse": float(rng.normal(16.8, 0.5))}
        new = {"mae": champion["mae"] - better * 0.8, "rmse": champion["rmse"] - better}
    return {"new": {k: round(v, 5) for k, v in new.items()},
            "champion": {k: round(v, 5) for k, v in champion.items()}}


def _retrain_row(m: SeedModel, model_id: int, hours: list[datetime], r: PlannedRetrain,
                 rng: np.random.Generator, run_ids: dict[str, str]) -> dict[str, Any]:
    started = hours[r.hour] + timedelta(minutes=4, seconds=float(rng.uniform(0, 50)))
    manual = r.trigger == "manual"
    n_rows = int(rng.integers(8_000, 60_000))
    since = started - timedelta(days=30)
    row: dict[str, Any] = {
        "model_id": model_id, "trigger": r.trigger, "trigger_alert_id": None,
        "drift_report_id": None, "performance_report_id": None, "request_id": None,
        "status": r.status, "started_at": started, "champion_version": r.champion_version,
        "actor": REPROMOTE_ACTOR if manual else "scheduler",
        "reason": "monthly refresh with the latest labels" if manual else None,
        "mlflow_run_id": None, "registered_version": None, "n_rows": None,
        "dataset_hash": None, "metrics": {}, "error": None,
        "details": {"window": {"since": since.isoformat(), "until": started.isoformat(),
                               "span": "30 days"}},
    }
    if r.status == DONE:
        seconds = {"window": float(rng.gamma(4, 0.4)), "fit": float(rng.gamma(3, 8.0)),
                   "score": float(rng.gamma(2, 0.3)), "mlflow": float(rng.gamma(3, 0.35))}
        n_holdout = n_rows // 5
        row.update(
            mlflow_run_id=run_ids.get(str(r.version)), registered_version=r.version,
            n_rows=n_rows, finished_at=started + timedelta(seconds=sum(seconds.values())),
            dataset_hash=hashlib.sha256(f"{m.name}:{r.version}".encode()).hexdigest(),
            metrics=_holdout(m.task, rng, 1.0 if r.version else 0.0))
        row["details"].update(
            n_train=n_rows - n_holdout, n_holdout=n_holdout, seconds=seconds,
            counts={"n_logged": int(n_rows * 1.6), "n_labelled": n_rows, "n_duplicates": 0,
                    "n_extra": 0},
            schema={f: ("string" if f in m.categorical else "float64") for f in m.features},
            superseded_version=None, mlflow_run_id=row["mlflow_run_id"])
    elif r.status == SKIPPED:
        n = int(rng.integers(150, 900))
        row.update(finished_at=started + timedelta(seconds=float(rng.gamma(3, 0.5))),
                   error=SKIPPED_ERROR.format(n=n, model=m.name))
    else:
        row.update(finished_at=started + timedelta(seconds=float(rng.gamma(3, 1.5))),
                   error=FAILED_ERROR)
        row["details"]["traceback"] = FAILED_TRACEBACK
    row.setdefault("finished_at", None)
    return row


# ---------------------------------------------------------------------- shadow evaluations


def _evaluation_row(m: SeedModel, model_id: int, hours: list[datetime],
                    e: PlannedEvaluation, rng: np.random.Generator) -> dict[str, Any]:
    metric, higher, champion_value = _metric(m.task)
    sd = PAIR_SD[m.task]
    n = max(40, int(FINAL_PAIRS * e.progress ** 1.2))
    se = sd / math.sqrt(n)
    effect = EFFECT[m.task][e.outcome]
    # the noise shrinks with the pairs: the estimate settles on the true effect
    delta = effect + float(rng.normal(0, se * 0.5))
    gain = delta if higher else -delta
    created = hours[e.hour] + timedelta(minutes=5)
    fraction = min(1.0, n / MAX_PAIRS)
    final = e.decision in (PROMOTE, REJECT)
    tested = n >= MIN_PAIRS
    nominal = (ALPHA if final else obrien_fleming_spending(fraction, ALPHA)) if tested else None
    z = gain / se
    p_better, p_worse = 1 - NormalDist().cdf(z), NormalDist().cdf(z)
    if e.decision == PROMOTE:
        reason = f"challenger better on {metric}: p {p_better:.2g} < alpha {nominal:.3g}"
    elif e.decision == REJECT:
        reason = f"challenger significantly worse on {metric}: p {p_worse:.2g}"
    elif not tested:
        reason = f"{n} labelled pairs, at least {MIN_PAIRS} needed"
    else:
        reason = "no significant difference yet"
    needed = None
    if e.decision == CONTINUE and gain > 0:
        needed = additional_pairs(pairs_from_standard_error(n, gain, se, ALPHA), n)
    elif e.decision == CONTINUE and not tested:
        needed = MIN_PAIRS - n
    lat = m.latency_ms * 1.9
    guardrails = [
        {"name": "min_pairs", "passed": tested, "observed": float(n), "limit": float(MIN_PAIRS),
         "detail": f"{n} labelled pairs" + ("" if tested else f", at least {MIN_PAIRS} needed")},
        {"name": "latency_p95", "passed": True, "observed": round(lat * 1.3, 2),
         "limit": round(lat * POLICY.latency_ratio, 2),
         "detail": f"challenger p95 within {POLICY.latency_ratio:g}x the champion's"},
        {"name": "error_rate", "passed": True, "observed": 0.001,
         "limit": POLICY.error_rate_tolerance,
         "detail": f"0.1% of shadow requests failed (limit {POLICY.error_rate_tolerance:.0%} "
                   "above the champion's)"},
    ]
    test = ("mcnemar" if m.task == "classification" else "wilcoxon") if tested else None
    record = {
        "decision": e.decision, "reason": reason, "metric": metric, "n_pairs": n,
        "test": test, "statistic": round(z * z, 4) if tested else None,
        "p_value": (p_worse if e.decision == REJECT else p_better) if tested else None,
        "p_better": p_better if tested else None, "p_worse": p_worse if tested else None,
        "p_noninferior": None, "champion_value": champion_value,
        "challenger_value": champion_value + delta, "delta": delta,
        "ci_low": delta - Z * se, "ci_high": delta + Z * se,
        "confidence": CONFIDENCE, "nominal_alpha": nominal,
        "look": None, "information_fraction": fraction if tested else None, "final": final,
        "noninferiority": False, "guardrails": guardrails, "pairs_needed": needed,
    }
    champion_requests = int(n / 0.55)
    drop = float(rng.uniform(0.001, 0.012))
    counts = {
        "champion_requests": champion_requests,
        "challenger_rows": int(champion_requests * (1 - drop)), "pairs": int(n / 0.6),
        "labelled_pairs": n, "drop_rate": drop,
        "champion_latency_p95": round(lat, 2), "challenger_latency_p95": round(lat * 1.3, 2),
        "agreement_rate": (round(float(rng.uniform(0.9, 0.97)), 4)
                           if m.task == "classification" else None),
    }
    return {
        "model_id": model_id, "champion_version": e.champion_version,
        "challenger_version": e.challenger_version,
        "window_start": hours[max(0, e.hour - 24)], "window_end": hours[e.hour],
        "created_at": created, "n_paired": n, "decision": e.decision, "test": test or "",
        "statistic": record["statistic"], "p_value": record["p_value"],
        "metric_delta": delta, "ci_low": record["ci_low"], "ci_high": record["ci_high"],
        "guardrails": {g["name"]: {k: v for k, v in g.items() if k != "name"}
                       for g in guardrails},
        "details": {"decision": record, "counts": counts,
                    "policy": policy_dict(POLICY)},
    }


# ---------------------------------------------------------------------- promotions


def _moves(m: SeedModel, model_id: int, hours: list[datetime], plan: LoopPlan,
           by_pair: dict[tuple[str, str], tuple[int, dict[str, Any]]],
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    moves: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for mv in plan.moves:
        at = hours[mv.hour] + timedelta(minutes=8 if mv.pending else 10)
        found = None if mv.manual else by_pair.get((mv.from_version, mv.to_version))
        if mv.pending:
            actor, reason = PENDING_ACTOR, "customer complaints about v2; not waiting for it"
        elif mv.action == ROLLBACK_ACTION:
            actor, reason = ROLLBACK_ACTOR, "error rate up 3x after the promotion"
        elif mv.manual:
            actor, reason = REPROMOTE_ACTOR, "fixed the feature pipeline; promoting again"
        else:
            actor, reason = "scheduler", None
        numbers = decision_numbers(found[1]["details"]["decision"]) if found else {}
        moves.append({
            "model_id": model_id, "action": mv.action, "from_version": mv.from_version,
            "to_version": mv.to_version, "status": PENDING if mv.pending else DONE,
            "evaluation_id": found[0] if found else None, "actor": actor, "created_at": at,
            "completed_at": None if mv.pending else at + timedelta(seconds=2),
            "details": {"reason": reason, "numbers": numbers},
        })
        if not mv.pending:
            audits.append({"ts": at + timedelta(seconds=2), "actor": actor,
                           "action": f"model.{mv.action}", "model_id": model_id,
                           "target": f"version:{mv.to_version}",
                           "details": {"from_version": mv.from_version,
                                       "to_version": mv.to_version, "reason": reason,
                                       "evaluation_id": found[0] if found else None}})
    return moves, audits


# ---------------------------------------------------------------------- registry


def _constant_model(m: SeedModel) -> tuple[Any, Any]:
    """A tiny fitted scikit-learn model over the seeded features (it predicts the most
    frequent class, or the mean), so the registered versions load and serve."""
    import pandas as pd
    from sklearn.dummy import DummyClassifier, DummyRegressor

    example = pd.DataFrame({f: (["a", "b", "a", "b"] if f in m.categorical
                                else [0.0, 1.0, 2.0, 3.0]) for f in m.features})
    if m.task == "classification":
        return DummyClassifier().fit(example, [m.classes[0], m.classes[-1]] * 2), example
    return DummyRegressor().fit(example, [90.0, 100.0, 110.0, 100.0]), example


def _register(registry: Registry, m: SeedModel, plan: LoopPlan) -> dict[str, str]:
    """One run and one registered version per planned version; aliases and tags as the
    jobs leave them. Returns version -> run id."""
    from lifecycle.errors import DataError

    model, example = _constant_model(m)
    run_ids: dict[str, str] = {}
    retrains = {r.version: r for r in plan.retrains if r.version is not None}
    experiment = f"lifecycle/{m.name}"
    for version in plan.versions:
        r = retrains.get(version)
        tags = {f"{TAG_PREFIX}model": m.name, f"{TAG_PREFIX}seeded": "true"}
        if r is not None:
            tags.update({f"{TAG_PREFIX}trigger": r.trigger,
                         f"{TAG_PREFIX}challenges": r.champion_version or "none"})
        with registry.start_run(experiment, f"seed-v{version}", tags) as run:
            run.log_params({"model": m.name, "features": ",".join(m.features)})
            run.log_metrics({"holdout_score": 0.8 + 0.01 * int(version)})
            source = run.log_model(model, input_example=example)
            run_id = run.run_id
        got = registry.register(m.name, source, run_id=run_id, tags=tags)
        if got.version != version:
            raise DataError(f"the registry already holds versions of {m.name!r} (got version "
                            f"{got.version}, planned {version}); seed into an empty store")
        run_ids[version] = run_id
    registry.set_alias(m.name, CHAMPION, plan.final_champion)
    registry.set_version_tags(m.name, plan.final_champion, {f"{TAG_PREFIX}status": CHAMPION})
    done = [mv for mv in plan.moves if not mv.pending]
    if done and done[-1].from_version != plan.final_champion:
        registry.set_alias(m.name, PREVIOUS, done[-1].from_version)
        registry.set_version_tags(m.name, done[-1].from_version,
                                  {f"{TAG_PREFIX}status": PREVIOUS})
    if plan.live_challenger is not None:
        registry.set_alias(m.name, CHALLENGER, plan.live_challenger)
        registry.set_version_tags(m.name, plan.live_challenger,
                                  {f"{TAG_PREFIX}status": CHALLENGER})
    return run_ids

"""The built-in retrain: the team's trainer on a window of the log, one MLflow run, a challenger.

One call, one ``retrain_runs`` row, in this order (each step is recorded as it happens, so a
process that dies mid-way leaves a row that says how far it got):

1. open the row (``running``) with its lineage: trigger, actor, reason, alert, the drift or
   performance report behind the alert, the queued request;
2. import the trainer and the data loader (``[models.NAME.retrain]``);
3. build the training window (:func:`lifecycle.compute.training.training_window`): too few
   labelled rows ends the run ``skipped`` with the reason, nothing else happens;
4. check that the tracking store answers, note the champion it challenges;
5. inside ONE MLflow run (experiment ``lifecycle/NAME``): params, the window's schema and
   content hash, the trainer's fit, holdout metrics of the new model and of the champion on the
   same rows (the performance job's metric code), the model (signature, input example,
   explicit requirements, cloudpickle), then a new registered version and the ``challenger``
   alias; an older challenger is tagged superseded;
6. close the row ``done``, resolve a ``retrain_failed`` alert, write an audit row.

Any failure (trainer raises, store unreachable, model cannot be logged, target missing...)
ends the MLflow run FAILED, closes the row ``failed`` with the error and its traceback, opens
a ``retrain_failed`` alert and leaves the champion and the registry as they were: a version
registered before the failure is deleted (or, if even that fails, tagged
``lifecycle.status = orphaned``). The champion alias is never touched here.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.alerts.policy import Decision
from lifecycle.alerts.store import apply_decision
from lifecycle.compute.training import training_window
from lifecycle.config import ModelSettings, Settings
from lifecycle.errors import InsufficientDataError
from lifecycle.registry.base import TAG_PREFIX, Registry, VersionInfo
from lifecycle.states import CHALLENGER, CHAMPION, DONE, FAILED, SKIPPED
from lifecycle.storage.audit import write_audit
from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.retrain_repo import (
    Lineage,
    finish_run,
    mark_lost,
    open_run,
    orphaned_runs,
    update_run,
)
from lifecycle.storage.tables import Alert
from lifecycle.storage.types import utcnow
from lifecycle.training.holdout import holdout_metrics, infer_task, served_metrics
from lifecycle.training.trainer import fit, load_extra_rows, load_trainer
from lifecycle.training.window import TrainingWindow
from lifecycle.windows import format_duration, window_from_key

logger = logging.getLogger("lifecycle.retrain")

#: Alert kind opened when a retrain fails (resolved by the next successful one).
RETRAIN_FAILED = "retrain_failed"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RetrainOutcome:
    """How one retrain ended (``status``: done, skipped or failed)."""

    retrain_id: int
    model: str
    status: str
    mlflow_run_id: str | None = None
    version: str | None = None
    champion_version: str | None = None
    superseded_version: str | None = None
    n_train: int = 0
    n_holdout: int = 0
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    duration_s: float = 0.0
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def experiment_name(model: str) -> str:
    """The MLflow experiment of a model's retrains."""
    return f"lifecycle/{model}"


def lineage_from_alert(engine: Engine, alert_id: int | None, *, actor: str,
                       reason: str | None = None, request_id: int | None = None) -> Lineage:
    """The lineage of a retrain asked for by ``alert_id`` (None: a manual retrain), read
    from the alert row once: its kind, report and first window."""
    if alert_id is None:
        return Lineage(trigger="manual", actor=actor, reason=reason, request_id=request_id)
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
    if alert is None:
        return Lineage(trigger="alert", actor=actor, reason=reason, request_id=request_id)
    report = alert.source_report_id
    first = (alert.details or {}).get("first_window")
    return Lineage(trigger="alert", actor=actor,
                   reason=reason or f"{alert.kind} alert {alert.id}: {alert.message}"[:1000],
                   alert_id=alert.id,
                   drift_report_id=report if alert.kind.endswith("_drift") else None,
                   performance_report_id=report if alert.kind == "performance" else None,
                   request_id=request_id,
                   drift_began=window_from_key(str(first)).start if first else None)


def training_span(ms: ModelSettings, lineage: Lineage, now: datetime,
                  ) -> tuple[datetime, datetime, str]:
    """``[since, until)`` of the training window and how it was chosen.

    ``window = "since_drift"``: from the start of the first window of the triggering alert (a
    manual retrain, or an alert without one, falls back to ``fallback_window``); otherwise the
    last ``window`` (:meth:`lifecycle.config.RetrainSettings.start`).
    """
    since = ms.retrain.start(now, lineage.drift_began)
    if lineage.drift_began is not None and since == lineage.drift_began:
        return since, now, f"since the drift began ({since.isoformat()})"
    return since, now, f"last {format_duration(now - since)}"


def _champion_metrics(registry: Registry, champion: VersionInfo | None, tw: TrainingWindow,
                      task: str, positive: str | None) -> tuple[dict[str, float], str]:
    """The champion on the holdout: its registered model when there is one and it loads,
    else what it actually answered on those rows (the logged predictions)."""
    if champion is not None:
        try:
            scored = holdout_metrics(registry.load_model(champion.uri), tw, task, positive)
            return dict(scored.metrics), f"registered version {champion.version}"
        except Exception as exc:  # noqa: BLE001 - fall back to what was served
            logger.warning("champion %s could not be scored on the holdout (%s); using the "
                           "logged predictions", champion.uri, exc)
    served = served_metrics(tw, task, positive)
    return dict(served.metrics), "logged predictions"


def _params(ms: ModelSettings, tw: TrainingWindow, lineage: Lineage, span: str,
            trainer_path: str, loader_path: str | None) -> dict[str, Any]:
    rs = ms.retrain
    out: dict[str, Any] = {
        "window": span, "window_since": tw.since, "window_until": tw.until,
        "trigger": lineage.trigger, "trainer": trainer_path, "data_loader": loader_path,
        "target": tw.target, "n_features": len(tw.features), "holdout_fraction": rs.holdout,
        "min_rows": rs.min_rows, "n_logged": tw.n_logged, "n_labelled": tw.n_labelled,
        "n_duplicates": tw.n_duplicates, "n_extra": tw.n_extra, "n_train": tw.n_train,
        "n_holdout": tw.n_holdout,
    }
    out.update({f"param.{k}": v for k, v in rs.params.items()})
    return out


def _tags(model: str, lineage: Lineage, retrain_id: int, champion: VersionInfo | None,
          content_hash: str) -> dict[str, str]:
    tags = {
        f"{TAG_PREFIX}model": model,
        f"{TAG_PREFIX}retrain_id": str(retrain_id),
        f"{TAG_PREFIX}trigger": lineage.trigger,
        f"{TAG_PREFIX}actor": lineage.actor,
        f"{TAG_PREFIX}dataset_hash": content_hash,
        f"{TAG_PREFIX}challenges": champion.version if champion is not None else "none",
    }
    for key, value in (("alert_id", lineage.alert_id),
                       ("drift_report_id", lineage.drift_report_id),
                       ("performance_report_id", lineage.performance_report_id),
                       ("request_id", lineage.request_id)):
        if value is not None:
            tags[f"{TAG_PREFIX}{key}"] = str(value)
    if lineage.reason:
        tags[f"{TAG_PREFIX}reason"] = lineage.reason[:500]
    return tags


def discard_version(registry: Registry, model: str, version: str, why: str) -> str:
    """Remove a version registered by a retrain that then failed: delete it, or when even
    that fails, tag it ``lifecycle.status = orphaned`` so nobody promotes it."""
    try:
        registry.delete_version(model, version)
        return "deleted"
    except Exception as exc:  # noqa: BLE001 - tagging is the fallback
        logger.error("could not delete version %s of %s (%s); tagging it orphaned", version,
                     model, exc)
    try:
        registry.set_version_tags(model, version, {f"{TAG_PREFIX}status": "orphaned",
                                                   f"{TAG_PREFIX}orphaned_because": why[:500]})
        return "tagged orphaned"
    except Exception as exc:  # noqa: BLE001
        logger.error("could not tag version %s of %s as orphaned: %s", version, model, exc)
        return "left as is (registry unreachable)"


def _register(registry: Registry, model: str, model_uri: str, run_id: str,
              tags: dict[str, str], record: Callable[..., None],
              ) -> tuple[VersionInfo, str | None]:
    """Register a version and point ``challenger`` at it; an earlier challenger is tagged
    superseded (its version is returned). A failure after registering discards the new
    version."""
    info = registry.register(model, model_uri, run_id=run_id,
                             tags={**tags, f"{TAG_PREFIX}status": CHALLENGER})
    record(registered_version=info.version)
    try:
        earlier = registry.by_alias(model, CHALLENGER)
        registry.set_alias(model, CHALLENGER, info.version)
    except Exception as exc:
        discard_version(registry, model, info.version, f"alias not set: {exc}")
        raise
    if earlier is None or earlier.version == info.version:
        return info, None
    try:
        registry.set_version_tags(model, earlier.version, {
            f"{TAG_PREFIX}status": "superseded", f"{TAG_PREFIX}superseded_by": info.version})
    except Exception as exc:  # noqa: BLE001 - the new challenger stands either way
        logger.warning("could not tag version %s of %s as superseded: %s", earlier.version,
                       model, exc)
    return info, earlier.version


def _alert(engine: Engine, model: str, *, fire: bool, now: datetime, message: str,
           details: dict[str, Any], cooldown_s: float) -> Any:
    decision = Decision(fire=fire, clear=not fire, severity="critical" if fire else None)
    with Session(engine) as session, session.begin():
        row = get_or_create_model(session, model)
        return apply_decision(session, row, kind=RETRAIN_FAILED, feature=None,
                              decision=decision, now=now, cooldown_s=cooldown_s,
                              window_key=now.isoformat(), message=message, report_id=None,
                              details=details)


def run_retrain(engine: Engine, settings: Settings, model: str, *, lineage: Lineage,
                registry: Registry, clock: Clock = utcnow,
                dispatcher: Any = None) -> RetrainOutcome:
    """Retrain ``model`` once (see the module docstring). Never raises for a failure of the
    retrain itself: it is recorded and returned with ``status = "failed"``."""
    ms = settings.model(model)
    started = clock()
    t0 = time.perf_counter()
    retrain_id = open_run(engine, model, lineage, now=started, champion_version=None)

    def record(**values: Any) -> None:
        update_run(engine, retrain_id, **values)

    state: dict[str, Any] = {}
    try:
        trainer = load_trainer(model, ms.retrain)
        since, until, span = training_span(ms, lineage, started)
        state["window"] = {"since": since.isoformat(), "until": until.isoformat(),
                           "span": span}
        extra = load_extra_rows(trainer, dict(ms.retrain.params), ms.retrain.target,
                                ms.features or None)
        seconds: dict[str, float] = {}
        mark = time.perf_counter()
        try:
            tw = training_window(engine, settings, ms, since=since, until=until,
                                 as_of=started, extra=extra)  # partitioned when large
        except InsufficientDataError as exc:
            return _skipped(engine, model, retrain_id, lineage, str(exc), state, clock, t0)
        seconds["window"] = time.perf_counter() - mark
        state.update(n_train=tw.n_train, n_holdout=tw.n_holdout, schema=tw.schema,
                     counts={"n_logged": tw.n_logged, "n_labelled": tw.n_labelled,
                             "n_duplicates": tw.n_duplicates, "n_extra": tw.n_extra})
        record(n_rows=tw.n_train + tw.n_holdout, dataset_hash=tw.content_hash[:64],
               details=dict(state))
        registry.ping()
        champion = registry.by_alias(model, CHAMPION)
        record(champion_version=None if champion is None else champion.version)
        task = infer_task(tw, ms.task)
        positive = ms.performance.positive_label
        tags = _tags(model, lineage, retrain_id, champion, tw.content_hash)
        mark = time.perf_counter()
        with registry.start_run(experiment_name(model), f"retrain-{retrain_id}",
                                tags) as run:
            state["mlflow_run_id"] = run.run_id
            record(mlflow_run_id=run.run_id)
            run.log_params(_params(ms, tw, lineage, span, trainer.path, trainer.loader_path))
            run.log_dict({"schema": tw.schema, "features": list(tw.features),
                          "target": tw.target, "content_hash": tw.content_hash,
                          "hash": "sha256 of every row (pandas.util.hash_pandas_object)",
                          **state["window"], **state["counts"]}, "training_window.json")
            fit_t0 = time.perf_counter()
            fitted = fit(trainer, tw.train, tw.target, dict(ms.retrain.params))
            fit_s = seconds["fit"] = time.perf_counter() - fit_t0
            new = dict(holdout_metrics(fitted, tw, task, positive).metrics)
            old, old_source = _champion_metrics(registry, champion, tw, task, positive)
            seconds["score"] = time.perf_counter() - fit_t0 - fit_s
            state.update(fit_seconds=fit_s, champion_source=old_source)
            metrics = {"new": new, "champion": old}
            run.log_metrics({**{f"holdout_{k}": v for k, v in new.items()},
                             **{f"champion_holdout_{k}": v for k, v in old.items()},
                             "fit_seconds": fit_s})
            run.set_tags({f"{TAG_PREFIX}champion_metrics_from": old_source})
            # the registry keeps the example's first rows
            model_uri = run.log_model(fitted, input_example=tw.holdout[list(tw.features)])
            info, superseded = _register(registry, model, model_uri, run.run_id, tags,
                                         record)
        seconds["mlflow"] = time.perf_counter() - mark - seconds["fit"] - seconds["score"]
        state["seconds"] = seconds
        state["superseded_version"] = superseded
        finished = clock()
        if not finish_run(engine, retrain_id, status=DONE, now=finished,
                          metrics=_jsonable(metrics), details=_jsonable(state)):
            logger.error("retrain %d of %s finished after it was marked lost", retrain_id,
                         model)
        _alert(engine, model, fire=False, now=finished, message="retrain succeeded",
               details={}, cooldown_s=0)
        outcome = RetrainOutcome(
            retrain_id, model, DONE, mlflow_run_id=run.run_id, version=info.version,
            champion_version=None if champion is None else champion.version,
            superseded_version=superseded, n_train=tw.n_train, n_holdout=tw.n_holdout,
            metrics=metrics, duration_s=time.perf_counter() - t0,
            message=f"version {info.version} registered as {CHALLENGER}")
        logger.info("retrain %d of %s: version %s is the challenger (run %s)", retrain_id,
                       model, info.version, run.run_id)
    except Exception as exc:  # noqa: BLE001 - recorded, alerted, returned
        outcome = _failed(engine, settings, model, retrain_id, lineage, exc, state, clock, t0,
                          dispatcher)
    write_audit(engine, actor=lineage.actor, action="retrain.run", model=model,
                 target=f"retrain:{retrain_id}", details=_jsonable(outcome.as_dict()),
                 now=clock())
    return outcome


def _skipped(engine: Engine, model: str, retrain_id: int, lineage: Lineage, why: str,
             state: dict[str, Any], clock: Clock, t0: float) -> RetrainOutcome:
    finish_run(engine, retrain_id, status=SKIPPED, now=clock(), error=why,
               details=_jsonable(state))
    logger.warning("retrain %d of %s skipped: %s", retrain_id, model, why)
    outcome = RetrainOutcome(retrain_id, model, SKIPPED, duration_s=time.perf_counter() - t0,
                             message=why)
    write_audit(engine, actor=lineage.actor, action="retrain.run", model=model,
                 target=f"retrain:{retrain_id}", details=_jsonable(outcome.as_dict()),
                 now=clock())
    return outcome


def _failed(engine: Engine, settings: Settings, model: str, retrain_id: int, lineage: Lineage,
            exc: BaseException, state: dict[str, Any], clock: Clock, t0: float,
            dispatcher: Any) -> RetrainOutcome:
    error = f"{type(exc).__name__}: {exc}"
    state["traceback"] = traceback.format_exc()[-8000:]
    now = clock()
    finish_run(engine, retrain_id, status=FAILED, now=now, error=error[:4000],
               details=_jsonable(state))
    logger.error("retrain %d of %s failed: %s", retrain_id, model, error)
    try:
        change = _alert(engine, model, fire=True, now=now,
                        message=f"retrain {retrain_id} of {model} failed: {error}"[:2000],
                        details={"retrain_id": retrain_id},
                        cooldown_s=settings.model(model).alerts.cooldown.total_seconds())
        if change is not None and change.notify and dispatcher is not None:
            dispatcher.submit(change)
    except Exception as alert_exc:  # noqa: BLE001 - the failure is recorded already
        logger.error("could not raise the retrain_failed alert for %s: %s", model, alert_exc)
    return RetrainOutcome(retrain_id, model, FAILED,
                          mlflow_run_id=state.get("mlflow_run_id"),
                          duration_s=time.perf_counter() - t0, message=error)


def reconcile_retrain_runs(engine: Engine, *, now: datetime, request_id: int | None = None,
                           registry: Registry | None = None) -> list[int]:
    """Mark ``lost`` the running retrains whose process died (see
    :func:`lifecycle.storage.retrain_repo.orphaned_runs`); a version such a run registered
    but never aliased is discarded when ``registry`` is given. Returns the ids marked."""
    marked = []
    for row in orphaned_runs(engine, request_id=request_id):
        note = "the process running this retrain stopped before it finished"
        if row.registered_version and registry is not None:
            challenger = registry.by_alias(row.model, CHALLENGER)
            if challenger is None or challenger.version != row.registered_version:
                what = discard_version(registry, row.model, row.registered_version, note)
                note += f"; version {row.registered_version} {what}"
        if mark_lost(engine, row.id, now=now, note=note):
            marked.append(row.id)
            logger.error("retrain %d of %s marked lost: %s", row.id, row.model, note)
    return marked


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


__all__ = ["RETRAIN_FAILED", "RetrainOutcome", "discard_version", "experiment_name",
           "lineage_from_alert", "reconcile_retrain_runs", "run_retrain", "training_span"]

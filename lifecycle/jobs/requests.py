"""Work asked for outside the schedule: queued as a ``job_requests`` row, run by a scheduler.

Whoever asks for long work - the retrain trigger after an alert, the dashboard's "run this
check now", the CLI - only calls :func:`lifecycle.jobs.queue.enqueue`, which inserts one row
and returns at once.
A scheduler process calls :func:`process_pending` on every poll
(``[scheduler] request_poll_seconds``, default 5 s, and once more in ``--once`` runs); it
claims requests one at a time under a lease and runs them in its own thread:

* ``pending`` -> ``running``: one ``UPDATE ... WHERE id = (oldest claimable) AND claimable
  RETURNING`` statement; a running request whose owner stopped renewing (``expires_at`` passed)
  is claimable again, up to ``MAX_ATTEMPTS`` claims, then it fails for good;
* a check kind (``drift``, ``performance``, any kind in ``[scheduler.jobs]``) runs its window
  through :func:`lifecycle.jobs.runner.execute`, i.e. under the window's own lease with its
  ``job_runs`` row and alerts, exactly like a scheduled tick (a window already computed comes
  back ``skipped``);
* ``retrain`` runs the built-in retrain (:mod:`lifecycle.jobs.retrain`: the model's
  ``[models.NAME.retrain] trainer`` in an MLflow run, a ``challenger`` version), or, when
  ``[scheduler] retrain_function`` is set, calls that override as ``fn(engine, settings,
  model, alert_id)``; either way an ``audit_events`` row records the outcome. A retrain left
  ``running`` by a process that died is marked ``lost`` when its request is taken over or
  gives up (and a version it registered without the alias is discarded);
* ``running`` -> ``done`` / ``failed`` with the result or the error.

Asking twice queues once (:mod:`lifecycle.jobs.queue`), so at most one retrain per model is
queued or running at any time.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Any

from lifecycle.jobs.leases import Heartbeat
from lifecycle.jobs.queue import (
    DONE,
    FAILED,
    RETRAIN,
    ClaimedRequest,
    claim_next,
    finish,
    renew,
)
from lifecycle.storage.audit import write_audit

logger = logging.getLogger("lifecycle.jobs")


@dataclass(frozen=True)
class RequestOutcome:
    """How one claimed request ended."""

    request_id: int
    kind: str
    model: str
    status: str
    result: dict[str, Any]
    error: str | None = None


class RequestFailed(RuntimeError):
    """A request whose work ended in a recorded failure; ``result`` is stored with it."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def _run_retrain(ctx: Any, request: ClaimedRequest) -> dict[str, Any]:
    """The built-in retrain (:mod:`lifecycle.jobs.retrain`), or ``[scheduler]
    retrain_function`` when set (the override)."""
    if ctx.settings.scheduler.retrain_function is not None:
        return _run_retrain_function(ctx, request, ctx.settings.scheduler.retrain_function)
    from lifecycle.jobs.retrain import (
        lineage_from_alert,
        reconcile_retrain_runs,
        run_retrain,
    )

    registry = ctx.get_registry()
    # a retrain of this request still "running" was left by a process that died
    reconcile_retrain_runs(ctx.engine, now=ctx.clock(), request_id=request.id,
                           registry=registry)
    lineage = lineage_from_alert(
        ctx.engine, request.details.get("alert_id"),
        actor=str(request.details.get("actor") or "scheduler"),
        reason=request.details.get("reason"), request_id=request.id)
    outcome = run_retrain(ctx.engine, ctx.settings, request.model, lineage=lineage,
                          registry=registry, clock=ctx.clock, dispatcher=ctx.dispatcher)
    result = {k: v for k, v in outcome.as_dict().items() if k != "metrics"}
    if outcome.status == FAILED:
        raise RequestFailed(f"retrain {outcome.retrain_id} failed: {outcome.message}", result)
    return result


def _run_retrain_function(ctx: Any, request: ClaimedRequest, function: str) -> dict[str, Any]:
    from lifecycle.jobs.kinds import import_path

    alert_id = request.details.get("alert_id")
    outcome: dict[str, Any] = {"function": function, "alert_id": alert_id,
                               "request_id": request.id}
    try:
        value = import_path(function)(ctx.engine, ctx.settings, request.model, alert_id)
        outcome.update(status="called", result=repr(value)[:500])
        logger.warning("retrain of %s ran (request %d, alert %s)", request.model, request.id,
                       alert_id)
    except Exception as exc:
        outcome.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        write_audit(ctx.engine, actor="scheduler", action="retrain.run", model=request.model,
                    target=f"request:{request.id}", details=outcome, now=ctx.clock())
    return outcome


def _run_check(ctx: Any, request: ClaimedRequest) -> dict[str, Any]:
    from lifecycle.jobs.plan import manual_job
    from lifecycle.jobs.runner import execute

    if request.window is None:
        raise ValueError(f"a {request.kind!r} request needs a window")
    result = execute(ctx, manual_job(ctx.settings, request.kind, request.model), request.window)
    if result.error:
        raise RuntimeError(f"{request.kind} of {request.model} for {request.window} "
                           f"{result.status}: {result.error}")
    return {"status": result.status, "run_id": result.run_id, "window": request.window.key}


def run_request(ctx: Any, request: ClaimedRequest) -> RequestOutcome:
    """Run one claimed request and record how it ended. Never raises for the job's errors."""
    renewer = Heartbeat(
        lambda: renew(ctx.engine, request, now=ctx.clock(), lease_seconds=ctx.lease_seconds),
        ctx.lease_seconds, f"request {request.id} ({request.kind} {request.model})")
    renewer.start()
    status, error, result = DONE, None, {}
    try:
        if request.kind == RETRAIN:
            result = _run_retrain(ctx, request)
        else:
            result = _run_check(ctx, request)
    except Exception as exc:  # noqa: BLE001 - a failed request must not stop the scheduler
        status, error = FAILED, f"{type(exc).__name__}: {exc}"
        result = (exc.result if isinstance(exc, RequestFailed)
                  else {"traceback": traceback.format_exc()[-4000:]})
        logger.error("request %d (%s %s) failed: %s", request.id, request.kind, request.model,
                     error)
    finally:
        renewer.halt.set()
        renewer.join(timeout=5.0)
    if not finish(ctx.engine, request, now=ctx.clock(), status=status, result=result,
                  error=error):
        logger.error("request %d finished after it was taken over (ran twice)", request.id)
    return RequestOutcome(request.id, request.kind, request.model, status, result, error)


def _reconcile(ctx: Any) -> None:
    """Retrains left ``running`` by a request that gave up or ended: marked ``lost``."""
    from lifecycle.storage.retrain_repo import orphaned_runs

    if not orphaned_runs(ctx.engine):
        return
    from lifecycle.jobs.retrain import reconcile_retrain_runs

    try:
        registry = ctx.get_registry()
    except Exception as exc:  # noqa: BLE001 - mark them lost even without a registry
        logger.error("registry unavailable while reconciling lost retrains: %s", exc)
        registry = None
    reconcile_retrain_runs(ctx.engine, now=ctx.clock(), registry=registry)


def process_pending(ctx: Any, *, models: frozenset[str] | None = None,
                    limit: int = 100, only_id: int | None = None) -> list[RequestOutcome]:
    """Claim and run pending requests (of ``models``; None: all; ``only_id``: just that one)
    one by one until none is left, ``limit`` ran, or the process is stopping."""
    from lifecycle.jobs.reconcile import reconcile_pending

    outcomes: list[RequestOutcome] = []
    _reconcile(ctx)
    reconcile_pending(ctx)  # half-done promotions (one query when none is pending)
    while len(outcomes) < limit and not ctx.stopping.is_set():
        request = claim_next(ctx.engine, owner=ctx.owner, now=ctx.clock(),
                             lease_seconds=ctx.lease_seconds, models=models,
                             only_id=only_id)
        if request is None:
            break
        outcomes.append(run_request(ctx, request))
    return outcomes


__all__ = ["RequestFailed", "RequestOutcome", "process_pending", "run_request"]

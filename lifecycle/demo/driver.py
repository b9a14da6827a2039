"""Run the real scheduled jobs on the simulated clock, through the scheduler's runner.

Each tick does for every job kind configured under ``[models.NAME.schedule]`` exactly what the
scheduler's APScheduler tick does (:func:`lifecycle.jobs.tick.run_due`): ask the lease table
which aligned windows are due at the simulated ``now``, and run each through
:func:`lifecycle.jobs.runner.execute` (lease, ``job_runs`` row, job function, alert evaluation
and delivery, retrain hook). The runner's clock is the demo's simulated clock, so leases,
retries, ``job_runs`` and alerts carry simulated times.

:meth:`JobDriver.poll_requests` does what the scheduler's request poll does
(:func:`lifecycle.jobs.tick.poll_requests`): :func:`lifecycle.jobs.requests.process_pending`
claims the queued work (retrains asked for by an alert or a person) and runs it, with the same
context: the simulated clock and the demo's registry.

A job kind whose function cannot be imported is reported as *not covered*, never simulated:
the demo shows only numbers the product computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from lifecycle.config import Settings

__all__ = ["JobDriver", "TickResult"]


@dataclass
class TickResult:
    """What one tick ran: ``(kind, window_start, window_end, status)``, and the failed
    windows as ``(kind, window text, first line of the error)``."""

    ran: list[tuple[str, datetime, datetime, str]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)


class JobDriver:
    """Runs the due windows of every scheduled job kind of one model at a simulated time."""

    def __init__(self, engine: Engine, settings: Settings, model: str,
                 clock: Callable[[], datetime], registry: Any = None) -> None:
        from lifecycle.alerts.delivery import AlertDispatcher
        from lifecycle.jobs.kinds import ALERT_EVALUATORS, import_path
        from lifecycle.jobs.plan import build_plan
        from lifecycle.jobs.runner import RunContext

        self.missing: dict[str, str] = {}
        self.jobs = []
        for job in build_plan(settings, only_models=[model], check_imports=False):
            try:
                import_path(job.kind.function)
                if job.kind.alerts is not None:
                    import_path(ALERT_EVALUATORS[job.kind.alerts])
            except ImportError as exc:
                self.missing[job.kind.name] = str(exc)
                continue
            self.jobs.append(job)
        # a tick scores the challenger's new requests before the evaluation reads the pairs
        self.jobs.sort(key=lambda job: job.kind.name == "shadow")
        self.context = RunContext(
            engine=engine, settings=settings, clock=clock,
            dispatcher=AlertDispatcher(engine, settings, background=False),
            registry=registry,
        )
        self.model = model

    @property
    def covered(self) -> tuple[str, ...]:
        """Job kinds this driver really runs."""
        return tuple(sorted(job.kind.name for job in self.jobs))

    def tick(self) -> TickResult:
        """Run every window due at the clock's time, oldest first, kind by kind."""
        from lifecycle.jobs.tick import run_due

        result = TickResult()
        for job in self.jobs:
            for run in run_due(self.context, job):
                result.ran.append((run.kind, run.window.start, run.window.end, run.status))
                if run.error is not None:
                    result.failures.append((run.kind, str(run.window),
                                            run.error.splitlines()[0]))
        return result

    def poll_requests(self) -> list[Any]:
        """Run the model's queued requests (retrains) now; their outcomes, oldest first."""
        from lifecycle.jobs.requests import process_pending

        return process_pending(self.context, models=frozenset({self.model}))

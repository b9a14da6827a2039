"""The scheduler's plan: which (job kind, model) pairs run, when, and with which function.

Built and validated once at start from the settings. Every problem raises
:class:`~lifecycle.errors.ConfigError` naming the key: an unknown model in
``scheduler.models`` (or ``--model``), an unknown job kind under ``[models.NAME.schedule]``, a
job or retrain function that cannot be imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from lifecycle.config import JobSchedule, Settings
from lifecycle.errors import ConfigError
from lifecycle.jobs.kinds import ALERT_EVALUATORS, JOB_ALERTS, JOBS, import_path

#: Used by manual runs (``run_window``) of a kind the model has no schedule for.
DEFAULT_SCHEDULE = JobSchedule(kind="manual", window=timedelta(hours=1),
                               every=timedelta(hours=1))


@dataclass(frozen=True)
class JobKind:
    """A job kind: its function and the alert evaluator run after each window (if any)."""

    name: str
    function: str
    alerts: str | None
    key: str  # where it was defined, for error messages


@dataclass(frozen=True)
class PlannedJob:
    """One APScheduler job: a job kind for a model."""

    kind: JobKind
    model: str
    schedule: JobSchedule

    @property
    def job_id(self) -> str:
        """Stable APScheduler id ``"<kind>:<model>"`` (config changes replace, never duplicate)."""
        return f"{self.kind.name}:{self.model}"


def job_kinds(settings: Settings) -> dict[str, JobKind]:
    """Built-in kinds from :data:`JOBS` plus ``[scheduler.jobs]`` (which may override)."""
    kinds = {
        name: JobKind(name, path, JOB_ALERTS.get(name), f"lifecycle.jobs.kinds.JOBS[{name!r}]")
        for name, path in JOBS.items()
    }
    for name, custom in settings.scheduler.jobs.items():
        kinds[name] = JobKind(name, custom.function, custom.alerts, f"scheduler.jobs.{name}")
    return kinds


def _check_import(path: str, key: str) -> None:
    try:
        import_path(path)
    except ImportError as exc:
        raise ConfigError(f"{key}: {exc}. Fix the import path or install the module") from None


def _check_models(names: Iterable[str], settings: Settings, key: str) -> tuple[str, ...]:
    names = tuple(names)
    unknown = sorted(set(names) - set(settings.models))
    if unknown:
        known = ", ".join(sorted(settings.models)) or "none"
        raise ConfigError(
            f"{key} names unknown model(s) {', '.join(unknown)}; configured models: {known}. "
            "Add a [models.NAME] section to lifecycle.toml or fix the name"
        )
    return names


def build_plan(
    settings: Settings,
    *,
    only_models: Iterable[str] | None = None,
    check_imports: bool = True,
) -> list[PlannedJob]:
    """Validate the scheduling settings and list the jobs this process runs, sorted by id
    (``only_models``, else ``scheduler.models``, else every configured model)."""
    names: tuple[str, ...] = tuple(sorted(settings.models))
    if settings.scheduler.models is not None:
        names = _check_models(settings.scheduler.models, settings, "scheduler.models")
    if only_models is not None:
        names = tuple(sorted(set(_check_models(only_models, settings, "--model"))))
    kinds = job_kinds(settings)
    plan: list[PlannedJob] = []
    for model in names:
        ms = settings.models[model]
        for kind_name, schedule in ms.schedule.jobs.items():
            key = f"models.{model}.schedule.{kind_name}"
            if kind_name not in kinds:
                raise ConfigError(
                    f"{key}: unknown job kind {kind_name!r}; known kinds: "
                    f"{', '.join(sorted(kinds))} (add your own in [scheduler.jobs])"
                )
            if schedule.enabled:
                plan.append(PlannedJob(kinds[kind_name], model, schedule))
        if (ms.alerts.retrain_on and settings.scheduler.retrain_function is None
                and ms.retrain.trainer is None):
            raise ConfigError(
                f"models.{model}.alerts.retrain_on is set but nothing can retrain {model!r}: "
                f"set [models.{model}.retrain] trainer = 'package.module:function' (the "
                "built-in retrain, docs/retraining.md), or scheduler.retrain_function"
            )
    if check_imports:
        seen: set[str] = set()
        for job in plan:
            if job.kind.name not in seen:
                seen.add(job.kind.name)
                _check_import(job.kind.function, job.kind.key)
                if job.kind.alerts is not None:
                    _check_import(ALERT_EVALUATORS[job.kind.alerts], job.kind.key)
        if settings.scheduler.retrain_function is not None:
            _check_import(settings.scheduler.retrain_function, "scheduler.retrain_function")
    return sorted(plan, key=lambda j: j.job_id)


def manual_job(settings: Settings, kind: str, model: str) -> PlannedJob:
    """The job for a manual run of ``kind`` on ``model`` (the model's schedule if it has one)."""
    kinds = job_kinds(settings)
    if kind not in kinds:
        raise ConfigError(f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(kinds))}")
    schedule = settings.model(model).schedule.jobs.get(kind, DEFAULT_SCHEDULE)
    return PlannedJob(kinds[kind], model, schedule)

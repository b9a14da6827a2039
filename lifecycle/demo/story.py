"""The demo's simulated clock and event loop: train, register, serve, stream, label, run the jobs.

:func:`run_story` does, on a database that ``lifecycle db upgrade`` just created:

1. generate historical applications (:mod:`lifecycle.demo.data`) and train the first model
   with the team's trainer named in ``lifecycle.toml`` (``credit_trainer:train``, imported
   and called through :mod:`lifecycle.training.trainer`, as a retrain does), saved with
   joblib;
2. hand the file to ``register`` (the CLI registers it with ``lifecycle register
   credit_default --from-file ... --alias champion``) and store the training features as the
   model's drift reference profile;
3. serve it with ``lifecycle.ManagedModel("credit_default", id_column="application_id",
   clock=clock)``: every logged prediction carries the *simulated* time; a challenger, once
   there is one, is scored in batch on the same requests by the ``shadow_score`` job
   (ManagedModel's default ``shadow="batch"``);
4. stream ``days`` days of applications, one ``predict_proba`` batch per simulated hour,
   deliver each label when its (random, late) arrival time passes with
   ``lifecycle.log_outcomes`` (some never arrive);
5. at every tick (each ``tick`` hours of simulated time) flush capture and the shadow queue,
   run the real scheduled jobs for the windows that closed (drift, performance, shadow
   scoring, shadow evaluation;
   :class:`~lifecycle.demo.driver.JobDriver`), run the queued requests (retrains) as a
   scheduler's request poll does, have ``ManagedModel`` read its aliases, and report what
   the jobs wrote (:class:`~lifecycle.demo.observe.Observer`,
   :class:`~lifecycle.demo.loop_events.LoopObserver`).

The world changes at known days (:class:`~lifecycle.demo.data.World`): a covariate shift, then
a concept change. One person acts in the story: the model owner, seeing a data-drift alert
that stayed open for a day, asks for a retrain
(``lifecycle.jobs.retrain_trigger.request_retrain``, what ``lifecycle retrain`` does).
Nothing here decides drift, performance, retraining or promotion: the numbers and decisions
come from the jobs.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from lifecycle.config import Settings
from lifecycle.demo.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    ID_COLUMN,
    SHIFTED_FEATURES,
    TARGET,
    World,
    default_probability,
    generate_day,
    generate_reference,
    sample_applicants,
)
from lifecycle.demo.driver import JobDriver
from lifecycle.demo.loop_events import LoopObserver
from lifecycle.demo.observe import Event, Observer, sim_label
from lifecycle.demo.registry import SimulatedRegistry
from lifecycle.errors import ConfigError

__all__ = ["MODEL_NAME", "OWNER", "DemoOptions", "SimClock", "StoryResult", "run_story",
           "train_first_model"]

MODEL_NAME = "credit_default"
#: The person in the story: asks for a retrain once a data-drift alert has stayed open a day.
OWNER = "demo:model-owner"
#: How long a model-level data-drift alert stays open before the owner acts on it (a blip that
#: resolves at the next clean window is not worth a retrain).
OWNER_PATIENCE = timedelta(days=1)
#: ManagedModel's alias poll interval: the demo refreshes it at each simulated tick instead,
#: so a wall-clock poll never moves a version at an arbitrary simulated time.
_NO_POLL_SECONDS = 365 * 86_400.0


@dataclass(frozen=True)
class DemoOptions:
    """How long and how busy the simulated period is, and when the world changes."""

    days: int = 42
    rows_per_day: int = 3000
    seed: int = 7
    shift_day: int = 15
    concept_day: int = 29
    reference_days: int = 3
    n_boot: int = 100
    train_rows: int = 20_000
    tick_hours: int = 6
    label_rate: float = 0.8
    #: the promotion gate's horizon (labelled pairs, days): sized so each challenger is
    #: decided within the simulated weeks (docs/demo.md)
    max_pairs: int = 6000
    shadow_days: int = 7

    def __post_init__(self) -> None:
        if self.days < 4:
            raise ConfigError(f"--days must be at least 4, got {self.days}")
        if self.rows_per_day < 200:
            raise ConfigError(f"rows per day must be at least 200, got {self.rows_per_day}")
        if not 1 <= self.reference_days <= self.shift_day < self.concept_day < self.days:
            raise ConfigError(
                "the days must satisfy 1 <= reference_days <= shift_day < concept_day < days; "
                f"got reference_days={self.reference_days}, shift_day={self.shift_day}, "
                f"concept_day={self.concept_day}, days={self.days}. Use more --days or move "
                "--shift-day / --concept-day"
            )
        if 24 % self.tick_hours:
            raise ConfigError(f"tick_hours must divide 24, got {self.tick_hours}")

    @classmethod
    def for_days(cls, days: int, **overrides: Any) -> DemoOptions:
        """Options whose change days scale with ``days`` (15 and 29 of 42 by default)."""
        shift = overrides.pop("shift_day", None)
        concept = overrides.pop("concept_day", None)
        if shift is None:
            shift = max(2, round(days * 15 / 42))
        if concept is None:
            concept = max(shift + 1, round(days * 29 / 42))
        reference = overrides.pop("reference_days", None) or min(3, shift)
        return cls(days=days, shift_day=shift, concept_day=concept,
                   reference_days=reference, **overrides)

    @property
    def world(self) -> World:
        return World(seed=self.seed, shift_day=self.shift_day, concept_day=self.concept_day)


class SimClock:
    """A settable clock: calling it returns the simulated time (aware UTC)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def timeline_start(days: int, today: datetime | None = None) -> datetime:
    """First simulated day: the story ends at today's 00:00 UTC, so the dashboard's recent
    views show it."""
    today = today or datetime.now(UTC)
    midnight = today.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days)


def train_first_model(settings: Settings, train: pd.DataFrame) -> Any:
    """The first champion: ``[models.credit_default.retrain] trainer`` (the team's
    ``credit_trainer:train``), imported and called through the trainer contract exactly as a
    retrain calls it (:func:`lifecycle.training.trainer.load_trainer` and ``fit``)."""
    from lifecycle.training.trainer import fit, load_trainer

    rs = settings.model(MODEL_NAME).retrain
    trainer = load_trainer(MODEL_NAME, rs)
    frame = train[[*FEATURES, TARGET]].rename(columns={TARGET: rs.target})
    return fit(trainer, frame, rs.target, dict(rs.params))


@dataclass
class StoryResult:
    """What the loop saw: events in order, timings, and what was (not) covered."""

    start: datetime
    options: DemoOptions
    events: list[Event] = field(default_factory=list)
    covered: tuple[str, ...] = ()
    not_covered: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    performance_seen_at: dict[int, datetime] = field(default_factory=dict)
    shifted_features: tuple[str, ...] = SHIFTED_FEATURES
    owner_request: int | None = None


def _world_facts(options: DemoOptions) -> dict[str, Any]:
    """True default rates and the old rule's AUC in each regime (for the story's text)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(np.random.SeedSequence([options.seed, 99]))
    base = sample_applicants(rng, 20_000)
    shifted = sample_applicants(rng, 20_000, shifted=True)
    p0 = default_probability(base)
    p1 = default_probability(shifted)
    p2 = default_probability(shifted, concept_changed=True)
    y2 = rng.random(p2.size) < p2
    return {
        "rate_before": float(p0.mean()), "rate_shift": float(p1.mean()),
        "rate_concept": float(p2.mean()),
        "auc_old_rule_after_concept": float(roc_auc_score(y2, p1)),
    }


def _store_reference(engine: Engine, settings: Settings, train: pd.DataFrame,
                     folder: Path, now: datetime) -> str:
    """Profile the training features and store them as the model's active data reference
    (what ``lifecycle reference set credit_default --from training.parquet`` does, through the
    same :func:`lifecycle.reference.set_reference`)."""
    from dataclasses import replace

    from lifecycle.reference import set_reference

    ms = settings.model(MODEL_NAME)
    ms = replace(ms, task=ms.task or "classification", features=ms.features or FEATURES,
                 categorical=ms.categorical or CATEGORICAL_FEATURES)
    frame = train[list(ms.features)].reset_index(drop=True)
    path = folder / "training.parquet"
    train.to_parquet(path, index=False)
    done = set_reference(engine, ms, frame, source=f"file {path}", now=now)
    return (f"reference profile #{done.ids['data']} (data) from {len(frame):,} training rows, "
            f"{len(frame.columns)} features (file {path.name})")


def run_story(
    engine: Engine,
    settings: Settings,
    options: DemoOptions,
    *,
    start: datetime,
    folder: Path,
    register: Callable[[Path], str],
    on_event: Callable[[Event], None] = lambda e: None,
    on_day: Callable[[int], None] = lambda d: None,
) -> StoryResult:
    """Train, register, serve and stream the whole simulated period (module docstring).

    ``register(path)`` registers the saved first model as the champion and returns its
    version (the CLI runs ``lifecycle register``).
    """
    import joblib
    from sklearn.metrics import roc_auc_score

    result = StoryResult(start=start, options=options)
    t0 = time.perf_counter()
    history = generate_reference(options.train_rows, seed=options.seed)
    cut = int(len(history) * 0.75)
    train, valid = history.iloc[:cut], history.iloc[cut:]
    model = train_first_model(settings, train)
    valid_auc = float(roc_auc_score(valid[TARGET],
                                    model.predict_proba(valid[list(FEATURES)])[:, 1]))
    result.facts.update(_world_facts(options), valid_auc=valid_auc, train_rows=len(train))
    model_file = folder / "champion-v1.joblib"
    joblib.dump(model, model_file)
    result.timings["train_s"] = time.perf_counter() - t0
    loop = _Loop(engine, settings, options, result, on_event)
    trainer = settings.model(MODEL_NAME).retrain.trainer
    loop.tell(start, "setup", (
        f"trained the first model with the team's trainer {trainer} on {len(train):,} "
        f"historical applications ({len(FEATURES)} features, default rate "
        f"{train[TARGET].mean():.1%}); validation ROC AUC {valid_auc:.3f}; saved as "
        f"{model_file.name}"))
    t_reg = time.perf_counter()
    version = register(model_file)
    loop.registry.note_created(MODEL_NAME, version, start)
    result.timings["register_s"] = time.perf_counter() - t_reg
    loop.tell(start, "setup", _store_reference(engine, settings, train, folder, start))
    result.covered += ("reference",)
    t_stream = time.perf_counter()
    try:
        loop.serve()
        for day in range(options.days):
            loop.day(day)
            on_day(day)
    finally:
        loop.close()
    result.timings["stream_s"] = time.perf_counter() - t_stream
    result.timings.update({f"{k}_s": v for k, v in loop.spent.items()})
    result.facts.update(predictions=loop.n_predictions, labels=loop.n_labels)
    result.performance_seen_at = dict(loop.observer.performance_seen_at)
    return result


class _Loop:
    """The simulated clock and everything that happens on it, day by day and tick by tick."""

    def __init__(self, engine: Engine, settings: Settings, options: DemoOptions,
                 result: StoryResult, on_event: Callable[[Event], None]) -> None:
        self.engine = engine
        self.settings = settings
        self.options = options
        self.result = result
        self.start = result.start
        self.on_event = on_event
        self.clock = SimClock(result.start)
        self.registry = SimulatedRegistry(settings.mlflow_tracking_uri, self.clock)
        self.driver = JobDriver(engine, settings, MODEL_NAME, self.clock,
                                registry=self.registry)
        result.covered = self.driver.covered
        result.not_covered = dict(self.driver.missing)
        self.observer = Observer(engine, MODEL_NAME, result.start)
        self.loop_observer = LoopObserver(engine, MODEL_NAME, result.start)
        self.managed: Any = None
        self.serving: tuple[str, str | None] | None = None
        self.pending: list[tuple[datetime, str, int]] = []  # (arrival, key, label) heap
        self.failures_told: set[tuple[str, str]] = set()
        self.n_predictions = self.n_labels = 0
        self.spent = dict.fromkeys(("predict", "labels", "flush", "jobs", "requests",
                                    "observe"), 0.0)

    def tell(self, ts: datetime, kind: str, message: str, **details: Any) -> None:
        event = Event(ts, kind, message, details)
        self.result.events.append(event)
        self.on_event(event)

    def serve(self) -> None:
        """Start serving the champion through ``lifecycle.ManagedModel``."""
        from lifecycle.serving.managed import ManagedModel  # = lifecycle.ManagedModel

        self.managed = ManagedModel(MODEL_NAME, registry=self.registry, settings=self.settings,
                                    poll_seconds=_NO_POLL_SECONDS, id_column=ID_COLUMN,
                                    clock=self.clock)
        self.managed.load()
        self._tell_serving(self.start)

    def close(self) -> None:
        if self.managed is not None:
            self.managed.close()

    def _tell_serving(self, now: datetime) -> None:
        versions = tuple(self.managed.versions)
        if versions == self.serving:
            return
        self.serving = (versions[0], versions[1])
        shadow = (f"challenger v{versions[1]} is scored in batch on the same requests "
                  "(the shadow_score job, from the logged inputs)"
                  if versions[1] else "no challenger to shadow")
        self.tell(now, "serving", (
            f"{sim_label(now, self.start)}: ManagedModel serves champion v{versions[0]}; "
            f"{shadow}"))

    def _announce(self, day: int, day_start: datetime) -> None:
        facts, when = self.result.facts, sim_label(day_start, self.start)
        if day == self.options.shift_day:
            self.tell(day_start, "world", (
                f"{when}: [world] covariate shift starts in {', '.join(SHIFTED_FEATURES)}: a "
                "payroll partner sends applicants with ~30% lower incomes, lower card "
                "utilisation, mostly salaried (true default rate "
                f"{facts['rate_before']:.1%} -> {facts['rate_shift']:.1%}); the rule linking "
                "inputs to default is unchanged"))
        if day == self.options.concept_day:
            self.tell(day_start, "world", (
                f"{when}: [world] concept change: an interest-rate shock and a payment holiday "
                "change WHO defaults (debt-to-income, loan size and renting now matter, late "
                "payments and utilisation no longer do); inputs unchanged. Even a perfect copy "
                f"of the old rule now ranks at ROC AUC {facts['auc_old_rule_after_concept']:.2f}"))

    def day(self, day: int) -> None:
        """One simulated day: one scoring call per hour, a tick every ``tick_hours``."""
        day_start = self.start + timedelta(days=day)
        self._announce(day, day_start)
        traffic = generate_day(self.options.world, day, self.options.rows_per_day,
                               label_rate=self.options.label_rate)
        for key, when, y in zip(traffic.frame[ID_COLUMN].tolist(),
                                traffic.label_times(day_start), traffic.target.tolist(),
                                strict=True):
            if when is not None:
                heapq.heappush(self.pending, (when, key, int(y)))
        for hour in range(24):
            hour_start = day_start + timedelta(hours=hour)
            rows = traffic.frame[traffic.hour == hour]
            t = time.perf_counter()
            if len(rows):
                self.clock.now = hour_start + timedelta(minutes=30)
                self.managed.predict_proba(rows)
                self.n_predictions += len(rows)
            self.spent["predict"] += time.perf_counter() - t
            if (hour + 1) % self.options.tick_hours == 0:
                self.tick(hour_start + timedelta(hours=1))

    def _persistent_drift(self, now: datetime) -> int | None:
        """The model-level data-drift alert open for at least :data:`OWNER_PATIENCE`, if any
        (what the owner sees in ``lifecycle alerts``)."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from lifecycle.storage.tables import Alert, ModelRow

        with Session(self.engine) as session:
            found = session.scalar(
                select(Alert.id).join(ModelRow, ModelRow.id == Alert.model_id)
                .where(ModelRow.name == MODEL_NAME, Alert.kind == "data_drift",
                       Alert.feature.is_(None), Alert.status == "open",
                       Alert.first_seen <= now - OWNER_PATIENCE)
                .order_by(Alert.id).limit(1))
        return found

    def _owner_asks(self, now: datetime, alert_id: int) -> None:
        """The model owner, paged by a data-drift alert that stayed open for a day, asks for
        a retrain: ``lifecycle retrain credit_default --reason ...`` (same queue, cooldown and
        audit as an alert's retrain)."""
        from lifecycle.jobs.retrain_trigger import request_retrain

        reason = (f"data drift alert #{alert_id} open for a day: retrain on recent traffic")
        asked = request_retrain(self.engine, self.settings, MODEL_NAME, actor=OWNER,
                                reason=reason, now=now)
        self.result.owner_request = asked.request_id
        self.tell(now, "person", (
            f"{sim_label(now, self.start)}: the model owner, seeing data-drift alert "
            f"#{alert_id} open for a day, asks for a retrain (`lifecycle retrain {MODEL_NAME} "
            f"--reason \"{reason}\"`): {asked.message}"))

    def tick(self, now: datetime) -> None:
        """Deliver labels, flush, run the due jobs and the queued work, refresh the served
        versions, tell what's new."""
        import lifecycle

        self.clock.now = now
        t = time.perf_counter()
        due: list[tuple[datetime, str, int]] = []
        while self.pending and self.pending[0][0] < now:
            due.append(heapq.heappop(self.pending))
        if due:  # stamped with their exact (simulated) arrival times
            extra = {"received_at": now}  # simulated receipt time: label delay is realistic
            lifecycle.log_outcomes(MODEL_NAME, [d[1] for d in due], [d[2] for d in due],
                                   timestamps=[d[0] for d in due], **extra)
            self.n_labels += len(due)
        t_flush = time.perf_counter()
        self.managed.flush()  # the shadow queue, then lifecycle.flush()
        t_jobs = time.perf_counter()
        ticked = self.driver.tick()
        t_requests = time.perf_counter()
        if self.result.owner_request is None:
            alert_id = self._persistent_drift(now)
            if alert_id is not None:
                self._owner_asks(now, alert_id)
        self.driver.poll_requests()
        self.managed.refresh()
        t_poll = time.perf_counter()
        for kind, window, error in ticked.failures:  # told once per distinct error
            if (kind, error) not in self.failures_told:
                self.failures_told.add((kind, error))
                self.tell(now, "failure",
                          f"{sim_label(now, self.start)}: {kind} job failed for {window}: "
                          f"{error}")
            self.result.failures.append(f"{kind} {window}: {error}")
        events = self.observer.poll(now) + self.loop_observer.poll(now)
        for event in sorted(events, key=lambda e: e.ts):
            self.result.events.append(event)
            self.on_event(event)
        self._tell_serving(now)
        end = time.perf_counter()
        for name, spent in (("labels", t_flush - t), ("flush", t_jobs - t_flush),
                            ("jobs", t_requests - t_jobs), ("requests", t_poll - t_requests),
                            ("observe", end - t_poll)):
            self.spent[name] += spent

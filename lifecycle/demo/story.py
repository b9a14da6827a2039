"""The demo's simulated clock and event loop: train, monitor, stream, label, run the jobs.

:func:`run_story` does, on a database that ``lifecycle db upgrade`` just created:

1. generate historical applications (:mod:`lifecycle.demo.data`) and train a scikit-learn
   pipeline (one-hot encoding, scaling, logistic regression) on them;
2. wrap it with ``lifecycle.monitor("credit_default", id_column="application_id",
   clock=clock)`` so every logged prediction carries the *simulated* time;
3. store the training features as the model's drift reference profile;
4. stream ``days`` days of applications, one ``predict_proba`` batch per simulated hour,
   deliver each label when its (random, late) arrival time passes with
   ``lifecycle.log_outcomes`` (some never arrive);
5. at every tick (each ``tick`` hours of simulated time) flush the capture queue and run the
   real scheduled jobs for the windows that closed (:class:`~lifecycle.demo.driver.JobDriver`),
   then report what they wrote (:class:`~lifecycle.demo.observe.Observer`).

The world changes at known days (:class:`~lifecycle.demo.data.World`): a covariate shift, then
a concept change. Nothing here decides drift or performance: the numbers come from the jobs.
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
    NUMERIC_FEATURES,
    SHIFTED_FEATURES,
    TARGET,
    World,
    default_probability,
    generate_day,
    generate_reference,
    sample_applicants,
)
from lifecycle.demo.driver import JobDriver
from lifecycle.demo.observe import Event, Observer, sim_label
from lifecycle.errors import ConfigError

__all__ = ["MODEL_NAME", "DemoOptions", "SimClock", "StoryResult", "run_story", "train_model"]

MODEL_NAME = "credit_default"


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


def train_model(train: pd.DataFrame) -> Any:
    """One-hot encoding + scaled numeric features (log for money amounts) + logistic
    regression, fitted on ``train``."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    money = ["income", "loan_amount"]
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
        (make_pipeline(FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                       StandardScaler()), money),
        (StandardScaler(), [f for f in NUMERIC_FEATURES if f not in money]),
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=1000))
    model.fit(train[list(FEATURES)], train[TARGET])
    return model


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


def _world_facts(options: DemoOptions) -> dict[str, Any]:
    """True default rates and the best achievable AUC in each regime (for the story's text)."""
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
                     folder: Path | None) -> str:
    """Profile the training features and store them as the model's active data reference
    (what ``lifecycle reference set credit_default --from training.parquet`` does, through the
    same :func:`lifecycle.reference.set_reference`)."""
    from dataclasses import replace

    from lifecycle.reference import set_reference

    ms = settings.model(MODEL_NAME)
    ms = replace(ms, task=ms.task or "classification", features=ms.features or FEATURES,
                 categorical=ms.categorical or CATEGORICAL_FEATURES)
    frame = train[list(ms.features)].reset_index(drop=True)
    source = "demo training data"
    if folder is not None:
        path = folder / "training.parquet"
        train.to_parquet(path, index=False)
        source = f"file {path}"
    done = set_reference(engine, ms, frame, source=source)
    return (f"reference profile #{done.ids['data']} (data) from {len(frame):,} training rows, "
            f"{len(frame.columns)} features ({source})")


def run_story(
    engine: Engine,
    settings: Settings,
    options: DemoOptions,
    *,
    start: datetime,
    folder: Path | None = None,
    on_event: Callable[[Event], None] = lambda e: None,
    on_day: Callable[[int], None] = lambda d: None,
) -> StoryResult:
    """Train, monitor and stream the whole simulated period (see the module docstring)."""
    from sklearn.metrics import roc_auc_score


    result = StoryResult(start=start, options=options)
    t0 = time.perf_counter()
    history = generate_reference(options.train_rows, seed=options.seed)
    cut = int(len(history) * 0.75)
    train, valid = history.iloc[:cut], history.iloc[cut:]
    model = train_model(train)
    valid_auc = float(roc_auc_score(valid[TARGET],
                                    model.predict_proba(valid[list(FEATURES)])[:, 1]))
    result.facts.update(_world_facts(options), valid_auc=valid_auc, train_rows=len(train))
    result.timings["train_s"] = time.perf_counter() - t0
    loop = _Loop(engine, settings, options, result, on_event)
    loop.tell(start, "setup", (
        f"trained a logistic regression pipeline on {len(train):,} historical applications "
        f"({len(FEATURES)} features, default rate {train[TARGET].mean():.1%}); "
        f"validation ROC AUC {valid_auc:.3f}"))
    from lifecycle.capture.monitor import monitor  # = lifecycle.monitor, the public decorator

    monitored = monitor(MODEL_NAME, id_column=ID_COLUMN, clock=loop.clock)(model)
    try:
        loop.tell(start, "setup", _store_reference(engine, settings, train, folder))
        result.covered += ("reference",)
    except Exception as exc:  # noqa: BLE001 - reported, never faked
        result.not_covered["reference"] = str(exc).splitlines()[0]
        loop.tell(start, "failure",
                  f"reference profile NOT stored: {result.not_covered['reference']}")
    t_stream = time.perf_counter()
    for day in range(options.days):
        loop.day(day, monitored)
        on_day(day)
    result.timings["stream_s"] = time.perf_counter() - t_stream
    result.timings.update({f"{k}_s": v for k, v in loop.spent.items()})
    result.facts.update(predictions=loop.n_predictions, labels=loop.n_labels)
    result.performance_seen_at = dict(loop.observer.performance_seen_at)
    return result


class _Loop:
    """The simulated clock and everything that happens on it, day by day and tick by tick."""

    def __init__(self, engine: Engine, settings: Settings, options: DemoOptions,
                 result: StoryResult, on_event: Callable[[Event], None]) -> None:

        self.options = options
        self.result = result
        self.start = result.start
        self.on_event = on_event
        self.clock = SimClock(result.start)
        self.driver = JobDriver(engine, settings, MODEL_NAME, self.clock)
        result.covered = self.driver.covered
        result.not_covered = dict(self.driver.missing)
        self.observer = Observer(engine, MODEL_NAME, result.start)
        self.pending: list[tuple[datetime, str, int]] = []  # (arrival, key, label) heap
        self.failures_told: set[tuple[str, str]] = set()
        self.n_predictions = self.n_labels = 0
        self.spent = dict.fromkeys(("predict", "labels", "flush", "jobs", "observe"), 0.0)

    def tell(self, ts: datetime, kind: str, message: str, **details: Any) -> None:
        event = Event(ts, kind, message, details)
        self.result.events.append(event)
        self.on_event(event)

    def _announce(self, day: int, day_start: datetime) -> None:
        facts, when = self.result.facts, sim_label(day_start, self.start)
        if day == self.options.shift_day:
            self.tell(day_start, "world", (
                f"{when}: [world] covariate shift starts in {', '.join(SHIFTED_FEATURES)}: "
                "incomes fall ~30%, card utilisation rises, more self-employed/contractor/"
                f"unemployed applicants (true default rate {facts['rate_before']:.1%} -> "
                f"{facts['rate_shift']:.1%}); the rule linking inputs to default is unchanged"))
        if day == self.options.concept_day:
            self.tell(day_start, "world", (
                f"{when}: [world] concept change: an interest-rate shock and a payment holiday "
                "change WHO defaults (debt-to-income, loan size and renting now matter, late "
                "payments and utilisation no longer do); inputs unchanged. Even a perfect copy "
                f"of the old rule now ranks at ROC AUC {facts['auc_old_rule_after_concept']:.2f}"))

    def day(self, day: int, monitored: Any) -> None:
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
                monitored.predict_proba(rows)
                self.n_predictions += len(rows)
            self.spent["predict"] += time.perf_counter() - t
            if (hour + 1) % self.options.tick_hours == 0:
                self.tick(hour_start + timedelta(hours=1))

    def tick(self, now: datetime) -> None:
        """Deliver the labels that arrived, flush capture, run the due jobs, tell what's new."""
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
        lifecycle.flush()
        t_jobs = time.perf_counter()
        ticked = self.driver.tick()
        t_poll = time.perf_counter()
        for kind, window, error in ticked.failures:  # told once per distinct error
            if (kind, error) not in self.failures_told:
                self.failures_told.add((kind, error))
                self.tell(now, "failure",
                          f"{sim_label(now, self.start)}: {kind} job failed for {window}: "
                          f"{error}")
            self.result.failures.append(f"{kind} {window}: {error}")
        for event in self.observer.poll(now):
            self.result.events.append(event)
            self.on_event(event)
        end = time.perf_counter()
        for name, spent in (("labels", t_flush - t), ("flush", t_jobs - t_flush),
                            ("jobs", t_poll - t_jobs), ("observe", end - t_poll)):
            self.spent[name] += spent

"""A realistic credit-default problem, generated (nothing is downloaded), with a world that changes.

Applicants have twelve features (eight numeric, four categorical) and a binary target,
``default`` (the loan goes 60+ days past due within its first months). Features are drawn
independently of each other, so a change in one feature's distribution never leaks into
another: when the demo says "income shifted", only income (and the features explicitly named)
moved, and a drift alert on any other feature is a false alarm.

The :class:`World` holds two known change points, counted in simulated days from the start of
live traffic (day 0):

``shift_day``
    **Covariate shift** (a new acquisition channel: a partnership with a payroll provider):
    from this day on, incomes are ~30% lower, card utilisation is lower and most applicants
    are salaried (:data:`SHIFTED_FEATURES`). The relation between inputs and default does not
    change, so a well-specified model stays calibrated: only the inputs moved. The changes
    offset each other in risk (lower income raises it, lower utilisation and steadier
    employment lower it): the default rate stays near 16% and the model's accuracy, log loss
    and ROC AUC stay where they were, so retraining on the new applicants cannot do better.
``concept_day``
    **Concept change** (an interest-rate shock plus a payment-holiday programme): from this day
    on the relation between inputs and default moves: debt-to-income, loan size and renting
    now drive defaults, while past late payments (cleared by the programme) no longer
    predict them, card utilisation even goes slightly the other way and income matters less.
    Inputs do not change at that day, so data drift cannot see it: only performance on (late)
    labels can. The old rule ranks the new outcomes at ROC AUC ~0.65 instead of ~0.75; a model
    fitted on a few thousand labelled rows of the new world gets ~0.78 back.

Everything is seeded: the traffic of day ``d`` depends only on ``(seed, d)``, so any day can be
regenerated alone and two runs with the same seed see identical data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from lifecycle.errors import ConfigError

__all__ = [
    "CATEGORICAL_FEATURES",
    "CATEGORIES",
    "FEATURES",
    "ID_COLUMN",
    "NUMERIC_FEATURES",
    "SHIFTED_FEATURES",
    "TARGET",
    "DayTraffic",
    "World",
    "default_probability",
    "generate_day",
    "generate_reference",
    "hourly_weights",
    "sample_applicants",
]

ID_COLUMN = "application_id"
TARGET = "default"

NUMERIC_FEATURES: tuple[str, ...] = (
    "age",
    "income",
    "loan_amount",
    "credit_utilisation",
    "months_employed",
    "num_credit_lines",
    "debt_to_income",
    "late_payments_12m",
)

#: Category -> probability, before the covariate shift.
CATEGORIES: dict[str, dict[str, float]] = {
    "employment_type": {
        "salaried": 0.62, "self_employed": 0.14, "contractor": 0.10,
        "unemployed": 0.04, "retired": 0.10,
    },
    "home_ownership": {"rent": 0.42, "mortgage": 0.40, "own": 0.18},
    "loan_purpose": {
        "debt_consolidation": 0.38, "car": 0.18, "home_improvement": 0.14, "education": 0.08,
        "business": 0.10, "medical": 0.06, "other": 0.06,
    },
    "region": {"north": 0.22, "south": 0.25, "east": 0.18, "west": 0.20, "central": 0.15},
}
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(CATEGORIES)
FEATURES: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)

#: The features whose distribution moves at the covariate shift (all others stay put).
SHIFTED_FEATURES: tuple[str, ...] = ("income", "credit_utilisation", "employment_type")

_SHIFTED_EMPLOYMENT = {
    "salaried": 0.80, "self_employed": 0.06, "contractor": 0.06,
    "unemployed": 0.02, "retired": 0.06,
}

_INCOME_MEDIAN = 52_000.0
_INCOME_SHIFT = 0.70  # median income multiplier after the shift
_LOAN_MEDIAN = 12_000.0


@dataclass(frozen=True)
class World:
    """The simulated world: when it changes, and the seed of everything random.

    Attributes
    ----------
    seed
        Seeds the traffic (day ``d`` uses ``SeedSequence([seed, d])``).
    shift_day
        First day of the covariate shift in :data:`SHIFTED_FEATURES` (``None``: never).
    concept_day
        First day of the concept change (``None``: never).
    """

    seed: int = 7
    shift_day: int | None = 15
    concept_day: int | None = 29

    def __post_init__(self) -> None:
        for name in ("shift_day", "concept_day"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ConfigError(
                    f"{name} must be a day number >= 0 (or None for never), got {value!r}"
                )

    def shifted(self, day: int) -> bool:
        """Whether the covariate shift is in effect on ``day``."""
        return self.shift_day is not None and day >= self.shift_day

    def concept_changed(self, day: int) -> bool:
        """Whether the concept change is in effect on ``day``."""
        return self.concept_day is not None and day >= self.concept_day


def _categorical(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(probs), dtype=object)
    p = np.array(list(probs.values()), dtype=float)
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def sample_applicants(rng: np.random.Generator, n: int, *, shifted: bool = False) -> pd.DataFrame:
    """``n`` applicants' features (one column per name in :data:`FEATURES`).

    Every feature is drawn independently; ``shifted=True`` changes only the features in
    :data:`SHIFTED_FEATURES`.
    """
    if n < 0:
        raise ConfigError(f"n must be >= 0, got {n!r}")
    income_median = _INCOME_MEDIAN * (_INCOME_SHIFT if shifted else 1.0)
    util_a, util_b = (1.4, 6.5) if shifted else (2.0, 5.0)
    employment = _SHIFTED_EMPLOYMENT if shifted else CATEGORIES["employment_type"]
    late_rate = rng.gamma(0.6, 0.7, size=n)  # over-dispersed: a few chronic late payers
    columns: dict[str, np.ndarray] = {
        "age": np.clip(np.round(21 + rng.gamma(4.0, 4.5, size=n)), 21, 75),
        "income": np.round(rng.lognormal(np.log(income_median), 0.45, size=n), -2),
        "loan_amount": np.round(rng.lognormal(np.log(_LOAN_MEDIAN), 0.6, size=n), -1),
        "credit_utilisation": np.round(rng.beta(util_a, util_b, size=n), 4),
        "months_employed": np.clip(np.round(rng.exponential(60.0, size=n)), 0, 480),
        "num_credit_lines": 1.0 + rng.poisson(3.0, size=n),
        "debt_to_income": np.round(rng.beta(2.5, 8.0, size=n), 4),
        "late_payments_12m": rng.poisson(late_rate).astype(float),
        "employment_type": _categorical(rng, employment, n),
        "home_ownership": _categorical(rng, CATEGORIES["home_ownership"], n),
        "loan_purpose": _categorical(rng, CATEGORIES["loan_purpose"], n),
        "region": _categorical(rng, CATEGORIES["region"], n),
    }
    frame = pd.DataFrame({name: columns[name] for name in FEATURES})
    for name in CATEGORICAL_FEATURES:
        frame[name] = frame[name].astype(str)
    return frame


_EMPLOYMENT_EFFECT = {"salaried": 0.0, "self_employed": 0.35, "contractor": 0.45,
                      "unemployed": 1.1, "retired": 0.1}
_HOME_EFFECT = {"rent": 0.25, "mortgage": 0.0, "own": -0.2}
_HOME_EFFECT_NEW = {"rent": 0.9, "mortgage": 0.3, "own": -0.5}
_PURPOSE_EFFECT = {"debt_consolidation": 0.2, "car": -0.1, "home_improvement": -0.15,
                   "education": 0.1, "business": 0.45, "medical": 0.3, "other": 0.0}


def _lookup(values: pd.Series, table: dict[str, float]) -> np.ndarray:
    return values.map(table).fillna(0.0).to_numpy(dtype=float)


def default_probability(features: pd.DataFrame, *, concept_changed: bool = False) -> np.ndarray:
    """P(default | x) under the original relation, or the changed one.

    Original: risk falls with income, age and tenure, rises with card utilisation, past late
    payments, debt-to-income, loan size, and depends on employment, housing and purpose.
    Region plays no role. Changed: late payments stop mattering, utilisation turns slightly
    protective, income matters less, debt-to-income, loan size and renting matter much more
    (see the module docstring).
    """
    log_income = np.log(features["income"].to_numpy(dtype=float)) - np.log(_INCOME_MEDIAN)
    log_loan = np.log(features["loan_amount"].to_numpy(dtype=float)) - np.log(_LOAN_MEDIAN)
    util = features["credit_utilisation"].to_numpy(dtype=float) - 0.29
    dti = features["debt_to_income"].to_numpy(dtype=float) - 0.24
    late = features["late_payments_12m"].to_numpy(dtype=float)
    age = features["age"].to_numpy(dtype=float) - 39.0
    tenure = features["months_employed"].to_numpy(dtype=float) - 60.0
    employment = _lookup(features["employment_type"], _EMPLOYMENT_EFFECT)
    purpose = _lookup(features["loan_purpose"], _PURPOSE_EFFECT)
    if not concept_changed:
        z = (-2.55 - 1.1 * log_income + 2.6 * util + 0.6 * late + 2.0 * dti
             + 0.35 * log_loan - 0.012 * age - 0.004 * tenure + employment
             + _lookup(features["home_ownership"], _HOME_EFFECT) + purpose)
    else:
        z = (-3.0 - 0.3 * log_income - 0.6 * util + 0.0 * late + 6.0 * dti
             + 1.2 * log_loan - 0.012 * age - 0.004 * tenure + employment
             + _lookup(features["home_ownership"], _HOME_EFFECT_NEW) + purpose)
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=float)


def generate_reference(n: int, seed: int = 7) -> pd.DataFrame:
    """Historical applications from before the live period (features, ids and ``default``).

    Drawn from the original world with its own seed stream (independent of every live day).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1_000_003]))
    frame = sample_applicants(rng, n)
    frame[TARGET] = (rng.random(n) < default_probability(frame)).astype(int)
    frame.insert(0, ID_COLUMN, [f"hist-{i:07d}" for i in range(n)])
    return frame


def hourly_weights() -> np.ndarray:
    """Share of a day's applications per hour (quiet at night, busy at lunch and evening)."""
    hours = np.arange(24)
    w = (0.25 + np.exp(-0.5 * ((hours - 12.5) / 3.0) ** 2)
         + 0.8 * np.exp(-0.5 * ((hours - 19.5) / 2.0) ** 2))
    return np.asarray(w / w.sum(), dtype=float)


@dataclass(frozen=True)
class DayTraffic:
    """One simulated day of applications.

    Attributes
    ----------
    day
        Day number (0 = first live day).
    frame
        ``application_id`` plus every feature, one row per application, ordered by arrival.
    hour
        Hour of the day (0-23) each application arrives in.
    target
        The true outcome of each application (what the labels will say).
    label_delay
        Seconds after its prediction that each label arrives; ``NaN`` for labels that never
        arrive.
    """

    day: int
    frame: pd.DataFrame
    hour: np.ndarray
    target: np.ndarray
    label_delay: np.ndarray

    def label_times(self, start: datetime) -> list[datetime | None]:
        """Arrival time of each label for a day that starts at ``start``."""
        out: list[datetime | None] = []
        for h, delay in zip(self.hour, self.label_delay, strict=True):
            if np.isnan(delay):
                out.append(None)
            else:
                out.append(start + timedelta(hours=float(h) + 0.5, seconds=float(delay)))
        return out


def generate_day(
    world: World,
    day: int,
    rows: int,
    *,
    label_rate: float = 0.8,
    min_delay_days: float = 1.0,
    mean_extra_delay_days: float = 2.0,
) -> DayTraffic:
    """Traffic of ``day`` under ``world`` (deterministic in ``(world.seed, day)``).

    Parameters
    ----------
    world
        The world and its change days.
    day
        Day number, >= 0.
    rows
        Applications that day (spread over the hours by :func:`hourly_weights`).
    label_rate
        Share of applications whose label ever arrives.
    min_delay_days, mean_extra_delay_days
        A label arrives ``min_delay_days`` plus an exponential delay with this mean after its
        prediction (default: 1 day + 2 days on average).
    """
    if day < 0:
        raise ConfigError(f"day must be >= 0, got {day!r}")
    if rows < 1:
        raise ConfigError(f"rows must be >= 1, got {rows!r}")
    if not 0.0 <= label_rate <= 1.0:
        raise ConfigError(f"label_rate must be in [0, 1], got {label_rate!r}")
    rng = np.random.default_rng(np.random.SeedSequence([world.seed, day]))
    per_hour = rng.multinomial(rows, hourly_weights())
    hour = np.repeat(np.arange(24), per_hour)
    frame = sample_applicants(rng, rows, shifted=world.shifted(day))
    p = default_probability(frame, concept_changed=world.concept_changed(day))
    target = (rng.random(rows) < p).astype(int)
    delay_days = min_delay_days + rng.exponential(mean_extra_delay_days, size=rows)
    delay = np.where(rng.random(rows) < label_rate, delay_days * 86_400.0, np.nan)
    frame.insert(0, ID_COLUMN, [f"d{day:03d}-{i:05d}" for i in range(rows)])
    return DayTraffic(day=day, frame=frame, hour=hour, target=target, label_delay=delay)

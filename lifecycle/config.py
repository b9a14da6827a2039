"""Settings: ``lifecycle.toml`` plus ``LIFECYCLE_*`` environment overrides, validated once.

Where settings come from (later wins):

1. built-in defaults;
2. ``lifecycle.toml`` in the working directory, or the file named by ``LIFECYCLE_CONFIG``;
3. environment variables: ``LIFECYCLE_HOME``, ``LIFECYCLE_DATABASE_URL``,
   ``MLFLOW_TRACKING_URI`` (as MLflow users expect) or ``LIFECYCLE_MLFLOW_TRACKING_URI``
   (wins over it), ``LIFECYCLE_ADMIN_TOKEN``, ``LIFECYCLE_HASH_KEY``,
   ``LIFECYCLE_DASHBOARD_HOST``, ``LIFECYCLE_DASHBOARD_PORT``.

Every invalid value raises :class:`~lifecycle.errors.ConfigError` naming the key, the bad
value and what is allowed. Nothing here runs at import time.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from lifecycle.errors import ConfigError

CONFIG_FILE = "lifecycle.toml"
TASKS = ("classification", "regression")

_TOP_KEYS = {
    "home", "database_url", "mlflow_tracking_uri", "admin_token", "hash_key",
    "capture", "dashboard", "scheduler", "models",
}


# --------------------------------------------------------------------------- helpers


class _Section:
    """Reads typed values out of one TOML table, naming the full key on error."""

    def __init__(self, data: Any, prefix: str, allowed: set[str] | None = None) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"[{prefix}] must be a table, got {type(data).__name__} ({data!r})"
            )
        self.data = dict(data)
        self.prefix = prefix
        if allowed is not None:
            unknown = sorted(set(self.data) - allowed)
            if unknown:
                where = f"in [{prefix}]" if prefix else "at the top level"
                raise ConfigError(
                    f"unknown key(s) {', '.join(self.key(k) for k in unknown)}; "
                    f"allowed keys {where}: {', '.join(sorted(allowed))}"
                )

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def str_(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.key(name)} must be a non-empty string, got {value!r}")
        return value

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_min: bool = False,
    ) -> float:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.key(name)} must be a number, got {value!r}")
        low_ok = (
            minimum is None
            or (value > minimum if exclusive_min else value >= minimum)
        )
        if not low_ok or (maximum is not None and value > maximum):
            lo = "" if minimum is None else f"{'>' if exclusive_min else '>='} {minimum}"
            hi = "" if maximum is None else f"<= {maximum}"
            rng = " and ".join(x for x in (lo, hi) if x)
            raise ConfigError(f"{self.key(name)} = {value!r} is out of range; it must be {rng}")
        return float(value)

    def integer(self, name: str, default: int, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{self.key(name)} must be an integer, got {value!r}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = [f">= {minimum}" if minimum is not None else "",
                      f"<= {maximum}" if maximum is not None else ""]
            raise ConfigError(
                f"{self.key(name)} = {value!r} is out of range; it must be "
                + " and ".join(b for b in bounds if b)
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} must be true or false, got {value!r}")
        return value

    def str_list(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.data.get(name, list(default))
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, str) and v for v in value
        ):
            raise ConfigError(f"{self.key(name)} must be a list of strings, got {value!r}")
        return tuple(value)

    def choice(self, name: str, default: str | None, choices: tuple[str, ...]) -> str | None:
        value = self.data.get(name, default)
        if value is None:
            return None
        if value not in choices:
            raise ConfigError(
                f"{self.key(name)} = {value!r} is not valid; choose one of {', '.join(choices)}"
            )
        return str(value)


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class CaptureSettings:
    """How ``@monitor`` buffers and writes (owned by the capture layer)."""

    spill_dir: Path | None = None
    flush_interval_s: float = 0.5
    batch_size: int = 10_000
    queue_size: int = 200_000
    #: SQLite busy timeout / PostgreSQL connect timeout of the capture writer (seconds).
    db_timeout_s: float = 5.0
    #: How long exit (atexit, SIGTERM) waits for buffered records to be written or spilled.
    shutdown_timeout_s: float = 10.0
    #: Drain the queue on SIGTERM (only when no other SIGTERM handler is installed).
    handle_sigterm: bool = True

    @classmethod
    def parse(cls, data: Any, home: Path) -> CaptureSettings:
        s = _Section(data, "capture", {"spill_dir", "flush_interval_s", "batch_size",
                                        "queue_size", "db_timeout_s", "shutdown_timeout_s",
                                        "handle_sigterm"})
        spill = s.str_("spill_dir")
        return cls(
            spill_dir=Path(spill) if spill else home / "spill",
            flush_interval_s=s.number("flush_interval_s", cls.flush_interval_s,
                                      minimum=0.0, maximum=60.0, exclusive_min=True),
            batch_size=s.integer("batch_size", cls.batch_size, minimum=1, maximum=1_000_000),
            queue_size=s.integer("queue_size", cls.queue_size, minimum=1),
            db_timeout_s=s.number("db_timeout_s", cls.db_timeout_s, minimum=0.0,
                                  maximum=600.0, exclusive_min=True),
            shutdown_timeout_s=s.number("shutdown_timeout_s", cls.shutdown_timeout_s,
                                        minimum=0.0, maximum=600.0),
            handle_sigterm=s.boolean("handle_sigterm", cls.handle_sigterm),
        )


@dataclass(frozen=True)
class DashboardSettings:
    host: str = "127.0.0.1"
    port: int = 8501

    @classmethod
    def parse(cls, data: Any, env: Mapping[str, str]) -> DashboardSettings:
        s = _Section(data, "dashboard", {"host", "port"})
        host = env.get("LIFECYCLE_DASHBOARD_HOST") or s.str_("host", cls.host) or cls.host
        port_raw: Any = env.get("LIFECYCLE_DASHBOARD_PORT", s.get("port", cls.port))
        try:
            port = int(port_raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"dashboard.port must be an integer 1-65535, got {port_raw!r}"
            ) from None
        if not 1 <= port <= 65535:
            raise ConfigError(f"dashboard.port must be an integer 1-65535, got {port_raw!r}")
        return cls(host=host, port=port)


@dataclass(frozen=True)
class CustomJob:
    """A job kind added in ``[scheduler.jobs]`` (``kind = "package.module:function"``)."""

    function: str
    alerts: str | None = None


@dataclass(frozen=True)
class SchedulerSettings:
    """Scheduler process settings (owned by the scheduler layer; ``docs/operations.md``)."""

    lease_seconds: float = 300.0
    misfire_grace_time_s: int = 300
    max_workers: int = 4
    models: tuple[str, ...] | None = None
    jobs: Mapping[str, CustomJob] = field(default_factory=dict)
    retrain_function: str | None = None
    webhook_url: str | None = field(default=None, repr=False)  # may hold a token
    webhook_timeout_s: float = 5.0
    webhook_retries: int = 3
    webhook_backoff_s: float = 1.0

    @classmethod
    def parse(cls, data: Any, env: Mapping[str, str]) -> SchedulerSettings:
        from lifecycle.schedule_config import parse_scheduler

        return parse_scheduler(cls, _Section(data, "scheduler"), env)


@dataclass(frozen=True)
class DriftSettings:
    """Per-model drift policy (owned by the drift engine; see docs/drift.md).

    TOML, all keys optional::

        [models.churn.drift]
        alpha = 0.05                 # Benjamini-Hochberg false discovery rate
        min_samples = 100            # fewer values -> "insufficient_data"
        numeric_tests = ["psi", "ks", "wasserstein", "jensen_shannon"]
        categorical_tests = ["psi", "chi_square", "jensen_shannon"]
        bins = 10                    # PSI / Jensen-Shannon quantile bins
        max_points = 10000           # distinct values kept exactly in a stored profile
        psi_epsilon = 0.0001
        ks_method = "auto"           # auto | exact | asymp (as scipy.stats.ks_2samp)
        prediction_drift = true      # also check the model outputs
        label_drift = true           # also check outcome labels when there are any
        [models.churn.drift.thresholds]
        psi = { warning = 0.1, drift = 0.25 }
        [models.churn.drift.features.age]
        tests = ["ks"]
        thresholds = { ks = { warning = 0.1, drift = 0.15 } }
        min_samples = 500
    """

    alpha: float = 0.05
    min_samples: int = 100
    numeric_tests: tuple[str, ...] = ("psi", "ks", "wasserstein", "jensen_shannon")
    categorical_tests: tuple[str, ...] = ("psi", "chi_square", "jensen_shannon")
    bins: int = 10
    max_points: int = 10_000
    psi_epsilon: float = 1e-4
    ks_method: str = "auto"
    prediction_drift: bool = True
    label_drift: bool = True
    thresholds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    features: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @staticmethod
    def _thresholds(data: Any, prefix: str) -> dict[str, tuple[float, float]]:
        s = _Section(data, prefix)
        out: dict[str, tuple[float, float]] = {}
        for name in s.data:
            t = _Section(s.data[name], s.key(name), {"warning", "drift"})
            if set(t.data) != {"warning", "drift"}:
                raise ConfigError(
                    f"{s.key(name)} needs both warning and drift, e.g. "
                    f"{name} = {{ warning = 0.1, drift = 0.25 }}"
                )
            warning = t.number("warning", 0.0, minimum=0.0)
            drift = t.number("drift", 0.0, minimum=0.0)
            if warning > drift:
                raise ConfigError(
                    f"{s.key(name)}: warning ({warning}) must be <= drift ({drift})"
                )
            out[name] = (warning, drift)
        return out

    @classmethod
    def parse(cls, data: Any, prefix: str) -> DriftSettings:
        s = _Section(data, prefix, {
            "alpha", "min_samples", "numeric_tests", "categorical_tests", "bins",
            "max_points", "psi_epsilon", "ks_method", "prediction_drift", "label_drift",
            "thresholds", "features",
        })
        feats_raw = _Section(s.get("features"), s.key("features"))
        features: dict[str, Mapping[str, Any]] = {}
        for fname in feats_raw.data:
            f = _Section(feats_raw.data[fname], feats_raw.key(fname),
                         {"tests", "thresholds", "min_samples"})
            entry: dict[str, Any] = {
                "thresholds": cls._thresholds(f.get("thresholds"), f.key("thresholds"))
            }
            if "tests" in f.data:
                entry["tests"] = f.str_list("tests")
            if "min_samples" in f.data:
                entry["min_samples"] = f.integer("min_samples", 1, minimum=1)
            features[fname] = entry
        settings = cls(
            alpha=s.number("alpha", cls.alpha, minimum=0.0, maximum=1.0, exclusive_min=True),
            min_samples=s.integer("min_samples", cls.min_samples, minimum=1),
            numeric_tests=s.str_list("numeric_tests", cls.numeric_tests),
            categorical_tests=s.str_list("categorical_tests", cls.categorical_tests),
            bins=s.integer("bins", cls.bins, minimum=2, maximum=1000),
            max_points=s.integer("max_points", cls.max_points, minimum=2),
            psi_epsilon=s.number("psi_epsilon", cls.psi_epsilon, minimum=0.0, maximum=1.0,
                                 exclusive_min=True),
            ks_method=s.choice("ks_method", cls.ks_method, ("auto", "exact", "asymp"))
            or cls.ks_method,
            prediction_drift=s.boolean("prediction_drift", cls.prediction_drift),
            label_drift=s.boolean("label_drift", cls.label_drift),
            thresholds=cls._thresholds(s.get("thresholds"), s.key("thresholds")),
            features=features,
        )
        if s.data:  # validate statistic names now, so a typo fails at start, not at 3 am
            try:
                settings.to_policy()
            except ValueError as exc:
                raise ConfigError(f"{prefix}: {exc}") from None
        return settings

    def to_policy(self) -> Any:
        """The :class:`lifecycle.drift.DriftPolicy` these settings describe."""
        from lifecycle.drift.decision import DriftPolicy, FeatureOverride, Thresholds

        return DriftPolicy(
            alpha=self.alpha,
            min_samples=self.min_samples,
            numeric_tests=tuple(self.numeric_tests),
            categorical_tests=tuple(self.categorical_tests),
            thresholds={k: Thresholds(*v) for k, v in self.thresholds.items()},
            features={
                name: FeatureOverride(
                    tests=tuple(f["tests"]) if "tests" in f else None,
                    thresholds={k: Thresholds(*v) for k, v in f["thresholds"].items()},
                    min_samples=f.get("min_samples"),
                )
                for name, f in self.features.items()
            },
            bins=self.bins,
            max_points=self.max_points,
            psi_epsilon=self.psi_epsilon,
            ks_method=self.ks_method,
        )


_PERFORMANCE_KEYS = {
    "reference_since", "reference_until", "alpha", "min_drop", "min_relative_increase",
    "min_labels", "min_coverage", "n_boot", "confidence", "calibration", "positive_label",
    "detectors",
}
_DETECTOR_NAMES = ("page_hinkley", "ddm", "adwin")


def _utc_time(s: _Section, name: str) -> Any:
    """A TOML datetime/date or ISO-8601 string as an aware UTC datetime (naive = UTC)."""
    from datetime import UTC, date, datetime

    value = s.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(
                f"{s.key(name)} = {value!r} is not a time; use ISO-8601, e.g. 2026-01-31T00:00:00Z"
            ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ConfigError(f"{s.key(name)} must be a date-time, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class PerformanceSettings:
    """Per-model performance policy (owned by the performance layer).

    The reference period is ``[reference_since, reference_until)`` when both are set;
    otherwise the window of the model's active reference profile (see docs/concept-drift.md).
    """

    reference_since: Any = None  # datetime | None (aware UTC)
    reference_until: Any = None
    alpha: float = 0.01
    min_drop: float = 0.02
    min_relative_increase: float = 0.10
    min_labels: int = 30
    min_coverage: float = 0.10
    n_boot: int = 200
    confidence: float = 0.95
    calibration: str = "isotonic"
    positive_label: str | None = None
    detectors: tuple[str, ...] = _DETECTOR_NAMES
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> PerformanceSettings:
        s = _Section(data, prefix, _PERFORMANCE_KEYS)
        since, until = _utc_time(s, "reference_since"), _utc_time(s, "reference_until")
        if (since is None) != (until is None) or (since is not None and since >= until):
            raise ConfigError(
                f"{prefix}.reference_since and {prefix}.reference_until must both be set, "
                "with reference_since before reference_until"
            )
        detectors = s.str_list("detectors", _DETECTOR_NAMES)
        unknown = sorted(set(detectors) - set(_DETECTOR_NAMES))
        if unknown:
            raise ConfigError(
                f"{prefix}.detectors names unknown detector(s) {unknown}; "
                f"choose from {', '.join(_DETECTOR_NAMES)}"
            )
        positive = s.get("positive_label")
        return cls(
            reference_since=since,
            reference_until=until,
            alpha=s.number("alpha", cls.alpha, minimum=0, maximum=0.5, exclusive_min=True),
            min_drop=s.number("min_drop", cls.min_drop, minimum=0, maximum=1),
            min_relative_increase=s.number(
                "min_relative_increase", cls.min_relative_increase, minimum=0
            ),
            min_labels=s.integer("min_labels", cls.min_labels, minimum=2),
            min_coverage=s.number("min_coverage", cls.min_coverage, minimum=0, maximum=1),
            n_boot=s.integer("n_boot", cls.n_boot, minimum=20, maximum=100_000),
            confidence=s.number(
                "confidence", cls.confidence, minimum=0.5, maximum=0.999
            ),
            calibration=s.choice("calibration", cls.calibration, ("isotonic", "platt"))
            or cls.calibration,
            positive_label=None if positive is None else str(positive),
            detectors=detectors,
            raw=s.data,
        )


@dataclass(frozen=True)
class JobSchedule:
    """When one job kind runs for one model: ``[models.NAME.schedule.KIND]``."""

    kind: str
    window: timedelta
    every: timedelta | None = None
    cron: str | None = None
    delay: timedelta = timedelta(0)
    catch_up: int = 24
    max_attempts: int = 5
    retry_backoff: timedelta = timedelta(seconds=60)
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSettings:
    """When a model's jobs run (owned by the scheduler layer): job kind -> schedule."""

    jobs: Mapping[str, JobSchedule] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> ScheduleSettings:
        from lifecycle.schedule_config import parse_schedule

        return cls(jobs=parse_schedule(_Section(data, prefix)))


@dataclass(frozen=True)
class AlertSettings:
    """Alert policy for a model (owned by the alerting layer; ``docs/operations.md``)."""

    enabled: bool = True
    fire_on: tuple[str, ...] = ("drift",)
    persistence_k: int = 1
    persistence_n: int = 1
    resolve_after: int = 1
    cooldown: timedelta = timedelta(hours=6)
    severity: Mapping[str, str] = field(
        default_factory=lambda: {"warning": "warning", "drift": "critical"}
    )
    per_feature: bool = False
    webhook: bool = True
    retrain_on: tuple[str, ...] = ()
    retrain_cooldown: timedelta = timedelta(hours=24)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> AlertSettings:
        from lifecycle.schedule_config import parse_alerts

        return parse_alerts(cls, _Section(data, prefix))


_MODEL_KEYS = {
    "task", "id_column", "features", "categorical", "trainer", "description",
    "drift", "performance", "schedule", "alerts",
}


@dataclass(frozen=True)
class ModelSettings:
    """Everything configured for one model under ``[models.NAME]``."""

    name: str
    task: str | None = None
    id_column: str | None = None
    features: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    trainer: str | None = None
    description: str | None = None
    drift: DriftSettings = field(default_factory=DriftSettings)
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    @classmethod
    def parse(cls, name: str, data: Any) -> ModelSettings:
        prefix = f"models.{name}"
        s = _Section(data, prefix, _MODEL_KEYS)
        trainer = s.str_("trainer")
        if trainer is not None and (
            trainer.count(":") != 1 or not all(trainer.split(":"))
        ):
            raise ConfigError(
                f"{prefix}.trainer = {trainer!r} must look like 'package.module:function'"
            )
        features = s.str_list("features")
        categorical = s.str_list("categorical")
        if features and not set(categorical) <= set(features):
            extra = sorted(set(categorical) - set(features))
            raise ConfigError(
                f"{prefix}.categorical names {extra} that are not in {prefix}.features; "
                "list them in features too, or leave features empty to infer them"
            )
        return cls(
            name=name,
            task=s.choice("task", None, TASKS),
            id_column=s.str_("id_column"),
            features=features,
            categorical=categorical,
            trainer=trainer,
            description=s.str_("description"),
            drift=DriftSettings.parse(s.get("drift"), f"{prefix}.drift"),
            performance=PerformanceSettings.parse(s.get("performance"),
                                                  f"{prefix}.performance"),
            schedule=ScheduleSettings.parse(s.get("schedule"), f"{prefix}.schedule"),
            alerts=AlertSettings.parse(s.get("alerts"), f"{prefix}.alerts"),
        )


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """Validated settings. Build with :func:`load_settings`."""

    home: Path
    database_url: str
    mlflow_tracking_uri: str
    admin_token: str | None = None
    hash_key: str | None = None
    config_path: Path | None = None
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    models: Mapping[str, ModelSettings] = field(default_factory=dict)

    def model(self, name: str) -> ModelSettings:
        """Settings for ``name``; a model without a section gets the defaults."""
        return self.models.get(name) or ModelSettings(name=name)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist; create it or unset LIFECYCLE_CONFIG"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}; fix the file and retry") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def load_settings(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Load and validate settings once, at an entry point.

    Parameters
    ----------
    path
        Explicit config file. Default: ``$LIFECYCLE_CONFIG``, else ``./lifecycle.toml`` if it
        exists, else built-in defaults only.
    env
        Environment mapping (default ``os.environ``); tests pass their own.
    cwd
        Directory relative paths are resolved against (default: the working directory).
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    config_path: Path | None
    if path is not None:
        config_path = Path(path)
    elif env.get("LIFECYCLE_CONFIG"):
        config_path = Path(env["LIFECYCLE_CONFIG"])
    else:
        candidate = cwd / CONFIG_FILE
        config_path = candidate if candidate.exists() else None
    data = _read_toml(config_path) if config_path is not None else {}
    top = _Section(data, "", _TOP_KEYS)

    home_raw = env.get("LIFECYCLE_HOME") or top.str_("home", ".lifecycle") or ".lifecycle"
    home = Path(home_raw).expanduser()
    if not home.is_absolute():
        home = (cwd / home).resolve()

    database_url = (
        env.get("LIFECYCLE_DATABASE_URL")
        or top.str_("database_url")
        or f"sqlite:///{home / 'lifecycle.db'}"
    )
    from lifecycle.errors import DatabaseURLError
    from lifecycle.storage.engine import parse_database_url

    try:
        parse_database_url(database_url)
    except DatabaseURLError as exc:
        raise ConfigError(f"database_url (LIFECYCLE_DATABASE_URL): {exc}") from None

    mlflow_uri = (
        env.get("LIFECYCLE_MLFLOW_TRACKING_URI")
        or env.get("MLFLOW_TRACKING_URI")
        or top.str_("mlflow_tracking_uri")
        or f"sqlite:///{home / 'mlflow.db'}"
    )

    models_raw = top.get("models") or {}
    if not isinstance(models_raw, Mapping):
        raise ConfigError(
            "[models] must be a table of model sections, e.g. [models.churn]"
        )
    models = {name: ModelSettings.parse(name, section) for name, section in models_raw.items()}

    return Settings(
        home=home,
        database_url=database_url,
        mlflow_tracking_uri=mlflow_uri,
        admin_token=env.get("LIFECYCLE_ADMIN_TOKEN") or top.str_("admin_token"),
        hash_key=env.get("LIFECYCLE_HASH_KEY") or top.str_("hash_key"),
        config_path=config_path,
        capture=CaptureSettings.parse(top.get("capture"), home),
        dashboard=DashboardSettings.parse(top.get("dashboard"), env),
        scheduler=SchedulerSettings.parse(top.get("scheduler"), env),
        models=models,
    )

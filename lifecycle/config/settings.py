"""Settings: ``lifecycle.toml`` plus ``LIFECYCLE_*`` environment overrides, validated once.

Where settings come from (later wins):

1. built-in defaults;
2. ``lifecycle.toml`` in the working directory, or the file named by ``LIFECYCLE_CONFIG``;
3. environment variables: ``LIFECYCLE_HOME``, ``LIFECYCLE_DATABASE_URL``,
   ``MLFLOW_TRACKING_URI`` (as MLflow users expect) or ``LIFECYCLE_MLFLOW_TRACKING_URI``
   (wins over it), ``LIFECYCLE_ADMIN_TOKEN``, ``LIFECYCLE_HASH_KEY``,
   ``LIFECYCLE_DASHBOARD_HOST``, ``LIFECYCLE_DASHBOARD_PORT``, ``LIFECYCLE_DASK_SCHEDULER``.

Every invalid value raises :class:`~lifecycle.errors.ConfigError` naming the key, the bad
value and what is allowed. Nothing here runs at import time.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.config.compute import ComputeSettings
from lifecycle.config.database_url import parse_database_url, redact_url
from lifecycle.config.policies import DriftSettings, PerformanceSettings
from lifecycle.config.promotion import PromotionSettings, ShadowSettings
from lifecycle.config.retention import ModelRetention, RetentionSettings
from lifecycle.config.retrain import RetrainSettings
from lifecycle.config.schedules import AlertSettings, SchedulerSettings, ScheduleSettings
from lifecycle.config.section import Section, hide_uri_password, masked_repr
from lifecycle.errors import ConfigError, DatabaseURLError

__all__ = [
    "CONFIG_FILE", "TASKS", "CaptureSettings", "DashboardSettings", "ModelSettings", "Settings",
    "load_settings",
]

CONFIG_FILE = "lifecycle.toml"
#: Shortest admin token accepted (characters): 16 random URL-safe characters are 96 bits.
ADMIN_TOKEN_MIN_LENGTH = 16
TASKS = ("classification", "regression")

_TOP_KEYS = {
    "home", "database_url", "mlflow_tracking_uri", "admin_token", "hash_key",
    "capture", "dashboard", "scheduler", "models", "retention", "compute",
}


# --------------------------------------------------------------------------- helpers


def _admin_token(value: str | None, source: str) -> str | None:
    """The admin token, refused when shorter than :data:`ADMIN_TOKEN_MIN_LENGTH`."""
    if value is None:
        return None
    if len(value.strip()) < ADMIN_TOKEN_MIN_LENGTH:
        raise ConfigError(
            f"{source} is too short ({len(value.strip())} characters; at least "
            f"{ADMIN_TOKEN_MIN_LENGTH} are needed so it cannot be guessed); generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(24))"`, or unset it to '
            "keep the dashboard read-only"
        )
    return value


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
        s = Section(data, "capture", {"spill_dir", "flush_interval_s", "batch_size",
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
        s = Section(data, "dashboard", {"host", "port"})
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


_MODEL_KEYS = {
    "task", "id_column", "identifier_columns", "timestamp_columns", "features", "categorical",
    "description", "feature_importances",
    "drift", "performance", "schedule", "alerts", "retrain", "shadow", "promotion",
    "retention",
}


def _importances(value: Any, key: str) -> tuple[tuple[str, float], ...] | None:
    """``{feature = non-negative number, ...}`` -> pairs; anything else is a ConfigError."""
    if value is None:
        return None
    example = "e.g. feature_importances = {age = 0.4, income = 0.6}"
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"{key} must be a non-empty table of feature = importance "
                          f"({example}), got {value!r}")
    pairs = []
    for feature, number in value.items():
        if (isinstance(number, bool) or not isinstance(number, int | float)
                or not math.isfinite(number) or number < 0):
            raise ConfigError(f"{key}.{feature} = {number!r} must be a non-negative number "
                              f"({example})")
        pairs.append((str(feature), float(number)))
    return tuple(pairs)


def _retrain(data: Any, prefix: str, features: tuple[str, ...]) -> RetrainSettings:
    """``[models.NAME.retrain]``, whose target must not be one of the model's features."""
    retrain = RetrainSettings.parse(data, f"{prefix}.retrain")
    if retrain.target in features:
        raise ConfigError(
            f"{prefix}.retrain.target = {retrain.target!r} is one of {prefix}.features: the "
            "trainer would see the answer among its inputs; name the target column something "
            "else, e.g. target = 'label'"
        )
    return retrain


@dataclass(frozen=True)
class ModelSettings:
    """Everything configured for one model under ``[models.NAME]``."""

    name: str
    task: str | None = None
    id_column: str | None = None
    #: input columns that identify a row or a time: never drift features (see docs/drift.md)
    identifier_columns: tuple[str, ...] = ()
    timestamp_columns: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    description: str | None = None
    #: ``feature_importances = {x = 0.3, ...}``: the model's importance of each feature,
    #: shown beside the drifting features (wins over a wrapped estimator's; docs/drift.md);
    #: pairs in file order, None when not set
    feature_importances: tuple[tuple[str, float], ...] | None = None
    drift: DriftSettings = field(default_factory=DriftSettings)
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    retrain: RetrainSettings = field(default_factory=RetrainSettings)
    shadow: ShadowSettings = field(default_factory=ShadowSettings)
    promotion: PromotionSettings = field(default_factory=PromotionSettings)
    retention: ModelRetention = field(default_factory=ModelRetention)

    @property
    def not_features(self) -> frozenset[str]:
        """Columns that are never drift features: ``id_column``, ``identifier_columns`` and
        ``timestamp_columns``."""
        return frozenset({*self.identifier_columns, *self.timestamp_columns,
                          *([self.id_column] if self.id_column else [])})

    @classmethod
    def parse(cls, name: str, data: Any) -> ModelSettings:
        prefix = f"models.{name}"
        if isinstance(data, Mapping) and "trainer" in data:
            raise ConfigError(
                f"{prefix}.trainer has moved: set it as [{prefix}.retrain] "
                f"trainer = {data['trainer']!r} (with the window, min_rows, holdout, target "
                "and params of retraining; see docs/retraining.md)"
            )
        s = Section(data, prefix, _MODEL_KEYS)
        features = s.str_list("features")
        categorical = s.str_list("categorical")
        if features and not set(categorical) <= set(features):
            extra = sorted(set(categorical) - set(features))
            raise ConfigError(
                f"{prefix}.categorical names {extra} that are not in {prefix}.features; "
                "list them in features too, or leave features empty to infer them"
            )
        id_column = s.str_("id_column")
        identifiers = s.str_list("identifier_columns")
        timestamps = s.str_list("timestamp_columns")
        not_features = {id_column, *identifiers, *timestamps} - {None}
        clash = sorted(set(features) & not_features)
        if clash:
            raise ConfigError(
                f"{prefix}.features lists {clash}, which {prefix} marks as identifier or "
                "timestamp columns (id_column, identifier_columns, timestamp_columns); "
                "identifiers are never drift features: remove them from features"
            )
        return cls(
            name=name,
            task=s.choice("task", None, TASKS),
            id_column=id_column,
            identifier_columns=identifiers,
            timestamp_columns=timestamps,
            features=features,
            categorical=categorical,
            description=s.str_("description"),
            feature_importances=_importances(s.get("feature_importances"),
                                             f"{prefix}.feature_importances"),
            drift=DriftSettings.parse(s.get("drift"), f"{prefix}.drift"),
            performance=PerformanceSettings.parse(s.get("performance"),
                                                  f"{prefix}.performance"),
            schedule=ScheduleSettings.parse(s.get("schedule"), f"{prefix}.schedule"),
            alerts=AlertSettings.parse(s.get("alerts"), f"{prefix}.alerts"),
            retrain=_retrain(s.get("retrain"), prefix, features),
            shadow=ShadowSettings.parse(s.get("shadow"), f"{prefix}.shadow"),
            promotion=PromotionSettings.parse(s.get("promotion"), f"{prefix}.promotion"),
            retention=ModelRetention.parse(s.get("retention"), f"{prefix}.retention"),
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
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    compute: ComputeSettings = field(default_factory=ComputeSettings)

    def model(self, name: str) -> ModelSettings:
        """Settings for ``name``; a model without a section gets the defaults."""
        return self.models.get(name) or ModelSettings(name=name)

    def __repr__(self) -> str:
        """Safe to log: the admin token and hash key show as ``'***'``, URLs without their
        passwords (``docs/operations.md``, Security)."""
        return masked_repr(self, secrets=("admin_token", "hash_key"),
                           urls={"database_url": redact_url,
                                 "mlflow_tracking_uri": hide_uri_password})


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
    top = Section(data, "", _TOP_KEYS)

    home_raw = env.get("LIFECYCLE_HOME") or top.str_("home", ".lifecycle") or ".lifecycle"
    home = Path(home_raw).expanduser()
    if not home.is_absolute():
        home = (cwd / home).resolve()

    database_url = (
        env.get("LIFECYCLE_DATABASE_URL")
        or top.str_("database_url")
        or f"sqlite:///{home / 'lifecycle.db'}"
    )
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
        admin_token=(
            _admin_token(env["LIFECYCLE_ADMIN_TOKEN"], "LIFECYCLE_ADMIN_TOKEN")
            if env.get("LIFECYCLE_ADMIN_TOKEN")
            else _admin_token(top.secret("admin_token"), "admin_token")
        ),
        hash_key=env.get("LIFECYCLE_HASH_KEY") or top.secret("hash_key"),
        config_path=config_path,
        capture=CaptureSettings.parse(top.get("capture"), home),
        dashboard=DashboardSettings.parse(top.get("dashboard"), env),
        scheduler=SchedulerSettings.parse(top.get("scheduler"), env),
        models=models,
        retention=RetentionSettings.parse(top.get("retention"), home, env),
        compute=ComputeSettings.parse(top.get("compute"), env),
    )

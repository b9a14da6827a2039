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

    @classmethod
    def parse(cls, data: Any, home: Path) -> CaptureSettings:
        s = _Section(data, "capture", {"spill_dir", "flush_interval_s", "batch_size",
                                        "queue_size"})
        spill = s.str_("spill_dir")
        return cls(
            spill_dir=Path(spill) if spill else home / "spill",
            flush_interval_s=s.number("flush_interval_s", cls.flush_interval_s,
                                      minimum=0.0, maximum=60.0, exclusive_min=True),
            batch_size=s.integer("batch_size", cls.batch_size, minimum=1, maximum=1_000_000),
            queue_size=s.integer("queue_size", cls.queue_size, minimum=1),
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
class SchedulerSettings:
    """Scheduler process settings (owned by the scheduler layer)."""

    lease_seconds: float = 300.0
    misfire_grace_time_s: int = 300
    webhook_url: str | None = None
    webhook_timeout_s: float = 5.0
    webhook_retries: int = 3

    @classmethod
    def parse(cls, data: Any, env: Mapping[str, str]) -> SchedulerSettings:
        s = _Section(data, "scheduler", {"lease_seconds", "misfire_grace_time_s",
                                          "webhook_url", "webhook_timeout_s",
                                          "webhook_retries"})
        url = env.get("LIFECYCLE_WEBHOOK_URL") or s.str_("webhook_url")
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"scheduler.webhook_url must start with http:// or https://, got {url!r}"
            )
        return cls(
            lease_seconds=s.number("lease_seconds", cls.lease_seconds, minimum=1.0),
            misfire_grace_time_s=s.integer("misfire_grace_time_s", cls.misfire_grace_time_s,
                                           minimum=1),
            webhook_url=url,
            webhook_timeout_s=s.number("webhook_timeout_s", cls.webhook_timeout_s,
                                       minimum=0.0, exclusive_min=True),
            webhook_retries=s.integer("webhook_retries", cls.webhook_retries, minimum=0,
                                      maximum=10),
        )


@dataclass(frozen=True)
class DriftSettings:
    """Per-model drift policy (owned by the drift engine)."""

    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> DriftSettings:
        s = _Section(data, prefix)
        return cls(raw=s.data)


@dataclass(frozen=True)
class PerformanceSettings:
    """Per-model performance policy (owned by the performance layer)."""

    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> PerformanceSettings:
        s = _Section(data, prefix)
        return cls(raw=s.data)


@dataclass(frozen=True)
class ScheduleSettings:
    """When a model's jobs run (owned by the scheduler layer)."""

    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> ScheduleSettings:
        s = _Section(data, prefix)
        return cls(raw=s.data)


@dataclass(frozen=True)
class AlertSettings:
    """Alert policy for a model (owned by the alerting layer)."""

    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> AlertSettings:
        s = _Section(data, prefix)
        return cls(raw=s.data)


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

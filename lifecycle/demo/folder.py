"""The demo folder: wiped and recreated each run, holding the demo's database and settings.

Safety: a folder is only wiped when it is empty or holds the marker file :data:`MARKER` that
a previous ``lifecycle demo`` wrote. Anything else (a project directory, a typo'd path, a
file) is refused with an error that says how to proceed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path

from lifecycle.demo.data import CATEGORICAL_FEATURES, FEATURES, ID_COLUMN, TARGET
from lifecycle.errors import ConfigError

__all__ = ["MARKER", "TRAINER_MODULE", "DemoPaths", "demo_environment", "prepare_folder",
           "write_config", "write_trainer"]

MARKER = ".lifecycle-demo"
#: The trainer's module name in the demo folder (``trainer = "credit_trainer:train"``).
TRAINER_MODULE = "credit_trainer"


class DemoPaths:
    """Where the demo puts things inside its folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.marker = folder / MARKER
        self.config = folder / "lifecycle.toml"
        self.database = folder / "lifecycle.db"
        self.mlflow = folder / "mlflow.db"
        self.log = folder / "demo.log"
        self.trainer = folder / f"{TRAINER_MODULE}.py"
        self.model_file = folder / "champion-v1.joblib"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def mlflow_uri(self) -> str:
        return f"sqlite:///{self.mlflow}"


def prepare_folder(folder: str | Path) -> DemoPaths:
    """Wipe and recreate ``folder`` (refusing folders the demo did not create)."""
    path = Path(folder).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"--folder {path} is a file, not a folder; choose another path with --folder"
        )
    if path.is_dir() and any(path.iterdir()):
        if not (path / MARKER).is_file():
            raise ConfigError(
                f"refusing to wipe {path}: it is not empty and was not created by "
                f"`lifecycle demo` (no {MARKER} marker file); choose an empty or new folder "
                "with --folder, or remove this one yourself"
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    paths = DemoPaths(path)
    paths.marker.write_text(
        "Created by `lifecycle demo`; this folder is wiped and recreated on every run.\n",
        encoding="utf-8",
    )
    return paths


def _toml_time(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_trainer(paths: DemoPaths) -> Path:
    """Copy the demo's trainer (``lifecycle/demo/credit_trainer.py``, installed with the
    package; ``examples/credit_trainer.py`` in the repository) next to ``lifecycle.toml``,
    where lifecycle imports it from when the demo runs in its folder."""
    source = Path(__file__).with_name(f"{TRAINER_MODULE}.py")
    shutil.copyfile(source, paths.trainer)
    return paths.trainer


def write_config(paths: DemoPaths, *, model: str, reference_since: datetime,
                 reference_until: datetime, tick_hours: int, n_boot: int = 200,
                 max_pairs: int = 6000, shadow_days: int = 7) -> Path:
    """The demo's ``lifecycle.toml``: one model, its features, schedules, alert policy,
    trainer, shadow gate and promotion policy (docs/demo.md says why each value)."""
    features = ", ".join(f'"{f}"' for f in FEATURES)
    categorical = ", ".join(f'"{f}"' for f in CATEGORICAL_FEATURES)
    text = f"""\
# Written by `lifecycle demo`: the embedded defaults (SQLite, local MLflow store), kept inside
# this folder. Run `lifecycle` commands from here to explore, e.g. `lifecycle alerts`.
home = "{paths.folder.as_posix()}"
database_url = "{paths.database_url}"
mlflow_tracking_uri = "{paths.mlflow_uri}"

[models.{model}]
task = "classification"
description = "Probability that a loan application defaults (simulated credit data)"
id_column = "{ID_COLUMN}"
features = [{features}]
categorical = [{categorical}]

# Performance is compared with the first live days (their labels arrive within days).
# n_boot: bootstrap replicates behind each metric's standard error (a demo-time budget).
[models.{model}.performance]
reference_since = {_toml_time(reference_since)}
reference_until = {_toml_time(reference_until)}
positive_label = "1"
n_boot = {n_boot}

# Data drift every {tick_hours} h on the last {tick_hours} h of traffic.
[models.{model}.schedule.drift]
every = "{tick_hours}h"
window = "{tick_hours}h"

# Performance once a day on the day that ended two days ago (labels need time to arrive).
[models.{model}.schedule.performance]
every = "1d"
window = "1d"
delay = "2d"

# The challenger scored in batch on the last {tick_hours} h of served requests, from the logged
# inputs (ManagedModel's default shadow="batch": serving pays nothing for the challenger).
[models.{model}.schedule.shadow_score]
every = "{tick_hours}h"
window = "{tick_hours}h"

# The challenger's shadow evaluation once a day (it accumulates every labelled pair; labels
# arrive days late, and each evaluation also times both versions on 100 recent requests).
[models.{model}.schedule.shadow]
every = "1d"

# One alert per drifting feature, besides the model-level alerts. A performance alert queues a
# retrain (at most one a week); drift alone does not: inputs that moved are not a worse model.
[models.{model}.alerts]
per_feature = true
retrain_on = ["performance"]
retrain_cooldown = "7d"

# The retrain: the team's trainer on the labelled traffic since the alert's drift began
# (the last 14 days for a retrain a person asks for), newest 20% held out.
[models.{model}.retrain]
trainer = "{TRAINER_MODULE}:train"
window = "since_drift"
fallback_window = "14d"
min_rows = 1000
holdout = "20%"
target = "{TARGET}"

[models.{model}.retrain.params]
C = 1.0

# The promotion gate: paired bootstrap test of ROC AUC on the same labelled requests, a
# challenger must be at least 0.01 better; the horizon ({max_pairs} labelled pairs or
# {shadow_days} days) is sized so each challenger is decided within the simulated weeks.
# Latency is not judged (latency_ratio = 10): a shared laptop's timings are noise.
[models.{model}.shadow]
metric = "roc_auc"
min_effect = 0.01
min_pairs = 500
max_pairs = {max_pairs}
max_duration = "{shadow_days}d"
n_boot = 200
latency_ratio = 10.0

[models.{model}.promotion]
auto = true
reject = true
"""
    paths.config.write_text(text, encoding="utf-8")
    return paths.config


def demo_environment(paths: DemoPaths, env: MutableMapping[str, str] | None = None) -> None:
    """Point lifecycle (and MLflow) at the demo folder; drop a webhook override so demo
    alerts never reach a real channel."""
    env = os.environ if env is None else env
    env.pop("LIFECYCLE_WEBHOOK_URL", None)
    env["LIFECYCLE_HOME"] = str(paths.folder)
    env["LIFECYCLE_CONFIG"] = str(paths.config)
    env["LIFECYCLE_DATABASE_URL"] = paths.database_url
    env["LIFECYCLE_MLFLOW_TRACKING_URI"] = paths.mlflow_uri
    env["MLFLOW_TRACKING_URI"] = paths.mlflow_uri
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

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

from lifecycle.demo.data import CATEGORICAL_FEATURES, FEATURES, ID_COLUMN
from lifecycle.errors import ConfigError

__all__ = ["MARKER", "DemoPaths", "demo_environment", "prepare_folder", "write_config"]

MARKER = ".lifecycle-demo"


class DemoPaths:
    """Where the demo puts things inside its folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.marker = folder / MARKER
        self.config = folder / "lifecycle.toml"
        self.database = folder / "lifecycle.db"
        self.mlflow = folder / "mlflow.db"
        self.log = folder / "demo.log"

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


def write_config(paths: DemoPaths, *, model: str, reference_since: datetime,
                 reference_until: datetime, tick_hours: int, n_boot: int = 200) -> Path:
    """The demo's ``lifecycle.toml``: one model, its features, schedules and alert policy."""
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

# One alert per drifting feature, besides the model-level alerts.
[models.{model}.alerts]
per_feature = true
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

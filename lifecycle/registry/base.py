"""The registry contract: what lifecycle needs of a model registry, and nothing more.

Two implementations: :class:`lifecycle.registry.mlflow_store.MlflowRegistry` (the only module
of lifecycle that imports mlflow) and :class:`lifecycle.testing.InMemoryRegistry` (unit tests).
Aliases only, never stages: ``champion`` serves, ``challenger`` is shadowed, ``previous`` is
the champion before the last promotion (for rollback).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lifecycle.states import CHALLENGER, CHAMPION

#: The champion before the last promotion: what ``lifecycle rollback`` goes back to.
PREVIOUS = "previous"
ALIASES = (CHAMPION, CHALLENGER, PREVIOUS)

#: Version tags lifecycle writes (all under ``lifecycle.``).
TAG_PREFIX = "lifecycle."


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version, as the registry has it now."""

    name: str
    version: str
    run_id: str | None
    source: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    created_at: datetime | None = None

    @property
    def uri(self) -> str:
        """``models:/name/version``."""
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class RunInfo:
    """A finished (or failed) tracking run, read back from the tracking store."""

    run_id: str
    experiment_id: str
    status: str
    params: Mapping[str, str]
    metrics: Mapping[str, float]
    tags: Mapping[str, str]
    artifact_uri: str | None = None


class TrainingRun(Protocol):
    """An open tracking run (inside ``Registry.start_run``)."""

    @property
    def run_id(self) -> str: ...

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Values are converted to text; MLflow's 6,000-character limit is respected by
        truncation, never by an error."""

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Non-finite values are skipped (MLflow rejects NaN on some stores)."""

    def set_tags(self, tags: Mapping[str, str]) -> None: ...

    def log_dict(self, data: Any, artifact_file: str) -> None:
        """A JSON or YAML artifact (by the file's suffix)."""

    def log_model(self, model: Any, *, input_example: Any,
                  pip_requirements: Sequence[str] | None = None) -> str:
        """Log ``model`` with a signature inferred from ``input_example`` (a DataFrame; its
        first rows are kept as the logged example) and its predictions, explicit
        ``pip_requirements`` (default: the installed versions of what the flavour needs), in
        a format that loads tree models (cloudpickle for sklearn). Returns the model URI to
        register. Raises :class:`lifecycle.errors.TrainerError` for an object that cannot be
        logged (no ``predict``)."""
        ...


class Registry(Protocol):
    """The model registry lifecycle talks to."""

    @property
    def tracking_uri(self) -> str: ...

    def ping(self) -> None:
        """Raise :class:`lifecycle.errors.RegistryUnavailableError` when the store cannot be
        reached; cheap (one read)."""

    def start_run(self, experiment: str, run_name: str,
                  tags: Mapping[str, str] | None = None,
                  ) -> AbstractContextManager[TrainingRun]:
        """Open a run in ``experiment`` (created if missing). The run ends FINISHED when the
        block exits normally, FAILED when it raises (the exception propagates)."""
        ...

    def get_run(self, run_id: str) -> RunInfo: ...

    def register(self, name: str, model_uri: str, *, run_id: str | None,
                 tags: Mapping[str, str] | None = None) -> VersionInfo:
        """Create the registered model if missing and a new version of it."""
        ...

    def version(self, name: str, version: str) -> VersionInfo | None: ...

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        """The version ``alias`` points to (None: no such alias or no such model)."""
        ...

    def versions(self, name: str) -> Sequence[VersionInfo]:
        """Every version of ``name``, newest first, aliases filled in."""
        ...

    def set_alias(self, name: str, alias: str, version: str) -> None: ...

    def delete_alias(self, name: str, alias: str) -> None:
        """No error when the alias does not exist."""

    def set_version_tags(self, name: str, version: str, tags: Mapping[str, str]) -> None: ...

    def delete_version(self, name: str, version: str) -> None: ...

    def load_model(self, uri: str) -> Any:
        """The model behind ``uri`` (``models:/name/version``, ``models:/name@alias``,
        ``runs:/...``): the native scikit-learn object when it was logged as one, else the
        pyfunc model."""
        ...


__all__ = ["ALIASES", "PREVIOUS", "TAG_PREFIX", "Registry", "RunInfo", "TrainingRun",
           "VersionInfo"]

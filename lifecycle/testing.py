"""In-memory fakes and helpers for unit tests of logic (shipped with the library so users
can test their own integration code without a database or an MLflow server)."""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lifecycle.errors import RegistryError
from lifecycle.registry.base import RunInfo, VersionInfo
from lifecycle.registry.loggable import default_pip_requirements, require_predict

_MAX_PARAM_VALUE = 6000  # MLflow's limit, kept by truncation as the MLflow adapter does


@dataclass
class _Run:
    run_id: str
    experiment_id: str
    name: str
    status: str = "RUNNING"
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)


class InMemoryTrainingRun:
    """:class:`lifecycle.registry.base.TrainingRun` of :class:`InMemoryRegistry`."""

    def __init__(self, registry: InMemoryRegistry, run: _Run) -> None:
        self._registry = registry
        self._run = run

    @property
    def run_id(self) -> str:
        return self._run.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        for key, value in params.items():
            text = str(value)
            if len(text) > _MAX_PARAM_VALUE:
                text = text[: _MAX_PARAM_VALUE - 3] + "..."
            self._run.params[str(key)] = text

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        self._run.metrics.update({str(k): float(v) for k, v in metrics.items()
                                  if v is not None and math.isfinite(float(v))})

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self._run.tags.update({str(k): str(v) for k, v in tags.items()})

    def log_dict(self, data: Any, artifact_file: str) -> None:
        self._run.artifacts[artifact_file] = data

    def log_model(self, model: Any, *, input_example: Any,
                  pip_requirements: Sequence[str] | None = None) -> str:
        require_predict(model)
        uri = f"memory://run/{self._run.run_id}/model"
        self._registry.models_by_uri[uri] = model
        self._registry.requirements_by_uri[uri] = tuple(
            default_pip_requirements() if pip_requirements is None else pip_requirements)
        return uri


class InMemoryRegistry:
    """:class:`lifecycle.registry.base.Registry` in memory, for unit tests of logic.

    Behaves like the MLflow adapter where lifecycle depends on it: versions are numbered
    ``"1"``, ``"2"``, ... per model; an alias points at one version; runs end FINISHED or
    FAILED; unknown runs, models and versions raise :class:`RegistryError` (lookups of a
    version or alias return None). Set ``available = False`` to simulate a store that cannot
    be reached: every call then raises :class:`~lifecycle.errors.RegistryUnavailableError`.
    """

    def __init__(self, tracking_uri: str = "memory://") -> None:
        self._uri = tracking_uri
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.available = True
        self.runs: dict[str, _Run] = {}
        self.experiments: dict[str, str] = {}
        #: model name -> version -> VersionInfo (without aliases)
        self.models: dict[str, dict[str, VersionInfo]] = {}
        #: model name -> alias -> version
        self.aliases: dict[str, dict[str, str]] = {}
        self.models_by_uri: dict[str, Any] = {}
        self.requirements_by_uri: dict[str, tuple[str, ...]] = {}

    @property
    def tracking_uri(self) -> str:
        return self._uri

    def _check(self) -> None:
        if not self.available:
            from lifecycle.errors import RegistryUnavailableError

            raise RegistryUnavailableError(
                f"the MLflow tracking store {self._uri} cannot be reached (simulated); set "
                "available = True")

    def ping(self) -> None:
        self._check()

    @contextmanager
    def start_run(self, experiment: str, run_name: str,
                  tags: Mapping[str, str] | None = None) -> Iterator[InMemoryTrainingRun]:
        self._check()
        with self._lock:
            experiment_id = self.experiments.setdefault(experiment, str(len(self.experiments)))
            run = _Run(run_id=f"run{next(self._ids)}", experiment_id=experiment_id,
                       name=run_name, tags={k: str(v) for k, v in (tags or {}).items()})
            self.runs[run.run_id] = run
        try:
            yield InMemoryTrainingRun(self, run)
        except BaseException:
            run.status = "FAILED"
            raise
        run.status = "FINISHED"

    def get_run(self, run_id: str) -> RunInfo:
        self._check()
        run = self.runs.get(run_id)
        if run is None:
            raise RegistryError(f"MLflow refused reading run {run_id} on {self._uri}: "
                                f"Run with id={run_id} not found")
        return RunInfo(run_id=run.run_id, experiment_id=run.experiment_id, status=run.status,
                       params=dict(run.params), metrics=dict(run.metrics),
                       tags=dict(run.tags), artifact_uri=f"memory://run/{run.run_id}")

    def register(self, name: str, model_uri: str, *, run_id: str | None,
                 tags: Mapping[str, str] | None = None) -> VersionInfo:
        self._check()
        model = self._resolve(model_uri)
        with self._lock:
            versions = self.models.setdefault(name, {})
            self.aliases.setdefault(name, {})
            number = str(max((int(v) for v in versions), default=0) + 1)
            info = VersionInfo(name=name, version=number, run_id=run_id or _run_of(model_uri),
                               source=model_uri, tags={k: str(v) for k, v in
                                                       (tags or {}).items()},
                               created_at=datetime.now(UTC))
            versions[number] = info
            self.models_by_uri[info.uri] = model
        return info

    def _resolve(self, uri: str) -> Any:
        if uri.startswith("runs:/"):  # runs:/RUN/model: the model that run logged
            run_id, _, path = uri[len("runs:/"):].partition("/")
            uri = f"memory://run/{run_id}/{path}"
        if uri.startswith("models:/"):
            rest = uri[len("models:/"):]
            name, at, alias = rest.partition("@")
            if at:
                found = self.by_alias(name, alias)
                if found is not None:
                    return self.models_by_uri[found.uri]
        if uri not in self.models_by_uri:
            raise RegistryError(f"MLflow refused loading {uri} on {self._uri}: no model at "
                                f"{uri}")
        return self.models_by_uri[uri]

    def _with_aliases(self, info: VersionInfo) -> VersionInfo:
        names = sorted(a for a, v in self.aliases.get(info.name, {}).items()
                       if v == info.version)
        return replace(info, aliases=tuple(names))

    def version(self, name: str, version: str) -> VersionInfo | None:
        self._check()
        found = self.models.get(name, {}).get(str(version))
        return None if found is None else self._with_aliases(found)

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        self._check()
        number = self.aliases.get(name, {}).get(alias)
        return None if number is None else self.version(name, number)

    def versions(self, name: str) -> Sequence[VersionInfo]:
        self._check()
        found = sorted(self.models.get(name, {}).values(), key=lambda v: int(v.version),
                       reverse=True)
        return [self._with_aliases(v) for v in found]

    def _require_version(self, name: str, version: str, what: str) -> None:
        if name not in self.models:
            raise RegistryError(f"MLflow refused {what} on {self._uri}: Registered Model "
                                f"with name={name} not found")
        if str(version) not in self.models[name]:
            raise RegistryError(f"MLflow refused {what} on {self._uri}: Model Version "
                                f"(name={name}, version={version}) not found")

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._check()
        self._require_version(name, version, f"moving {name}@{alias} to version {version}")
        self.aliases[name][alias] = str(version)

    def delete_alias(self, name: str, alias: str) -> None:
        self._check()
        self.aliases.get(name, {}).pop(alias, None)

    def set_version_tags(self, name: str, version: str, tags: Mapping[str, str]) -> None:
        self._check()
        self._require_version(name, version, f"tagging version {version} of {name!r}")
        info = self.models[name][str(version)]
        self.models[name][str(version)] = replace(
            info, tags={**info.tags, **{k: str(v) for k, v in tags.items()}})

    def delete_version(self, name: str, version: str) -> None:
        self._check()
        self._require_version(name, version, f"deleting version {version} of {name!r}")
        info = self.models[name].pop(str(version))
        self.models_by_uri.pop(info.uri, None)
        self.aliases[name] = {a: v for a, v in self.aliases[name].items() if v != str(version)}

    def load_model(self, uri: str) -> Any:
        self._check()
        return self._resolve(uri)


def _run_of(uri: str) -> str | None:
    for prefix in ("memory://run/", "runs:/"):
        if uri.startswith(prefix):
            return uri[len(prefix):].split("/", 1)[0]
    return None


__all__ = ["InMemoryRegistry", "InMemoryTrainingRun"]

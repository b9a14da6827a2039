"""The MLflow adapter: :class:`MlflowRegistry` implements :class:`lifecycle.registry.base.Registry`
over one explicit ``MlflowClient``.

Never touches MLflow's global state (``mlflow.set_tracking_uri``, active runs): several
registries may live in one process. Nothing connects, and mlflow is not even imported, until
a method needs it. With a ``sqlite:///`` tracking URI (the embedded default,
``sqlite:///{LIFECYCLE_HOME}/mlflow.db``) artifacts go to a folder beside the database
(``mlartifacts/``) through each experiment's artifact location, never the working directory;
with a tracking server the server decides.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import RegistryError
from lifecycle.registry.base import RunInfo, VersionInfo
from lifecycle.registry.connection import (
    EXISTS_CODES,
    check_reachable,
    error_code,
    is_not_found,
    mlflow_module,
    sqlite_path,
    translated,
)
from lifecycle.registry.mlflow_run import MlflowTrainingRun
from lifecycle.registry.sources import resolve

if TYPE_CHECKING:
    from lifecycle.config import Settings

#: Folder beside a SQLite tracking database that holds the artifacts.
ARTIFACTS_FOLDER = "mlartifacts"
#: Seconds :meth:`MlflowRegistry.register` waits for a version to leave PENDING_REGISTRATION.
READY_TIMEOUT = 60.0


class MlflowRegistry:
    """The model registry in an MLflow tracking store.

    Parameters
    ----------
    tracking_uri
        ``sqlite:///path/mlflow.db``, ``http(s)://server``, or any store MLflow accepts; it is
        also the registry URI.
    artifact_root
        Folder for the artifacts of experiments this registry creates. Default: ``mlartifacts``
        beside the database of a ``sqlite:///`` URI; for other stores the server decides.
    """

    def __init__(self, tracking_uri: str, artifact_root: str | Path | None = None) -> None:
        self._uri = tracking_uri
        self._artifact_root = None if artifact_root is None else Path(artifact_root)
        self._client_obj: Any = None

    def __repr__(self) -> str:
        from lifecycle.config.section import hide_uri_password

        return f"MlflowRegistry({hide_uri_password(self._uri)!r})"

    @property
    def tracking_uri(self) -> str:
        return self._uri

    # ------------------------------------------------------------------ plumbing
    @property
    def _client(self) -> Any:
        """The client, made on first use after a fast reachability check."""
        if self._client_obj is None:
            check_reachable(self._uri)
            mlflow_module()
            from mlflow import MlflowClient

            self._client_obj = MlflowClient(tracking_uri=self._uri, registry_uri=self._uri)
        return self._client_obj

    def _errors(self, what: str) -> Any:
        return translated(self._uri, what)

    def _experiment_location(self, experiment: str) -> str | None:
        root = self._artifact_root
        if root is None:
            db = sqlite_path(self._uri)
            if db is None:
                return None  # a tracking server decides where artifacts go
            root = db.resolve().parent / ARTIFACTS_FOLDER
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", experiment).strip("_") or "experiment"
        return (root.resolve() / slug).as_uri()

    def _experiment_id(self, experiment: str) -> str:
        client = self._client
        found = client.get_experiment_by_name(experiment)
        if found is None:
            try:
                return str(client.create_experiment(
                    experiment, artifact_location=self._experiment_location(experiment)))
            except Exception as exc:
                if error_code(exc) not in EXISTS_CODES:  # another process created it first
                    raise
                found = client.get_experiment_by_name(experiment)
        if found.lifecycle_stage != "active":
            raise RegistryError(
                f"MLflow experiment {experiment!r} (id {found.experiment_id}) is deleted; "
                f"restore it (mlflow experiments restore --experiment-id "
                f"{found.experiment_id}) or delete it for good (mlflow gc)")
        return str(found.experiment_id)

    # ------------------------------------------------------------------ protocol
    def ping(self) -> None:
        with self._errors("a read (ping)"):
            self._client.search_experiments(max_results=1)

    @contextmanager
    def start_run(self, experiment: str, run_name: str,
                  tags: Mapping[str, str] | None = None) -> Iterator[MlflowTrainingRun]:
        with self._errors(f"opening a run in experiment {experiment!r}"):
            experiment_id = self._experiment_id(experiment)
            run = self._client.create_run(experiment_id, run_name=run_name,
                                          tags={k: str(v) for k, v in (tags or {}).items()})
        run_id = run.info.run_id
        try:
            yield MlflowTrainingRun(self._client, tracking_uri=self._uri, run_id=run_id,
                                    experiment_id=experiment_id)
        except BaseException:
            with self._errors(f"marking run {run_id} FAILED"):
                self._client.set_terminated(run_id, "FAILED")
            raise
        with self._errors(f"finishing run {run_id}"):
            self._client.set_terminated(run_id, "FINISHED")

    def get_run(self, run_id: str) -> RunInfo:
        with self._errors(f"reading run {run_id}"):
            run = self._client.get_run(run_id)
        return RunInfo(run_id=run.info.run_id, experiment_id=str(run.info.experiment_id),
                       status=run.info.status, params=dict(run.data.params),
                       metrics=dict(run.data.metrics), tags=dict(run.data.tags),
                       artifact_uri=run.info.artifact_uri)

    def register(self, name: str, model_uri: str, *, run_id: str | None,
                 tags: Mapping[str, str] | None = None) -> VersionInfo:
        client = self._client
        with self._errors(f"registering {model_uri} as {name!r}"):
            source = resolve(client, self._uri, model_uri)
            try:
                client.create_registered_model(name)
            except Exception as exc:
                if error_code(exc) not in EXISTS_CODES:  # two processes may create it at once
                    raise
            version = client.create_model_version(
                name, source.location, run_id=run_id or source.run_id,
                tags={k: str(v) for k, v in (tags or {}).items()}, await_creation_for=0,
                model_id=source.model_id)
            version = self._wait_ready(version)
        return _version_info(version, ())

    def _wait_ready(self, version: Any) -> Any:
        deadline = time.monotonic() + READY_TIMEOUT
        while version.status == "PENDING_REGISTRATION":
            if time.monotonic() > deadline:
                raise RegistryError(
                    f"version {version.version} of {version.name!r} is still pending "
                    f"registration after {READY_TIMEOUT:.0f} s; check the registry server, "
                    "then delete or retry the version")
            time.sleep(0.2)
            version = self._client.get_model_version(version.name, version.version)
        if version.status != "READY":
            raise RegistryError(
                f"version {version.version} of {version.name!r} ended {version.status}: "
                f"{version.status_message or 'no message'}; check its source {version.source}")
        return version

    def version(self, name: str, version: str) -> VersionInfo | None:
        with self._errors(f"reading version {version} of {name!r}"):
            try:
                found = self._client.get_model_version(name, str(version))
            except Exception as exc:
                if is_not_found(exc):
                    return None
                raise
            # MLflow's get_model_version fills in the version's aliases itself
            return _version_info(found, tuple(getattr(found, "aliases", None) or ()))

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        with self._errors(f"reading {name}@{alias}"):
            try:
                found = self._client.get_model_version_by_alias(name, alias)
            except Exception as exc:
                if is_not_found(exc):
                    return None
                raise
            aliases = tuple(found.aliases) if getattr(found, "aliases", None) else (alias,)
            return _version_info(found, aliases)

    def versions(self, name: str) -> Sequence[VersionInfo]:
        found: list[Any] = []
        with self._errors(f"listing the versions of {name!r}"):
            aliases = self._aliases(name)
            if aliases is None:
                return []
            token = None
            while True:
                page = self._client.search_model_versions(
                    filter_string=f"name = {_quoted(name)}", page_token=token)
                found += list(page)
                token = page.token
                if not token:
                    break
        found.sort(key=lambda v: int(v.version), reverse=True)
        return [_version_info(v, aliases.get(str(v.version), ())) for v in found]

    def _aliases(self, name: str) -> dict[str, tuple[str, ...]] | None:
        """version -> its aliases (search does not fill them in); None: no such model."""
        try:
            model = self._client.get_registered_model(name)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        out: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            out.setdefault(str(version), []).append(alias)
        return {version: tuple(sorted(names)) for version, names in out.items()}

    def set_alias(self, name: str, alias: str, version: str) -> None:
        with self._errors(f"moving {name}@{alias} to version {version}"):
            self._client.set_registered_model_alias(name, alias, str(version))

    def delete_alias(self, name: str, alias: str) -> None:
        with self._errors(f"deleting {name}@{alias}"):
            try:
                self._client.delete_registered_model_alias(name, alias)
            except Exception as exc:
                if not is_not_found(exc):
                    raise

    def set_version_tags(self, name: str, version: str, tags: Mapping[str, str]) -> None:
        with self._errors(f"tagging version {version} of {name!r}"):
            for key, value in tags.items():
                self._client.set_model_version_tag(name, str(version), key, str(value))

    def delete_version(self, name: str, version: str) -> None:
        with self._errors(f"deleting version {version} of {name!r}"):
            self._client.delete_model_version(name, str(version))

    def load_model(self, uri: str) -> Any:
        mlflow = mlflow_module()
        from mlflow.artifacts import download_artifacts

        with self._errors(f"loading {uri}"):
            location = resolve(self._client, self._uri, uri).location
            folder = tempfile.mkdtemp(prefix="lifecycle-load-")
            local = Path(download_artifacts(artifact_uri=location, dst_path=folder,
                                            tracking_uri=self._uri))
            if _has_sklearn_flavour(local):
                try:
                    return mlflow.sklearn.load_model(str(local))
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
            # a pyfunc model may read its folder lazily: MLflow keeps downloads too
            return mlflow.pyfunc.load_model(str(local))


def _has_sklearn_flavour(folder: Path) -> bool:
    import yaml

    with (folder / "MLmodel").open(encoding="utf-8") as fh:
        spec = yaml.safe_load(fh) or {}
    return "sklearn" in (spec.get("flavors") or {})


def _quoted(name: str) -> str:
    return f'"{name}"' if "'" in name else f"'{name}'"


def _version_info(version: Any, aliases: Sequence[str]) -> VersionInfo:
    created = version.creation_timestamp
    return VersionInfo(
        name=version.name, version=str(version.version), run_id=version.run_id or None,
        source=version.source, tags=dict(version.tags or {}), aliases=tuple(aliases),
        created_at=None if created is None else datetime.fromtimestamp(created / 1000, UTC))


def registry_for(settings: Settings) -> MlflowRegistry:
    """The registry of ``settings.mlflow_tracking_uri`` (artifacts beside a SQLite store)."""
    return MlflowRegistry(settings.mlflow_tracking_uri)


__all__ = ["ARTIFACTS_FOLDER", "READY_TIMEOUT", "MlflowRegistry", "registry_for"]

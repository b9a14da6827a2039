"""Model URIs resolved through an explicit client.

MLflow resolves ``runs:/`` and ``models:/`` URIs with the process's global tracking URI in
several places (its SQL registry store looks up ``models:/<model_id>`` that way), which
lifecycle never sets; so the adapter resolves a URI to the storage location of the model's
files itself and gives MLflow only concrete locations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.errors import RegistryError


@dataclass(frozen=True)
class ModelSource:
    """Where a model's files are, and what produced them."""

    #: storage location of the model folder (``file://``, ``mlflow-artifacts:``, ``s3://``...)
    location: str
    run_id: str | None = None
    #: MLflow 3 logged model id (``m-...``), when the model is one
    model_id: str | None = None


def resolve(client: Any, tracking_uri: str, uri: str) -> ModelSource:
    """Resolve ``runs:/RUN/PATH``, ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` and
    ``models:/<model_id>``; any other URI is a storage location already."""
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/"):].strip("/").partition("/")
        if not run_id or not path:
            raise RegistryError(f"{uri!r} is not a run model URI; use runs:/RUN_ID/model")
        return _from_run(client, tracking_uri, run_id, path)
    if uri.startswith("models:/"):
        return _from_models_uri(client, uri)
    return ModelSource(location=uri)


def _from_models_uri(client: Any, uri: str) -> ModelSource:
    rest = uri[len("models:/"):].strip("/")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        version = client.get_model_version_by_alias(name, alias)
    elif "/" in rest:
        name, _, number = rest.partition("/")
        if not number.isdigit():
            raise RegistryError(f"{uri!r}: the version must be a number "
                                "(models:/NAME/VERSION or models:/NAME@ALIAS)")
        version = client.get_model_version(name, number)
    elif rest:
        logged = client.get_logged_model(rest)
        return ModelSource(location=logged.artifact_location, run_id=logged.source_run_id,
                           model_id=logged.model_id)
    else:
        raise RegistryError(f"{uri!r} names no model; use models:/NAME/VERSION, "
                            "models:/NAME@ALIAS or models:/<model_id>")
    source = version.source
    model_id = getattr(version, "model_id", None)
    if source.startswith("models:/"):  # a version registered from a logged model's URI
        return _from_models_uri(client, source)
    return ModelSource(location=source, run_id=version.run_id or None, model_id=model_id)


def _from_run(client: Any, tracking_uri: str, run_id: str, path: str) -> ModelSource:
    """A model saved in the run's artifacts (MLflow 2 style) or a logged model the run
    produced under the name ``path`` (MLflow 3: the latest step wins, as in MLflow)."""
    from mlflow.artifacts import list_artifacts

    run = client.get_run(run_id)
    folder = f"{run.info.artifact_uri.rstrip('/')}/{path}"
    # the run's own artifact location: client.list_artifacts(run_id) would resolve runs:/
    # through the global tracking URI
    listed = list_artifacts(artifact_uri=folder, tracking_uri=tracking_uri)
    if any(info.path.rsplit("/", 1)[-1] == "MLmodel" for info in listed or ()):
        return ModelSource(location=folder, run_id=run_id)
    found = []
    token = None
    while True:
        page = client.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"name = '{path}'",
            page_token=token)
        found += [m for m in page if m.source_run_id == run_id]
        token = page.token
        if not token:
            break
    if not found:
        raise RegistryError(
            f"run {run_id} has no model named {path!r} (neither in its artifacts nor among its "
            "logged models); pass the name it was logged under with --artifact-path, or "
            "register its models:/<model_id> URI with --from-uri")
    outputs = getattr(run, "outputs", None)
    steps = {o.model_id: o.step for o in (outputs.model_outputs if outputs else [])}
    best = max(found, key=lambda m: (steps.get(m.model_id, -1), m.creation_timestamp or 0))
    return ModelSource(location=best.artifact_location, run_id=run_id, model_id=best.model_id)


__all__ = ["ModelSource", "resolve"]

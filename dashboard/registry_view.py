"""The one place a page load reads the model registry: a cached lookup with a short TTL and
a timeout, and links to MLflow runs.

:func:`registry_view` (aliases and versions of the monitored models) and :func:`lineage` (one
version's chain, :func:`lifecycle.jobs.lineage.version_lineage`) both go through
:func:`_lookup`: an ``MlflowRegistry`` for the settings' tracking URI, read in a worker thread
waited for at most :data:`REGISTRY_TIMEOUT_S`, the answer kept for :data:`REGISTRY_TTL_S`. It
never raises: a store that cannot be reached (or answers too late) comes back with a
``problem`` the pages show as a notice, and the pages fall back to what the database
recorded. A local SQLite store that does not exist yet is not created (that would take
seconds and write files from a page load): it is "nothing registered yet".
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from lifecycle.dashboard.loop_tables import Aliases
from lifecycle.errors import LifecycleError

T = TypeVar("T")

#: Seconds a registry answer is reused (aliases move; a page should see it soon).
REGISTRY_TTL_S = 15
#: Seconds a page waits for the registry before showing the notice instead.
REGISTRY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class VersionView:
    """One registered version as the pages need it."""

    version: str
    run_id: str | None
    aliases: tuple[str, ...]
    tags: dict[str, str]
    created_at: datetime | None


@dataclass(frozen=True)
class RegistryView:
    """What the registry said about the monitored models, or why it said nothing.

    ``problem`` is None when the registry answered; ``missing`` is True when a local store
    simply does not exist yet (nothing registered: not an error).
    """

    tracking_uri: str
    problem: str | None = None
    missing: bool = False
    versions: dict[str, tuple[VersionView, ...]] = field(default_factory=dict)
    experiments: dict[str, str] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.problem is None

    def alias(self, model: str, alias: str) -> VersionView | None:
        """The version ``alias`` points at (None: no such alias, or no answer)."""
        for v in self.versions.get(model, ()):
            if alias in v.aliases:
                return v
        return None

    def version(self, model: str, version: str) -> VersionView | None:
        for v in self.versions.get(model, ()):
            if v.version == str(version):
                return v
        return None


def _local_store(uri: str) -> Path | None:
    from lifecycle.registry.connection import sqlite_path

    try:
        return sqlite_path(uri)
    except Exception:  # noqa: BLE001 - the lookup reports it as the problem instead
        return None


def _read(uri: str, models: tuple[str, ...]) -> RegistryView:
    from lifecycle.registry.mlflow_store import MlflowRegistry

    registry = MlflowRegistry(uri)
    versions: dict[str, tuple[VersionView, ...]] = {}
    experiments: dict[str, str] = {}
    for name in models:
        found = registry.versions(name)
        versions[name] = tuple(
            VersionView(v.version, v.run_id, tuple(v.aliases), dict(v.tags), v.created_at)
            for v in found)
        run_id = next((v.run_id for v in found if v.run_id), None)
        if run_id is not None:
            experiments[name] = registry.get_run(run_id).experiment_id
    return RegistryView(uri, versions=versions, experiments=experiments)


def _shown(uri: str) -> str:
    from lifecycle.config.section import hide_uri_password

    return hide_uri_password(uri)


@dataclass(frozen=True)
class LineageAnswer:
    """The lineage of one version (:func:`lifecycle.jobs.lineage.version_lineage`), or why
    there is none."""

    lineage: Any = None
    problem: str | None = None


def _lineage(tracking_uri: str, url: str, model: str, version: str | None) -> LineageAnswer:
    from lifecycle.dashboard.data import engine
    from lifecycle.errors import RegistryUnavailableError, UnknownModelError
    from lifecycle.jobs.lineage import version_lineage
    from lifecycle.registry.mlflow_store import MlflowRegistry

    try:
        found = version_lineage(engine(url), MlflowRegistry(tracking_uri), model, version)
    except (RegistryUnavailableError, UnknownModelError):
        raise
    except LifecycleError as exc:  # no such version: an answer, not an outage
        return LineageAnswer(problem=str(exc))
    return LineageAnswer(lineage=found)


def _bounded(fn: Callable[..., T], *args: Any) -> T | str:
    """``fn(*args)`` in a worker thread, waiting at most :data:`REGISTRY_TIMEOUT_S`; the
    reason as text when it failed or did not answer in time."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                 thread_name_prefix="lc-registry")
    future = pool.submit(fn, *args)
    try:
        return future.result(timeout=REGISTRY_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        return (f"The MLflow tracking store {_shown(str(args[0]))} did not answer within "
                f"{REGISTRY_TIMEOUT_S:.0f} s.")
    except Exception as exc:  # noqa: BLE001 - shown as a notice, never a traceback
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


FALLBACK = (" Versions and aliases below come from the lifecycle database (the last recorded "
            "promotions), not from the registry; actions that move aliases will fail until it "
            "answers.")


@st.cache_data(ttl=REGISTRY_TTL_S, show_spinner=False)
def _lookup(tracking_uri: str, what: str, models: tuple[str, ...], url: str = "",
            version: str | None = None) -> Any:
    """THE registry lookup of a page load (cached :data:`REGISTRY_TTL_S`, bounded by
    :data:`REGISTRY_TIMEOUT_S`): ``what`` is ``"aliases"`` (a :class:`RegistryView` of
    ``models``) or ``"lineage"`` (a :class:`LineageAnswer` for ``models[0]`` at ``version``,
    reading ``url``)."""
    path = _local_store(tracking_uri)
    if path is not None and not path.exists():
        problem = (f"No MLflow store at {path} yet: nothing is registered (a retrain "
                   "registers a version; `lifecycle register` adopts an existing model).")
        return (RegistryView(tracking_uri, problem=problem, missing=True) if what == "aliases"
                else LineageAnswer(problem=problem))
    if what == "aliases":
        got = _bounded(_read, tracking_uri, models)
        return got if isinstance(got, RegistryView) else RegistryView(
            tracking_uri, problem=got + FALLBACK)
    answer = _bounded(_lineage, tracking_uri, url, models[0], version)
    return answer if isinstance(answer, LineageAnswer) else LineageAnswer(problem=answer)


def registry_view(tracking_uri: str, models: tuple[str, ...]) -> RegistryView:
    """Aliases and versions of ``models`` in the registry at ``tracking_uri`` (cached for
    :data:`REGISTRY_TTL_S`; at most :data:`REGISTRY_TIMEOUT_S` of waiting)."""
    found: RegistryView = _lookup(tracking_uri, "aliases", models)
    return found


def lineage(url: str, tracking_uri: str, model: str, version: str | None) -> LineageAnswer:
    """The lineage of ``version`` of ``model`` (None: the champion), through the same cached,
    bounded lookup."""
    found: LineageAnswer = _lookup(tracking_uri, "lineage", (model,), url, version)
    return found


def aliases_of(view: RegistryView, models: list[str]) -> dict[str, Aliases] | None:
    """Champion (with its registration time) and challenger per model, as the pure table
    builders take them; None when the registry did not answer."""
    from lifecycle.states import CHALLENGER, CHAMPION

    if not view.available:
        return None
    out = {}
    for name in models:
        champion = view.alias(name, CHAMPION)
        challenger = view.alias(name, CHALLENGER)
        out[name] = Aliases(
            champion=None if champion is None else champion.version,
            champion_created=None if champion is None else champion.created_at,
            challenger=None if challenger is None else challenger.version)
    return out


def notice(view: RegistryView) -> None:
    """Show why the registry said nothing, once per page (info when nothing is registered
    yet, a warning when the store could not be reached)."""
    if view.problem is None:
        return
    (st.info if view.missing else st.warning)(view.problem)


def run_link(tracking_uri: str, experiment_id: str | None, run_id: str | None) -> str | None:
    """Where to open an MLflow run: the tracking server's page for it when the URI is
    http(s) (``{uri}/#/experiments/{exp}/runs/{run}``), else the local store it lives in
    and the command that browses it."""
    if not run_id:
        return None
    if tracking_uri.startswith(("http://", "https://")):
        base = tracking_uri.rstrip("/")
        if experiment_id:
            return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
        return f"{base}/#/runs/{run_id}"
    where = _local_store(tracking_uri)
    store = str(where) if where is not None else _shown(tracking_uri)
    return (f"run {run_id} in the local store {store} (browse it with `mlflow ui "
            f"--backend-store-uri {_shown(tracking_uri)}`)")


def is_url(link: str | None) -> bool:
    return bool(link) and str(link).startswith(("http://", "https://"))


__all__ = ["REGISTRY_TIMEOUT_S", "REGISTRY_TTL_S", "LineageAnswer", "RegistryView",
           "VersionView", "aliases_of", "is_url", "lineage", "notice", "registry_view", "run_link"]

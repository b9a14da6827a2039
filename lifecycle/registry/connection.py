"""Reaching MLflow: the lazy import, bounded retries, a fast reachability check, and the one
place MLflow's exceptions become ours.

mlflow costs ~1.5 s to import (measured cold here), so nothing here imports it at module
level: callers use :func:`mlflow_module` inside methods. Before the first import the process
gets ``MLFLOW_DISABLE_TELEMETRY=true`` and bounded HTTP retries (values the user set win): MLflow's
own defaults retry a dead tracking server for minutes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lifecycle.config.section import hide_uri_password
from lifecycle.errors import LifecycleError, RegistryError, RegistryUnavailableError

#: Set in the process environment (only when unset) before mlflow is first imported.
MLFLOW_ENV_DEFAULTS = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    # MLflow's defaults (7 retries, backoff factor 2, 120 s timeout) keep a call to a dead
    # server going for minutes; lifecycle's jobs are retried on the next tick instead.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
#: Seconds :func:`check_reachable` waits for a tracking server's ``/health``.
PROBE_TIMEOUT = 5.0

# MLflow error codes (strings, as ``MlflowException.error_code`` carries them)
NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})
EXISTS_CODES = frozenset({"RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"})
_UNAVAILABLE_CODES = frozenset({"TEMPORARILY_UNAVAILABLE", "ENDPOINT_NOT_FOUND"})
_UNAVAILABLE_WORDS = ("max retries exceeded", "failed to establish", "connection refused",
                      "timed out", "name or service not known", "unable to open database",
                      "connectionerror", "remotedisconnected", "connection aborted")


def mlflow_module() -> ModuleType:
    """``import mlflow`` after setting the environment defaults above."""
    for key, value in MLFLOW_ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    import mlflow

    # "Creating initial MLflow database tables..." on every new local store: not news to a
    # user of lifecycle, who never created an MLflow store by hand (warnings still show)
    logging.getLogger("mlflow.store.db.utils").setLevel(
        max(logging.WARNING, logging.getLogger("mlflow.store.db.utils").level))
    return mlflow


def error_code(exc: BaseException) -> str | None:
    """The MLflow error code of ``exc`` (None for anything that is not an MlflowException)."""
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else None


def is_not_found(exc: BaseException) -> bool:
    """A model, version, alias or run that does not exist (MLflow reports a missing alias as
    ``INVALID_PARAMETER_VALUE ... not found``)."""
    code = error_code(exc)
    return code in NOT_FOUND_CODES or (
        code == "INVALID_PARAMETER_VALUE" and "not found" in str(exc).lower())


def is_unavailable(exc: BaseException) -> bool:
    """The store could not be reached (as opposed to refusing a request)."""
    if isinstance(exc, (ConnectionError, TimeoutError, RegistryUnavailableError)):
        return True
    if error_code(exc) in _UNAVAILABLE_CODES:
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in _UNAVAILABLE_WORDS)


def unavailable(uri: str, reason: str) -> RegistryUnavailableError:
    """The error for a store that cannot be reached, naming the URI and the fix."""
    return RegistryUnavailableError(
        f"the MLflow tracking store {hide_uri_password(uri)} cannot be reached ({reason}); "
        "start the tracking server or fix mlflow_tracking_uri in lifecycle.toml "
        "(LIFECYCLE_MLFLOW_TRACKING_URI / MLFLOW_TRACKING_URI), then retry")


@contextmanager
def translated(uri: str, what: str) -> Iterator[None]:
    """Turn anything MLflow raises while doing ``what`` into a :class:`RegistryError`
    (:class:`RegistryUnavailableError` when the store could not be reached)."""
    try:
        yield
    except LifecycleError:  # already ours (a TrainerError from the model, ...)
        raise
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if is_unavailable(exc):
            raise unavailable(uri, f"{what}: {first_line}") from exc
        raise RegistryError(
            f"MLflow refused {what} on {hide_uri_password(uri)}: {first_line}") from exc


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other schemes); relative paths are
    relative to the working directory, as MLflow reads them."""
    if not uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:":
        raise RegistryError(
            f"mlflow_tracking_uri {uri!r} has no database file; use sqlite:///path/to/mlflow.db")
    return Path(database)


def check_reachable(uri: str) -> None:
    """Fail fast, before MLflow's own retries (101 s for an unopenable SQLite file in one
    measurement, minutes for a dead server), when the store behind ``uri`` cannot be reached."""
    path = sqlite_path(uri)
    if path is not None:
        _check_sqlite(uri, path)
    elif uri.startswith(("http://", "https://")):
        _check_http(uri)


def _check_sqlite(uri: str, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # what MLflow does for a new store
        connection = sqlite3.connect(path, timeout=5)
        try:
            connection.execute("PRAGMA schema_version").fetchone()
        finally:
            connection.close()
    except (OSError, sqlite3.Error) as exc:
        raise unavailable(uri, f"cannot open {path}: {exc}; the folder must exist or be "
                               "creatable and be writable by this user") from None


def _check_http(uri: str) -> None:
    parts = urlsplit(uri)  # credentials are MLflow's business, not the probe's
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/health", "", ""))
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:  # noqa: S310
            response.read(64)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:
            raise unavailable(uri, f"GET /health answered {exc.code}") from None
        # 401/403/404: a server answered; auth and routes are MLflow's business
    except (urllib.error.URLError, OSError) as exc:
        reason: Any = getattr(exc, "reason", exc)
        raise unavailable(uri, f"GET /health failed: {reason}") from None


__all__ = ["EXISTS_CODES", "MLFLOW_ENV_DEFAULTS", "NOT_FOUND_CODES", "PROBE_TIMEOUT",
           "check_reachable", "error_code", "is_not_found", "is_unavailable", "mlflow_module",
           "sqlite_path", "translated", "unavailable"]

"""Architecture rules that keep the core pure and imports side-effect free."""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import subprocess
import sys

import lifecycle

PURE_PACKAGES = ["lifecycle.drift", "lifecycle.performance", "lifecycle.detectors"]
PURE_MODULES = ["lifecycle.evaluation", "lifecycle.records", "lifecycle.errors"]
FORBIDDEN = ["sqlalchemy", "mlflow", "apscheduler", "streamlit", "pandas", "pyarrow",
             "sklearn", "psycopg", "alembic"]


def _pure_modules() -> list[str]:
    names = [m for m in PURE_MODULES if importlib.util.find_spec(m) is not None]
    for package in PURE_PACKAGES:
        if importlib.util.find_spec(package) is None:
            continue
        names.append(package)
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            names.append(info.name)
    return names


def _modules_loaded_by(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return {m.split(".")[0] for m in json.loads(out.strip().splitlines()[-1])}


def test_pure_core_imports_no_io_library() -> None:
    modules = _pure_modules()
    assert "lifecycle.errors" in modules
    code = "\n".join(f"import {m}" for m in modules)
    loaded = _modules_loaded_by(code)
    leaked = sorted(set(FORBIDDEN) & loaded)
    assert leaked == [], f"pure core pulled in {leaked} (modules: {modules})"


def test_import_lifecycle_is_light() -> None:
    loaded = _modules_loaded_by("import lifecycle")
    assert sorted(set(FORBIDDEN) & loaded) == []


def test_public_names_resolve() -> None:
    for name in lifecycle.__all__:
        assert getattr(lifecycle, name) is not None, name


def test_public_names_are_pinned() -> None:
    """Adding or removing a public name is a deliberate change: update this list with it."""
    assert lifecycle.__all__ == [
        "__version__",
        "Settings",
        "capture_context",
        "check_drift",
        "configure",
        "flush",
        "last_prediction_ids",
        "load_settings",
        "log_outcomes",
        "monitor",
        "run_window",
        "stats",
    ]

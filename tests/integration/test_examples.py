"""Every script in ``examples/`` runs as its docstring tells a new user to run it: from an
empty folder, through the installed ``lifecycle`` command, in a fresh process (so the examples
never rot). ``examples/trainer.py`` has its own tests (tests/unit/test_examples_trainer.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

pytestmark = pytest.mark.slow


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty project folder holding copies of the examples, and a clean environment."""
    for script in EXAMPLES.glob("*.py"):
        shutil.copy(script, tmp_path / script.name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LIFECYCLE_", "MLFLOW_TRACKING"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return tmp_path, env


def run(folder: tuple[Path, dict[str, str]], *args: str) -> str:
    cwd, env = folder
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def lifecycle(*args: str) -> list[str]:
    return [sys.executable, "-m", "lifecycle.cli", *args]


def test_drift_check_needs_no_database(folder: tuple[Path, dict[str, str]]) -> None:
    out = run(folder, sys.executable, "drift_check.py")
    assert "drifting: ['age']" in out
    assert not (folder[0] / ".lifecycle").exists()


def test_monitor_then_adopt_and_serve(folder: tuple[Path, dict[str, str]]) -> None:
    run(folder, *lifecycle("db", "upgrade"))
    assert "logged 500 predictions and their labels: True" in run(
        folder, sys.executable, "monitor_function.py")
    assert "200 predictions logged" in run(folder, sys.executable, "wrap_estimator.py")
    models = run(folder, *lifecycle("models"))
    assert "churn" in models and "credit" in models

    run(folder, sys.executable, "-c", "import joblib, monitor_function as m; "
                                      "joblib.dump(m.model, 'model.joblib')")
    run(folder, *lifecycle("register", "churn", "--from-file", "model.joblib",
                           "--alias", "champion"))
    out = run(folder, sys.executable, "managed_model.py")
    assert "served by champion version 1: 10 calls" in out

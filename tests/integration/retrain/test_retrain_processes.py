"""Retrains across real processes: two schedulers and several people asking at once give
exactly one retrain per model per cooldown; a SIGKILLed retrain is marked ``lost`` when its
request is taken over, and the retrain then runs to the end once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lifecycle.registry.mlflow_store import registry_for
from lifecycle.states import CHALLENGER, DONE, LOST
from lifecycle.storage.retrain_repo import list_runs
from tests.integration.retrain.conftest import MODEL, ROOT, Served

pytestmark = pytest.mark.slow


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _env(served: Served, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LIFECYCLE_") and k != "MLFLOW_TRACKING_URI"}
    env.update(LIFECYCLE_CONFIG=str(served.home / "lifecycle.toml"), PYTHONPATH=str(ROOT),
               MLFLOW_DISABLE_TELEMETRY="true", **more)
    return env


def _lifecycle(served: Served, *args: str, env: dict[str, str], log: Path,
               ) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "lifecycle.cli", *args], cwd=served.home,
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def test_two_schedulers_and_concurrent_asks_give_one_retrain(
        served: Served, tmp_path: Path) -> None:
    settings = served.settings(extra="[scheduler]\nrequest_poll_seconds = 0.5\n")
    env = _env(served)
    log = tmp_path / "processes.log"
    schedulers = [_lifecycle(served, "scheduler", "run", env=env, log=log) for _ in range(2)]
    try:
        asks = [_lifecycle(served, "retrain", MODEL, "--reason", f"ask {i}", env=env, log=log)
                for i in range(4)]
        codes = [p.wait(timeout=120) for p in asks]
        assert sorted(codes) == [0, 2, 2, 2], log.read_text()  # 3 refused by the cooldown
        wait_for("the retrain to finish", lambda: [
            r for r in list_runs(served.engine, MODEL) if r.status == DONE], timeout=120)
        time.sleep(2.0)  # both schedulers polled again: nothing more may run
    finally:
        for proc in schedulers:
            proc.send_signal(signal.SIGTERM)
        for proc in schedulers:
            proc.wait(timeout=60)
    runs = list_runs(served.engine, MODEL)
    assert [r.status for r in runs] == [DONE], log.read_text()
    registry = registry_for(settings)
    assert sorted(v.version for v in registry.versions(MODEL)) == ["1", "2"]
    assert registry.by_alias(MODEL, CHALLENGER).version == "2"
    assert "cooldown" in log.read_text()


def test_a_sigkilled_retrain_is_marked_lost_and_taken_over(
        served: Served, tmp_path: Path) -> None:
    marker = tmp_path / "slow.marker"
    served.settings(trainer="slow_once", extra="[scheduler]\nlease_seconds = 2\n")
    env = _env(served, RETRAIN_TEST_MARKER=str(marker))
    log = tmp_path / "processes.log"
    victim = _lifecycle(served, "retrain", MODEL, "--wait", env=env, log=log)
    wait_for("the trainer to start", marker.exists)
    assert [r.status for r in list_runs(served.engine, MODEL)] == ["running"]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    time.sleep(2.5)  # the request's lease expires
    survivor = subprocess.run(
        [sys.executable, "-m", "lifecycle.cli", "scheduler", "run", "--once"],
        cwd=served.home, env=env, capture_output=True, text=True, timeout=300)
    assert survivor.returncode == 0, survivor.stdout + survivor.stderr
    runs = list_runs(served.engine, MODEL)
    assert [r.status for r in runs] == [DONE, LOST], [(r.status, r.error) for r in runs]
    assert "stopped before it finished" in (runs[1].error or "")
    assert runs[0].request_id == runs[1].request_id
    assert runs[0].registered_version == "2"

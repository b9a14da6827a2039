"""``lifecycle retrain`` and ``lifecycle runs`` as a user types them: --check on good and bad
trainers, a retrain run here with --wait, the cooldown refusal, the history, a typo."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lifecycle.cli import main
from tests.integration.retrain.conftest import MODEL, Served

pytestmark = pytest.mark.slow


def run(served: Served, *args: str) -> tuple[int, str]:
    env = {"LIFECYCLE_CONFIG": str(served.home / "lifecycle.toml")}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_check_names_a_bad_trainer(served: Served) -> None:
    served.settings()
    code, out = run(served, "retrain", "--check")
    assert code == 0 and f"ok  {MODEL}" in out
    served.settings(trainer="wrong_signature")
    code, out = run(served, "retrain", "--check")
    assert code == 2 and f"BAD {MODEL}" in out and "wrong_signature" in out


def test_retrain_wait_prints_the_result_and_runs_lists_it(served: Served) -> None:
    served.settings()
    code, out = run(served, "retrain", MODEL, "--wait", "--reason", "drift on b",
                    "--actor", "bob")
    assert code == 0, out
    assert "version 2 is now the challenger" in out and "champion: 1" in out
    assert "600 train, 200 holdout" in out and "holdout, new" in out
    code, again = run(served, "retrain", MODEL)
    assert code == 2 and "retrain_cooldown" in again and "--force" in again

    code, out = run(served, "runs", MODEL)
    assert code == 0 and "done" in out and "accuracy" in out and "drift on b" in out
    code, out = run(served, "runs", MODEL, "--json")
    row = json.loads(out.splitlines()[0])
    assert row["status"] == "done" and row["actor"] == "bob"
    assert row["registered_version"] == "2" and row["champion_version"] == "1"


def test_a_failed_retrain_exits_2_with_the_error(served: Served) -> None:
    served.settings(trainer="explode")
    code, out = run(served, "retrain", MODEL, "--wait")
    assert code == 2 and "failed" in out and "trainer exploded" in out


def test_typos_are_named(served: Served) -> None:
    served.settings()
    code, out = run(served, "retrain", "credt")
    assert code == 2 and "did you mean 'credit'" in out
    code, out = run(served, "runs", "credt")
    assert code == 2 and "did you mean 'credit'" in out
    code, out = run(served, "retrain")
    assert code == 2 and "name one model" in out

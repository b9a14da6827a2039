"""``lifecycle performance MODEL``: the table and the exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from _perf_data import T0, classifier_data, timestamps, write_outcomes, write_predictions
from click.testing import CliRunner
from sqlalchemy import Engine

from lifecycle.cli import main

DAY = timedelta(days=1)


def _write(engine: Engine, start, data, labelled: bool = True) -> None:
    ts = timestamps(start, len(data["x"]), DAY)
    keys = write_predictions(engine, "churn", "classification", ts, {"x": data["x"]},
                             labels=data["pred"].tolist(),
                             proba={"0": (1 - data["p"]).tolist(), "1": data["p"].tolist()})
    if labelled:
        write_outcomes(engine, "churn", keys, data["y"].tolist(), start + 3 * DAY)


@pytest.fixture
def configured(tmp_home: Path, sqlite_url: str, engine_for: Callable[[str], Engine]) -> Engine:
    (tmp_home.parent / "lifecycle.toml").write_text(
        f'database_url = "{sqlite_url}"\n'
        "[models.churn]\n"
        'task = "classification"\n'
        "[models.churn.performance]\n"
        "reference_since = 2026-03-01T00:00:00Z\n"
        "reference_until = 2026-03-02T00:00:00Z\n"
        "n_boot = 60\n"
    )
    engine = engine_for(sqlite_url)
    rng = np.random.default_rng(7)
    _write(engine, T0, classifier_data(rng, 1500))
    _write(engine, T0 + DAY, classifier_data(rng, 1000))
    _write(engine, T0 + 2 * DAY, classifier_data(rng, 1000, flip=True))
    _write(engine, T0 + 3 * DAY, classifier_data(rng, 500), labelled=False)
    return engine


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["performance", "churn", *args])
    return result.exit_code, result.output


def test_fine_window_exits_0_and_prints_the_table(configured: Engine) -> None:
    code, out = _run("--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z")
    assert code == 0, out
    assert "accuracy" in out and "roc_auc" in out and "p (Holm)" in out
    assert "coverage 100.0%" in out
    assert "assuming no concept shift" in out
    assert "verdict: FINE" in out


def test_degraded_window_exits_1(configured: Engine) -> None:
    code, out = _run("--since", "2026-03-03T00:00:00Z", "--until", "2026-03-04T00:00:00Z")
    assert code == 1, out
    assert "WORSE" in out and "verdict: DEGRADED" in out
    assert "change points:" in out


def test_no_labels_exits_2(configured: Engine) -> None:
    code, out = _run("--since", "2026-03-04T00:00:00Z", "--until", "2026-03-05T00:00:00Z",
                     "--no-save")
    assert code == 2, out
    assert "verdict: NO LABELS" in out
    # the label-free estimate, as the docs promise, before any label has arrived
    assert "estimated without labels over 500 predictions" in out
    assert "assuming no concept shift" in out


def test_unknown_model_exits_2_with_one_line(configured: Engine) -> None:
    result = CliRunner().invoke(main, ["performance", "nope", "--since", "-1d"])
    assert result.exit_code == 2
    assert "unknown model 'nope'" in result.output


def test_json_output(configured: Engine) -> None:
    code, out = _run("--since", "2026-03-03T00:00:00Z", "--until", "2026-03-04T00:00:00Z",
                     "--json", "--no-save")
    assert code == 1
    data = json.loads(out)
    assert data["verdict"] == "degraded" and data["exit_code"] == 1 and data["report_id"] is None
    names = [m["name"] for m in data["comparison"]["metrics"]]
    assert "accuracy" in names and data["coverage"]["coverage"] == 1.0
    assert data["estimate"]["assumption"].startswith("Estimated without labels")


def test_output_names_the_run_and_the_coverage_by_run(configured: Engine) -> None:
    window = ("--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z")
    code, out = _run(*window)
    assert code == 0, out
    assert "run manual (reference performance computed)" in out
    assert "coverage by run: manual " in out and ": 1000/1000 (100.0%) fine" in out
    code, out = _run(*window)
    assert "run manual (reference performance cached)" in out
    assert out.count("manual 20") == 2  # the history now holds both runs

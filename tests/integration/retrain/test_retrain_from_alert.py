"""From drift to a challenger with nothing run by hand: a covariate shift is found by the drift
job, its alert queues the built-in retrain (``retrain_on``), a scheduler pass runs it, and the
new version's lineage leads back to the alert and the drift report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sqlalchemy import Engine

import lifecycle
from lifecycle.capture import runtime
from lifecycle.capture.monitor import capture_context, configure
from lifecycle.jobs.requests import process_pending
from lifecycle.jobs.runner import RunContext, run_window
from lifecycle.reference import set_reference
from lifecycle.registry.mlflow_store import registry_for
from lifecycle.states import CHALLENGER, DONE
from lifecycle.storage.retrain_repo import list_runs
from tests.integration.retrain.conftest import TRAINERS

pytestmark = pytest.mark.slow

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)


def _traffic(rng: np.random.Generator, n: int, shift: float) -> tuple[pd.DataFrame, list[int]]:
    frame = pd.DataFrame({"id": [f"k{i}" for i in rng.integers(0, 10**12, n)],
                          "a": rng.normal(shift, 1, n), "b": rng.normal(0, 1, n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(frame["a"] - frame["b"])))).astype(int)
    return frame, y.tolist()


def test_a_drift_alert_retrains_into_a_challenger_with_lineage(
        db_url: str, engine_for: Callable[[str], Engine], tmp_home: Path,
        tmp_path: Path) -> None:
    config = tmp_path / "lifecycle.toml"
    config.write_text(f"""
database_url = "{db_url}"
mlflow_tracking_uri = "sqlite:///{tmp_path / 'mlflow.db'}"
[models.loans]
task = "classification"
id_column = "id"
features = ["a", "b"]
[models.loans.alerts]
retrain_on = ["data_drift"]
[models.loans.retrain]
trainer = "{TRAINERS}:forest"
min_rows = 300
""")
    settings = lifecycle.load_settings(config, env={}, cwd=tmp_path)
    engine = engine_for(db_url)
    rng = np.random.default_rng(3)
    clock = {"now": DAY0}
    first, first_y = _traffic(rng, 500, 0.0)
    served = LogisticRegression().fit(first[["a", "b"]], first_y)
    configure(database_url=db_url, spill_dir=str(tmp_path / "spill"), flush_interval_s=0.02,
              handle_sigterm=False)
    try:
        @lifecycle.monitor("loans", id_column="id", classes=[0, 1],
                           clock=lambda: clock["now"])
        def predict(frame: pd.DataFrame) -> np.ndarray:
            return served.predict_proba(frame[["a", "b"]])

        for day, shift in ((0, 0.0), (1, 1.5)):
            frame, y = _traffic(rng, 1500, shift)
            with capture_context() as cap:
                for start in range(0, 1500, 100):
                    clock["now"] = DAY0 + timedelta(days=day, minutes=start // 10)
                    predict(frame.iloc[start:start + 100])
            assert lifecycle.flush(30)
            lifecycle.log_outcomes("loans", cap.join_keys, y,
                                   received_at=DAY0 + timedelta(days=day, hours=6))
    finally:
        runtime.reset()
    set_reference(engine, settings.model("loans"), since=DAY0, until=DAY0 + timedelta(days=1))

    result = run_window("drift", engine, settings, "loans", DAY0 + timedelta(days=1),
                        DAY0 + timedelta(days=2), clock=lambda: DAY0 + timedelta(days=2))
    assert result.status == DONE and result.retrain is not None, result
    assert result.retrain["status"] == "queued"
    alert_id = result.retrain["alert_id"]

    registry = registry_for(settings)
    ctx = RunContext(engine=engine, settings=settings, registry=registry,
                     clock=lambda: DAY0 + timedelta(days=2, hours=1))
    outcomes = process_pending(ctx)
    assert [o.status for o in outcomes] == [DONE], outcomes
    run = list_runs(engine, "loans")[0]
    assert run.status == DONE and run.trigger == "alert" and run.alert_id == alert_id
    assert run.drift_report_id is not None and run.actor == "scheduler"
    assert run.reason is not None and "data_drift" in run.reason
    # the 30-day window ending at the retrain holds both days
    assert run.details["counts"]["n_labelled"] == 3000
    version = registry.by_alias("loans", CHALLENGER)
    assert version is not None and version.version == run.registered_version
    tags = MlflowClient(settings.mlflow_tracking_uri).get_run(run.mlflow_run_id).data.tags
    assert tags["lifecycle.alert_id"] == str(alert_id)
    assert tags["lifecycle.drift_report_id"] == str(run.drift_report_id)
    assert tags["lifecycle.trigger"] == "alert" and tags["lifecycle.challenges"] == "none"
    assert run.details["champion_source"] == "logged predictions"

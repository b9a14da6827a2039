"""The built-in retrain end to end, on real SQLite / PostgreSQL and a real MLflow store: the
new version is the challenger (champion untouched), its run reads back through MLflow's own
client, the registered model predicts like the trainer's object, and every failure leaves the
registry as it was, with the error recorded and an alert open."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import lifecycle
from lifecycle.registry.mlflow_store import MlflowRegistry, registry_for
from lifecycle.states import CHALLENGER, CHAMPION, DONE, FAILED, SKIPPED
from lifecycle.storage.retrain_repo import list_runs
from lifecycle.storage.tables import Alert, AuditEvent, JobRequest
from tests.integration.retrain import trainers
from tests.integration.retrain.conftest import FEATURES, MODEL, Served

pytestmark = pytest.mark.slow


def _versions(registry: MlflowRegistry) -> list[str]:
    return sorted(v.version for v in registry.versions(MODEL))


def test_retrain_registers_a_challenger_with_lineage(served: Served,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    settings = served.settings()
    registry = registry_for(settings)
    result = lifecycle.retrain(MODEL, reason="drift on a", actor="alice", settings=settings,
                               engine=served.engine, registry=registry)

    run = result.run
    assert run is not None and run.status == DONE, run
    assert result.request_status == DONE
    assert run.registered_version == "2" and run.champion_version == served.champion_version
    assert registry.by_alias(MODEL, CHALLENGER).version == "2"
    assert registry.by_alias(MODEL, CHAMPION).version == served.champion_version
    assert run.actor == "alice" and run.reason == "drift on a" and run.trigger == "manual"
    assert run.request_id == result.request.request_id
    # 800 labelled rows: 25 % newest held out
    assert run.details["n_train"] == 600 and run.details["n_holdout"] == 200
    assert set(run.metrics) == {"new", "champion"}
    assert {"accuracy", "roc_auc", "log_loss"} <= set(run.metrics["new"])
    assert run.metrics["new"].keys() == run.metrics["champion"].keys()
    assert all(0.5 < m["accuracy"] < 1.0 for m in run.metrics.values())
    assert run.details["champion_source"] == f"registered version {served.champion_version}"

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    mlrun = client.get_run(run.mlflow_run_id)
    assert mlrun.info.status == "FINISHED"
    params, metrics, tags = mlrun.data.params, mlrun.data.metrics, mlrun.data.tags
    assert params["n_train"] == "600" and params["n_holdout"] == "200"
    assert params["trainer"] == "tests.integration.retrain.trainers:forest"
    assert params["trigger"] == "manual" and params["param.n_estimators"] == "15"
    assert metrics["holdout_accuracy"] == pytest.approx(run.metrics["new"]["accuracy"])
    assert metrics["champion_holdout_accuracy"] == pytest.approx(
        run.metrics["champion"]["accuracy"])
    assert tags["lifecycle.challenges"] == served.champion_version
    assert tags["lifecycle.dataset_hash"] == run.dataset_hash
    assert tags["lifecycle.retrain_id"] == str(run.id)
    version = client.get_model_version(MODEL, "2")
    assert version.run_id == run.mlflow_run_id
    assert version.tags["lifecycle.status"] == CHALLENGER

    # the registered model loads with MLflow's own pyfunc and predicts like the trainer's
    monkeypatch.setenv("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri)
    holdout = _holdout(served)
    loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}/2")
    expected = trainers.FITTED["forest"].predict(holdout)
    assert np.array_equal(np.asarray(loaded.predict(holdout)), expected)
    native = registry.load_model(f"models:/{MODEL}@{CHALLENGER}")
    assert np.array_equal(native.predict(holdout), expected)

    with Session(served.engine) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["retrain.request", "retrain.run"]


def _holdout(served: Served):  # type: ignore[no-untyped-def]
    from lifecycle.storage.window import load_window

    window = load_window(served.engine, MODEL)
    return window.inputs[FEATURES].tail(50).reset_index(drop=True)


def test_second_retrain_supersedes_the_first_challenger(served: Served) -> None:
    settings = served.settings(trainer="boosted")
    registry = registry_for(settings)
    first = lifecycle.retrain(MODEL, settings=settings, engine=served.engine,
                              registry=registry)
    second = lifecycle.retrain(MODEL, settings=settings, engine=served.engine,
                               registry=registry)
    assert second.request.status == "cooldown"  # retrain_cooldown (24 h) holds
    assert second.run is None
    forced = lifecycle.retrain(MODEL, settings=settings, engine=served.engine,
                               registry=registry, force=True)
    assert first.run is not None and forced.run is not None
    assert (first.run.registered_version, forced.run.registered_version) == ("2", "3")
    assert forced.run.details["superseded_version"] == "2"
    assert registry.by_alias(MODEL, CHALLENGER).version == "3"
    old = registry.version(MODEL, "2")
    assert old is not None and old.tags["lifecycle.status"] == "superseded"
    assert old.tags["lifecycle.superseded_by"] == "3"
    assert registry.by_alias(MODEL, CHAMPION).version == served.champion_version


@pytest.mark.parametrize("trainer, expected", [
    ("explode", "RuntimeError: trainer exploded"),
    ("unloggable", "cloudpickle can serialise"),
    ("no_predict", "predict"),
])
def test_a_failed_retrain_leaves_the_registry_as_it_was(
        served: Served, trainer: str, expected: str) -> None:
    settings = served.settings(trainer=trainer)
    registry = registry_for(settings)
    before = _versions(registry)
    result = lifecycle.retrain(MODEL, settings=settings, engine=served.engine,
                               registry=registry)
    run = result.run
    assert run is not None and run.status == FAILED
    assert expected in (run.error or "")
    assert "Traceback" in run.details["traceback"]
    assert result.request_status == FAILED
    assert _versions(registry) == before
    assert registry.by_alias(MODEL, CHALLENGER) is None
    assert registry.by_alias(MODEL, CHAMPION).version == served.champion_version
    if run.mlflow_run_id:
        status = MlflowClient(settings.mlflow_tracking_uri).get_run(run.mlflow_run_id)
        assert status.info.status == "FAILED"
    with Session(served.engine) as session:
        alert = session.scalar(select(Alert).where(Alert.kind == "retrain_failed"))
        request = session.scalar(select(JobRequest))
    assert alert is not None and alert.status == "open" and alert.severity == "critical"
    assert str(run.id) in alert.message
    assert request is not None and request.status == FAILED


def test_unreachable_tracking_store_fails_cleanly(served: Served) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = served.settings(env={"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"})
    local = registry_for(served.settings())
    result = lifecycle.retrain(MODEL, settings=settings, engine=served.engine)
    run = result.run
    assert run is not None and run.status == FAILED
    assert "RegistryUnavailableError" in (run.error or "")
    assert run.mlflow_run_id is None and run.registered_version is None
    assert _versions(local) == [served.champion_version]
    with Session(served.engine) as session:
        assert session.scalar(select(Alert.status).where(Alert.kind == "retrain_failed")) \
            == "open"


def test_too_few_labelled_rows_skips_with_the_reason(served: Served) -> None:
    served.settings()
    text = (served.home / "lifecycle.toml").read_text().replace("min_rows = 200",
                                                                  "min_rows = 5000")
    (served.home / "lifecycle.toml").write_text(text)
    settings = lifecycle.load_settings(served.home / "lifecycle.toml", env={},
                                       cwd=served.home)
    registry = registry_for(settings)
    result = lifecycle.retrain(MODEL, settings=settings, engine=served.engine,
                               registry=registry)
    run = result.run
    assert run is not None and run.status == SKIPPED
    assert "5000" in (run.error or "") and "800" in (run.error or "")
    assert result.request_status == DONE
    assert _versions(registry) == [served.champion_version]
    assert list_runs(served.engine, MODEL)[0].status == SKIPPED

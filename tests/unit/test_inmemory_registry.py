"""InMemoryRegistry behaves like the MLflow adapter where lifecycle depends on it."""

from __future__ import annotations

import math

import pytest

from lifecycle.errors import RegistryError, RegistryUnavailableError, TrainerError
from lifecycle.registry.base import PREVIOUS, Registry
from lifecycle.states import CHALLENGER, CHAMPION
from lifecycle.testing import InMemoryRegistry


class Const:
    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, rows: list[int]) -> list[float]:
        return [self.value] * len(rows)


def _registered(registry: InMemoryRegistry, value: float, name: str = "churn") -> str:
    with registry.start_run(f"lifecycle/{name}", "train") as run:
        uri = run.log_model(Const(value), input_example=[1, 2])
    return registry.register(name, uri, run_id=run.run_id).version


def test_it_satisfies_the_protocol() -> None:
    registry: Registry = InMemoryRegistry()
    assert registry.tracking_uri == "memory://"


def test_runs_keep_params_metrics_tags_and_end_finished_or_failed() -> None:
    registry = InMemoryRegistry()
    with registry.start_run("lifecycle/churn", "r", tags={"trigger": "alert:1"}) as run:
        run.log_params({"rows": 10, "long": "x" * 7000})
        run.log_metrics({"auc": 0.8, "nan": math.nan})
        run.set_tags({"k": "v"})
        run.log_dict({"a": 1}, "schema.json")
    info = registry.get_run(run.run_id)
    assert info.status == "FINISHED" and info.params["rows"] == "10"
    assert len(info.params["long"]) == 6000
    assert info.metrics == {"auc": 0.8}
    assert info.tags == {"trigger": "alert:1", "k": "v"}
    with pytest.raises(KeyError), registry.start_run("lifecycle/churn", "bad") as failed:
        raise KeyError("boom")
    assert registry.get_run(failed.run_id).status == "FAILED"
    with pytest.raises(RegistryError, match="nope"):
        registry.get_run("nope")


def test_log_model_needs_predict_and_returns_a_memory_uri() -> None:
    registry = InMemoryRegistry()
    with registry.start_run("e", "r") as run:
        uri = run.log_model(Const(1.0), input_example=None)
        with pytest.raises(TrainerError, match="builtins.int.*no predict"):
            run.log_model(3, input_example=None)
    assert uri == f"memory://run/{run.run_id}/model"
    assert any(r.startswith("scikit-learn==") for r in registry.requirements_by_uri[uri])


def test_versions_aliases_tags_and_loading() -> None:
    registry = InMemoryRegistry()
    assert (_registered(registry, 1.0), _registered(registry, 2.0)) == ("1", "2")
    assert registry.by_alias("churn", CHAMPION) is None
    assert registry.by_alias("nope", CHAMPION) is None
    registry.set_alias("churn", CHAMPION, "1")
    registry.set_alias("churn", PREVIOUS, "1")
    registry.set_alias("churn", CHALLENGER, "2")
    champion = registry.by_alias("churn", CHAMPION)
    assert champion is not None and champion.aliases == (CHAMPION, PREVIOUS)
    assert [(v.version, v.aliases) for v in registry.versions("churn")] == [
        ("2", (CHALLENGER,)), ("1", (CHAMPION, PREVIOUS))]
    assert registry.versions("nope") == []
    assert registry.version("churn", "9") is None
    assert registry.load_model("models:/churn@champion").predict([0]) == [1.0]
    assert registry.load_model("models:/churn/2").predict([0]) == [2.0]
    registry.set_version_tags("churn", "2", {"lifecycle.decision": "reject"})
    two = registry.version("churn", "2")
    assert two is not None and two.tags == {"lifecycle.decision": "reject"}
    registry.delete_alias("churn", CHALLENGER)
    registry.delete_alias("churn", CHALLENGER)
    registry.delete_alias("nope", CHALLENGER)
    assert registry.by_alias("churn", CHALLENGER) is None
    registry.delete_version("churn", "1")
    assert registry.by_alias("churn", CHAMPION) is None  # as MLflow: aliases go with it
    assert [v.version for v in registry.versions("churn")] == ["2"]


def test_registering_a_run_uri_and_unknown_things() -> None:
    registry = InMemoryRegistry()
    with registry.start_run("e", "r") as run:
        run.log_model(Const(4.0), input_example=None)
    version = registry.register("churn", f"runs:/{run.run_id}/model", run_id=None)
    assert version.run_id == run.run_id
    assert registry.load_model(version.uri).predict([0]) == [4.0]
    with pytest.raises(RegistryError):
        registry.register("churn", "runs:/nope/model", run_id=None)
    with pytest.raises(RegistryError, match="not found"):
        registry.set_alias("churn", CHAMPION, "7")
    with pytest.raises(RegistryError, match="not found"):
        registry.set_alias("nope", CHAMPION, "1")
    with pytest.raises(RegistryError):
        registry.delete_version("churn", "7")
    with pytest.raises(RegistryError):
        registry.load_model("models:/churn/7")


def test_an_unavailable_store_raises_on_every_call() -> None:
    registry = InMemoryRegistry()
    registry.available = False
    with pytest.raises(RegistryUnavailableError):
        registry.ping()
    with pytest.raises(RegistryUnavailableError):
        registry.by_alias("churn", CHAMPION)
    with pytest.raises(RegistryUnavailableError), registry.start_run("e", "r"):
        pass

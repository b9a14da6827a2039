"""MlflowRegistry against a real MLflow store (SQLite-backed, in a temp folder): what it writes
reads back through MLflow's own client, models load natively and predict the same, and an
unreachable store is a RegistryUnavailableError naming the URI and the fix."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import types
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from lifecycle.errors import RegistryError, RegistryUnavailableError, TrainerError
from lifecycle.registry.base import PREVIOUS
from lifecycle.registry.mlflow_store import MlflowRegistry
from lifecycle.states import CHALLENGER, CHAMPION

pytestmark = pytest.mark.slow


def _frame(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows),
                      "plan": rng.choice(["basic", "pro", "team"], size=rows)})
    y = pd.Series(((x["a"] + (x["plan"] == "pro")) > 0.3).astype(int), name="y")
    return x, y


def _numeric(rows: int = 400) -> tuple[pd.DataFrame, pd.Series]:
    x, y = _frame(rows)
    return x[["a", "b"]], y


class Doubler:
    """Not scikit-learn: only predict."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame["a"], dtype=float) * 2


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database with its tables made once (MLflow's migrations take seconds)."""
    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    MlflowRegistry(f"sqlite:///{path}").ping()
    return path


@pytest.fixture
def uri(tmp_path: Path, empty_store: Path) -> str:
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def registry(uri: str) -> MlflowRegistry:
    return MlflowRegistry(uri)


@pytest.fixture
def client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _log(registry: MlflowRegistry, model: Any, x: pd.DataFrame, name: str = "churn") -> Any:
    with registry.start_run(f"lifecycle/{name}", "train") as run:
        model_uri = run.log_model(model, input_example=x)
    return registry.register(name, model_uri, run_id=run.run_id), model_uri, run.run_id


def test_run_reads_back_through_mlflow(registry: MlflowRegistry, client: Any) -> None:
    with registry.start_run("lifecycle/churn", "retrain-1", tags={"trigger": "alert:7"}) as run:
        run.log_params({"window": "30d", "rows": 1200, "long": "x" * 7000})
        run.log_metrics({"auc": 0.81, "nan": float("nan"), "inf": float("inf")})
        run.set_tags({"lifecycle.champion_version": "3"})
        run.log_dict({"columns": ["a", "b"]}, "schema.json")
    got = client.get_run(run.run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "retrain-1"
    assert got.data.params["window"] == "30d" and got.data.params["rows"] == "1200"
    assert len(got.data.params["long"]) == 6000
    assert got.data.metrics == {"auc": pytest.approx(0.81)}
    assert got.data.tags["trigger"] == "alert:7"
    assert got.data.tags["lifecycle.champion_version"] == "3"
    assert [f.path for f in client.list_artifacts(run.run_id)] == ["schema.json"]
    info = registry.get_run(run.run_id)
    assert info.status == "FINISHED" and info.params["rows"] == "1200"
    assert info.metrics == {"auc": pytest.approx(0.81)}


def test_a_failing_block_ends_the_run_failed(registry: MlflowRegistry, client: Any) -> None:
    with pytest.raises(ZeroDivisionError), registry.start_run("lifecycle/churn", "bad") as run:
        run.log_params({"a": 1})
        _ = 1 / 0
    assert client.get_run(run.run_id).info.status == "FAILED"


def test_artifacts_beside_the_database_never_in_the_working_directory(
    tmp_path: Path, uri: str, registry: MlflowRegistry, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    x, y = _numeric()
    version, _, _ = _log(registry, RandomForestClassifier(n_estimators=5, random_state=0)
                         .fit(x, y), x)
    assert list(cwd.iterdir()) == []
    assert version.source is not None
    assert version.source.startswith((tmp_path / "mlartifacts").as_uri())


def _sklearn_models() -> list[tuple[str, Any, pd.DataFrame, pd.Series]]:
    x, y = _numeric()
    frame, labels = _frame()
    pipeline = Pipeline([
        ("prep", ColumnTransformer([("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                                   remainder="passthrough")),
        ("clf", LogisticRegression()),
    ])
    return [
        ("random_forest", RandomForestClassifier(n_estimators=10, random_state=0), x, y),
        ("hgb_classifier", HistGradientBoostingClassifier(max_iter=20, random_state=0), x, y),
        ("hgb_regressor", HistGradientBoostingRegressor(max_iter=20, random_state=0), x,
         x["a"] * 3 + x["b"]),
        ("pipeline", pipeline, frame, labels),
    ]


@pytest.mark.parametrize(("label", "model", "x", "y"), _sklearn_models(),
                         ids=[m[0] for m in _sklearn_models()])
def test_sklearn_models_log_register_and_load_natively(
    registry: MlflowRegistry, client: Any, label: str, model: Any, x: pd.DataFrame,
    y: pd.Series,
) -> None:
    model.fit(x, y)
    version, model_uri, run_id = _log(registry, model, x, name=label)
    assert model_uri.startswith("models:/m-")
    assert version.version == "1" and version.run_id == run_id
    loaded = registry.load_model(version.uri)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    folder = Path(version.source.removeprefix("file://"))  # a local store: a local folder
    spec = yaml.safe_load((folder / "MLmodel").read_text())
    assert spec["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert [c["name"] for c in yaml.safe_load(spec["signature"]["inputs"])] == list(x.columns)
    requirements = (folder / "requirements.txt").read_text().split()
    assert f"scikit-learn=={metadata.version('scikit-learn')}" in requirements
    assert f"cloudpickle=={metadata.version('cloudpickle')}" in requirements
    # the logged model is linked to its run, as MLflow 3's own log_model links it
    outputs = client.get_run(run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [model_uri.removeprefix("models:/")]


def test_a_plain_predictor_is_logged_as_pyfunc(registry: MlflowRegistry) -> None:
    x, _ = _numeric()
    version, _, _ = _log(registry, Doubler(), x, name="doubler")
    loaded = registry.load_model(f"models:/doubler/{version.version}")
    assert type(loaded).__name__ == "PyFuncModel"
    np.testing.assert_allclose(np.asarray(loaded.predict(x)), Doubler().predict(x))


def test_a_pyfunc_model_loads_without_lifecycle(registry: MlflowRegistry) -> None:
    x, _ = _numeric()
    predictor = types.SimpleNamespace(predict=np.asarray)  # importable anywhere
    version, _, _ = _log(registry, predictor, x, name="plain")
    assert version.source is not None
    code = ("import sys; sys.modules['lifecycle'] = None\n"  # any import of it fails
            "import mlflow.pyfunc, pandas as pd\n"
            f"m = mlflow.pyfunc.load_model({version.source.removeprefix('file://')!r})\n"
            "out = m.predict(pd.DataFrame({'a': [1.5], 'b': [2.0]}))\n"
            "assert out.tolist() == [[1.5, 2.0]], out\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_object_without_predict_is_a_trainer_error(registry: MlflowRegistry,
                                                      client: Any) -> None:
    x, _ = _numeric()
    with pytest.raises(TrainerError, match="builtins.dict.*no predict"), \
            registry.start_run("lifecycle/churn", "bad") as run:
        run.log_model({"not": "a model"}, input_example=x)
    assert client.get_run(run.run_id).info.status == "FAILED"


def test_register_aliases_versions_tags(registry: MlflowRegistry, client: Any) -> None:
    x, y = _numeric()
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    v1, model_uri, run_id = _log(registry, model, x)
    v2 = registry.register("churn", f"runs:/{run_id}/model", run_id=None,
                           tags={"lifecycle.source": "run"})
    assert (v1.version, v2.version) == ("1", "2")
    assert v2.run_id == run_id and v2.source == v1.source  # runs:/ found the logged model
    assert registry.by_alias("churn", CHAMPION) is None
    assert registry.by_alias("nope", CHAMPION) is None
    registry.set_alias("churn", CHAMPION, "1")
    registry.set_alias("churn", CHALLENGER, "2")
    registry.set_alias("churn", PREVIOUS, "1")
    champion = registry.by_alias("churn", CHAMPION)
    assert champion is not None and champion.version == "1"
    assert set(champion.aliases) == {CHAMPION, PREVIOUS}
    assert str(client.get_model_version_by_alias("churn", CHALLENGER).version) == "2"
    listed = registry.versions("churn")
    assert [(v.version, v.aliases) for v in listed] == [
        ("2", (CHALLENGER,)), ("1", (CHAMPION, PREVIOUS))]
    assert listed[0].tags == {"lifecycle.source": "run"}
    assert registry.versions("nope") == []
    one = registry.version("churn", "1")
    assert one is not None and set(one.aliases) == {CHAMPION, PREVIOUS}
    assert registry.version("churn", "9") is None
    registry.delete_alias("churn", CHALLENGER)
    registry.delete_alias("churn", CHALLENGER)  # no error when already gone
    registry.delete_alias("nope", CHALLENGER)
    assert registry.by_alias("churn", CHALLENGER) is None
    registry.set_version_tags("churn", "2", {"lifecycle.decision": "reject"})
    assert client.get_model_version("churn", "2").tags["lifecycle.decision"] == "reject"
    with pytest.raises(RegistryError, match="churn"):
        registry.set_alias("churn", CHAMPION, "7")
    registry.delete_version("churn", "2")
    assert [v.version for v in registry.versions("churn")] == ["1"]
    copied = registry.register("churn-copy", "models:/churn@champion", run_id=None)
    assert copied.source == v1.source and copied.run_id == run_id


def test_unknown_things_are_registry_errors(registry: MlflowRegistry) -> None:
    with pytest.raises(RegistryError, match="abc"):
        registry.get_run("abc")
    with pytest.raises(RegistryError):
        registry.load_model("models:/nope/1")
    with pytest.raises(RegistryError, match="no model named 'model'"):
        with registry.start_run("lifecycle/churn", "empty") as run:
            pass
        registry.register("churn", f"runs:/{run.run_id}/model", run_id=None)
    assert registry.versions("churn") == []


def test_two_processes_registering_the_first_version_at_once(
    registry: MlflowRegistry, uri: str,
) -> None:
    x, y = _numeric()
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    with registry.start_run("lifecycle/race", "train") as run:
        model_uri = run.log_model(model, input_example=x)
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def register() -> None:
        mine = MlflowRegistry(uri)  # its own client, as another process would have
        barrier.wait()
        try:
            results.append(mine.register("race", model_uri, run_id=run.run_id))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=register) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.version for r in results) == ["1", "2"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_tracking_server_is_unavailable_with_the_fix() -> None:
    registry = MlflowRegistry(f"http://lc:s3cret@127.0.0.1:{_closed_port()}")  # no connection
    with pytest.raises(RegistryUnavailableError) as caught:
        registry.ping()
    message = str(caught.value)
    assert "127.0.0.1" in message and "s3cret" not in message and "***" in message
    assert "LIFECYCLE_MLFLOW_TRACKING_URI" in message
    with pytest.raises(RegistryUnavailableError):
        registry.by_alias("churn", CHAMPION)


def test_an_unwritable_folder_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    registry = MlflowRegistry(f"sqlite:///{blocker / 'mlflow.db'}")
    with pytest.raises(RegistryUnavailableError, match="not-a-folder"):
        registry.ping()
    with pytest.raises(RegistryUnavailableError), registry.start_run("e", "r"):
        pass


def test_nothing_imports_mlflow_until_it_is_used() -> None:
    code = ("import sys\n"
            "from lifecycle.cli import main\n"
            "import lifecycle.registry.mlflow_store as s\n"
            "r = s.MlflowRegistry('http://127.0.0.1:9')\n"
            "assert 'mlflow' not in sys.modules, 'mlflow imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr

"""`lifecycle register` through click's runner on a real MLflow store in LIFECYCLE_HOME: the
three sources, aliases, and refusals (exit 2, one clear line, nothing registered)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from click.testing import CliRunner
from sklearn.ensemble import RandomForestClassifier
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.registry.base import PREVIOUS
from lifecycle.registry.mlflow_store import MlflowRegistry
from lifecycle.states import CHAMPION
from lifecycle.storage.tables import AuditEvent

pytestmark = pytest.mark.slow

CONFIG = """
[models.churn]
task = "classification"
features = ["a", "b", "c"]

[models.price]
task = "regression"

[models.narrow]
features = ["a", "b", "z"]
"""


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    MlflowRegistry(f"sqlite:///{path}").ping()  # MLflow's migrations, once
    return path


@pytest.fixture
def home(tmp_home: Path, tmp_path: Path, empty_store: Path) -> Path:
    (tmp_path / "lifecycle.toml").write_text(CONFIG)
    shutil.copy(empty_store, tmp_home / "mlflow.db")
    return tmp_home


@pytest.fixture
def registry(home: Path) -> MlflowRegistry:
    return MlflowRegistry(f"sqlite:///{home / 'mlflow.db'}")


@pytest.fixture
def forest() -> tuple[Any, pd.DataFrame]:
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, x["a"] > 0)
    return model, x


def test_from_file_twice_as_champion_keeps_previous(
    home: Path, tmp_path: Path, registry: MlflowRegistry, forest: tuple[Any, pd.DataFrame],
) -> None:
    model, x = forest
    joblib.dump(model, tmp_path / "model.joblib")
    code, out, err = run(["register", "churn", "--from-file", "model.joblib",
                          "--alias", CHAMPION, "--actor", "ana"])
    assert code == 0, err
    assert "registered churn version 1" in out and "uri:    models:/churn/1" in out
    assert "alias:  champion" in out
    first = registry.version("churn", "1")
    assert first is not None and first.run_id is not None and first.run_id in out
    assert first.tags["lifecycle.registered_by"] == "ana"
    assert registry.get_run(first.run_id).status == "FINISHED"
    code, out, err = run(["register", "churn", "--from-file", "model.joblib",
                          "--alias", CHAMPION])
    assert code == 0, err
    assert "alias:  champion (previous: version 1)" in out
    champion = registry.by_alias("churn", CHAMPION)
    previous = registry.by_alias("churn", PREVIOUS)
    assert champion is not None and champion.version == "2"
    assert previous is not None and previous.version == "1"
    loaded = registry.load_model("models:/churn@champion")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_from_run_and_from_uri(home: Path, registry: MlflowRegistry,
                               forest: tuple[Any, pd.DataFrame]) -> None:
    model, x = forest
    with registry.start_run("training", "team-run") as training:
        training.log_model(model, input_example=x)
    code, out, err = run(["register", "churn", "--from-run", training.run_id])
    assert code == 0, err
    version = registry.version("churn", "1")
    assert version is not None and version.run_id == training.run_id
    assert "alias:  -" in out
    code, out, err = run(["register", "churn", "--from-uri", "models:/churn/1",
                          "--alias", "challenger"])
    assert code == 0, err
    copy = registry.by_alias("churn", "challenger")
    assert copy is not None and copy.version == "2" and copy.source == version.source
    code, _, err = run(["register", "churn", "--from-run", training.run_id,
                        "--artifact-path", "elsewhere"])
    assert code == 2 and "no model named 'elsewhere'" in err


@pytest.mark.parametrize(("name", "words"), [
    ("price", ["classification model", "task = 'regression'"]),
    ("narrow", ["lists z", "needs c"]),
])
def test_a_model_that_contradicts_lifecycle_toml_is_refused(
    home: Path, tmp_path: Path, registry: MlflowRegistry, forest: tuple[Any, pd.DataFrame],
    name: str, words: list[str],
) -> None:
    model, _ = forest
    joblib.dump(model, tmp_path / "model.pkl")
    code, out, err = run(["register", name, "--from-file", "model.pkl"])
    assert code == 2 and out == ""
    assert err.startswith("error: ") and all(w in err for w in words), err
    assert registry.versions(name) == []


def test_skops_untrusted_types_need_trust(home: Path, tmp_path: Path, registry: MlflowRegistry,
                                          forest: tuple[Any, pd.DataFrame]) -> None:
    skops.io.dump(forest[0], tmp_path / "model.skops")
    code, _, err = run(["register", "churn", "--from-file", "model.skops"])
    assert code == 2 and "sklearn.tree._tree.Tree" in err and "--trust" in err
    assert registry.versions("churn") == []
    code, out, err = run(["register", "churn", "--from-file", "model.skops", "--trust"])
    assert code == 0 and "version 1" in out, err


def test_unconfigured_model_is_registered_with_a_note_and_audited(
    home: Path, tmp_path: Path, registry: MlflowRegistry, forest: tuple[Any, pd.DataFrame],
) -> None:
    joblib.dump(forest[0], tmp_path / "model.joblib")
    code, out, err = run(["register", "other", "--from-file", "model.joblib"])
    assert code == 0 and "no [models.other] section" in err
    assert "no audit row written" in err and "lifecycle db upgrade" in err
    assert run(["db", "upgrade"])[0] == 0
    code, out, err = run(["register", "other", "--from-file", "model.joblib", "--actor", "bo"])
    assert code == 0 and "no audit row" not in err, err
    engine = create_engine(f"sqlite:///{home / 'lifecycle.db'}")
    with Session(engine) as session:
        rows = session.scalars(select(AuditEvent)).all()
    engine.dispose()
    assert [(r.actor, r.action, r.target) for r in rows] == [
        ("bo", "model.register", "models:/other/2")]
    assert rows[0].details["source"].startswith("file:")


def test_exactly_one_source(home: Path, tmp_path: Path) -> None:
    code, _, err = run(["register", "churn"])
    assert code == 2 and "exactly one of" in err
    code, _, err = run(["register", "churn", "--from-run", "x", "--from-uri", "models:/a/1"])
    assert code == 2 and "exactly one of" in err
    (tmp_path / "model.txt").write_text("no")
    code, _, err = run(["register", "churn", "--from-file", "model.txt"])
    assert code == 2 and ".joblib" in err

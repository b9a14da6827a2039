"""The trainer contract: import errors and wrong signatures fail with the key, the value, the
cause and the fix; what a trainer or loader returns is checked; its own errors pass through."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lifecycle.config import RetrainSettings, load_settings
from lifecycle.errors import TrainerError
from lifecycle.training.imports import ensure_cwd_importable, import_path
from lifecycle.training.trainer import (
    Trainer,
    check_trainers,
    fit,
    load_extra_rows,
    load_trainer,
)

Project = Callable[[str, str], None]

GOOD = """
import pandas as pd
from sklearn.linear_model import LogisticRegression

def train(train, target, params):
    x = train.drop(columns=[target])
    return LogisticRegression(C=params.get("C", 1.0)).fit(x, train[target])

def load_rows(params):
    return pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 0.0], "label": [0, 1], "note": ["x", "y"]})
"""


def _rs(trainer: str | None = "mytrain:train", loader: str | None = None) -> RetrainSettings:
    return RetrainSettings(trainer=trainer, data_loader=loader)


def _frame(n: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "label": (a + b > 0).astype(int)})


# --------------------------------------------------------------------------- importing


def test_a_module_in_the_working_directory_imports(project: Project) -> None:
    project("mytrain", GOOD)
    trainer = load_trainer("churn", _rs(loader="mytrain:load_rows"))
    assert trainer.path == "mytrain:train" and trainer.function.__name__ == "train"
    assert trainer.loader_path == "mytrain:load_rows" and trainer.loader is not None
    assert os.getcwd() in sys.path


def test_a_package_module_imports(project: Project) -> None:
    project("churn_pkg.training.core", GOOD)
    assert load_trainer("churn", _rs("churn_pkg.training.core:train")).function.__name__ == "train"


def test_the_working_directory_is_appended_once(project: Project) -> None:
    ensure_cwd_importable()
    ensure_cwd_importable()
    assert sys.path.count(os.getcwd()) == 1
    assert sys.path[-1] == os.getcwd()  # after installed packages: they win over project files


def test_job_kinds_import_through_the_same_helper() -> None:
    from lifecycle.jobs import kinds

    assert kinds.import_path is import_path


def test_no_trainer_configured_names_the_key() -> None:
    with pytest.raises(TrainerError, match=r"model 'churn' has no trainer: set "
                                           r"\[models.churn.retrain\] trainer = "):
        load_trainer("churn", _rs(None))


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("nosuch_mod_x.deep:train", r"No module named 'nosuch_mod_x'"),
        ("mytrain:trian", r"module 'mytrain' has no attribute 'trian'"),
        ("mytrain:CONSTANT", r"'mytrain:CONSTANT' is not callable"),
    ],
)
def test_import_errors_name_key_value_cause_and_fix(project: Project, path: str,
                                                   cause: str) -> None:
    project("mytrain", GOOD + "\nCONSTANT = 3\n")
    with pytest.raises(TrainerError) as info:
        load_trainer("churn", _rs(path))
    text = str(info.value)
    assert f"[models.churn.retrain] trainer = {path!r} cannot be imported" in text
    assert re.search(cause, text), text
    assert "pip install -e ." in text and "project's root folder" in text


def test_a_module_that_raises_while_importing(project: Project) -> None:
    project("broken", "raise RuntimeError('no GPU here')\n")
    with pytest.raises(TrainerError, match=r"trainer = 'broken:train' cannot be imported: "
                                           r"importing its module raised RuntimeError: no GPU"):
        load_trainer("churn", _rs("broken:train"))


def test_a_loader_that_cannot_be_imported_names_its_key(project: Project) -> None:
    project("mytrain", GOOD)
    with pytest.raises(TrainerError, match=r"\[models.churn.retrain\] data_loader = "
                                           r"'mytrain:missing' cannot be imported"):
        load_trainer("churn", _rs(loader="mytrain:missing"))


ACCEPTED = [
    "def train(train, target, params): ...",
    "def train(train, target, params=None, *, seed=0): ...",
    "def train(*args): ...",
    "def train(train, *args, **kwargs): ...",
    "def train(train, target, params, extra=1): ...",
    "class train:\n    def __init__(self, train, target, params): ...",
    "class _T:\n    def __call__(self, train, target, params): ...\ntrain = _T()",
    "import functools\ndef _t(a, train, target, params): ...\ntrain = functools.partial(_t, 1)",
]


@pytest.mark.parametrize("source", ACCEPTED)
def test_signatures_that_take_three_arguments(project: Project, source: str) -> None:
    project("sig", source + "\ndef load(params): ...\n")
    assert load_trainer("churn", _rs("sig:train", "sig:load")).function is not None


REFUSED = [
    ("def train(train, target): ...", "trainer", r"train\(train, target\)"),
    ("def train(): ...", "trainer", r"train\(\)"),
    ("def train(train, target, params, extra): ...", "trainer", "missing a required"),
    ("def train(train, target, params, *, seed): ...", "trainer", "missing a required"),
    ("def train(**kwargs): ...", "trainer", "too many positional"),
    ("def train(train, target, params): ...\ndef load(): ...", "data_loader", r"load\(\)"),
    ("def train(train, target, params): ...\ndef load(params, path): ...", "data_loader",
     "missing a required"),
]


@pytest.mark.parametrize(("source", "key", "shown"), REFUSED)
def test_wrong_signatures_are_refused_with_the_contract(project: Project, source: str,
                                                       key: str, shown: str) -> None:
    project("sig", source)
    loader = "sig:load" if key == "data_loader" else None
    with pytest.raises(TrainerError) as info:
        load_trainer("churn", _rs("sig:train", loader))
    text = str(info.value)
    assert f"[models.churn.retrain] {key} = 'sig:" in text
    assert re.search(shown, text), text
    expected = ("(train: pandas.DataFrame, target: str, params: dict) -> fitted model"
                if key == "trainer" else "(params: dict) -> pandas.DataFrame")
    assert expected in text


def test_check_trainers_gives_each_model_its_verdict(project: Project, tmp_path: Path) -> None:
    project("mytrain", GOOD)
    (Path.cwd() / "lifecycle.toml").write_text(
        "[models.good.retrain]\ntrainer = 'mytrain:train'\ndata_loader = 'mytrain:load_rows'\n"
        "[models.bad.retrain]\ntrainer = 'mytrain:nope'\n"
        "[models.plain]\ntask = 'regression'\n"
    )
    settings = load_settings(env={}, cwd=Path.cwd())
    checks = {c.model: c for c in check_trainers(settings)}
    assert sorted(checks) == ["bad", "good"]  # a model without a trainer is not retrained
    assert checks["good"].ok and "'mytrain:load_rows'" in checks["good"].message
    assert not checks["bad"].ok and "has no attribute 'nope'" in checks["bad"].message
    (plain,) = check_trainers(settings, ["plain"])
    assert not plain.ok and "has no trainer" in plain.message


# --------------------------------------------------------------------------- fit


def _trainer(fn: Callable[..., object]) -> Trainer:
    return Trainer(path="t:train", function=fn)


def test_fit_returns_the_fitted_model_and_protects_its_inputs() -> None:
    frame = _frame()
    params = {"C": 0.5, "grid": {"depth": [3]}}

    def train(train: pd.DataFrame, target: str, p: dict) -> object:
        y = train.pop(target)  # changes the trainer's copy only
        p["grid"]["depth"].append(9)
        return LogisticRegression(C=p["C"]).fit(train, y)

    model = fit(_trainer(train), frame, "label", params)
    assert isinstance(model, LogisticRegression) and model.C == 0.5
    assert list(frame.columns) == ["a", "b", "label"]
    assert params == {"C": 0.5, "grid": {"depth": [3]}}


@pytest.mark.parametrize(
    ("returned", "match"),
    [
        (None, r"trainer 't:train' returned None; return the fitted model"),
        (np.zeros(3), r"returned a ndarray, which has no predict method"),
        (LogisticRegression(), r"returned an unfitted LogisticRegression"),
        (make_pipeline(StandardScaler(), LogisticRegression()), r"returned an unfitted Pipeline"),
    ],
)
def test_fit_refuses_what_cannot_be_a_model(returned: object, match: str) -> None:
    with pytest.raises(TrainerError, match=match):
        fit(_trainer(lambda *_: returned), _frame(), "label", {})


def test_a_fitted_pipeline_and_a_plain_object_pass() -> None:
    frame = _frame()
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame[["a", "b"]],
                                                                     frame["label"])
    assert fit(_trainer(lambda *_: pipe), frame, "label", {}) is pipe

    class Constant:
        def predict(self, x: pd.DataFrame) -> np.ndarray:
            return np.zeros(len(x))

    model = Constant()
    assert fit(_trainer(lambda *_: model), frame, "label", {}) is model


def test_an_exception_raised_by_the_trainer_passes_through_unchanged() -> None:
    boom = ValueError("learning rate diverged")

    def train(*_: object) -> object:
        raise boom

    with pytest.raises(ValueError) as info:
        fit(_trainer(train), _frame(), "label", {})
    assert info.value is boom and not isinstance(info.value, TrainerError)


# --------------------------------------------------------------------------- extra rows


def _loader(fn: Callable[[dict], object]) -> Trainer:
    return Trainer(path="t:train", function=lambda *_: None, loader_path="t:load", loader=fn)


def test_no_loader_means_no_extra_rows() -> None:
    assert load_extra_rows(_trainer(lambda *_: None), {}, "label", ["a"]) is None


def test_extra_rows_keep_features_then_target() -> None:
    seen: list[dict] = []

    def load(params: dict) -> pd.DataFrame:
        seen.append(params)
        params["added"] = True
        return pd.DataFrame({"note": ["x", "y"], "label": [1, 0], "b": [2.0, 3.0],
                             "a": [0.0, 1.0]}, index=[7, 9])

    params = {"path": "train.csv"}
    rows = load_extra_rows(_loader(load), params, "label", ["a", "b"])
    assert rows is not None and list(rows.columns) == ["a", "b", "label"]
    assert rows.index.tolist() == [0, 1] and rows["label"].tolist() == [1, 0]
    assert seen[0]["path"] == "train.csv" and params == {"path": "train.csv"}
    inferred = load_extra_rows(_loader(load), params, "label", None)
    assert inferred is not None and list(inferred.columns) == ["note", "label", "b", "a"]


@pytest.mark.parametrize(
    ("returned", "match"),
    [
        ([{"a": 1}], r"data_loader 't:load' returned a list; return a pandas DataFrame"),
        (pd.DataFrame({"a": [1.0], "label": [1]}), r"without the column\(s\) \['b'\]"),
        (pd.DataFrame({"a": [1.0], "b": [1.0]}), r"without the column\(s\) \['label'\].*"
                                                 r"target column 'label'"),
        (pd.DataFrame({"a": [], "b": [], "label": []}), r"returned no rows"),
    ],
)
def test_bad_extra_rows_are_refused(returned: object, match: str) -> None:
    with pytest.raises(TrainerError, match=match):
        load_extra_rows(_loader(lambda _: returned), {}, "label", ["a", "b"])

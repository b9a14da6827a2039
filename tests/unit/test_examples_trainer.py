"""``examples/trainer.py``, imported the way a user's trainer is: by its configured path
(``trainer:train``) from the folder lifecycle runs in, through the contract's checks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from lifecycle.config import RetrainSettings
from lifecycle.training.holdout import holdout_metrics
from lifecycle.training.trainer import Trainer, fit, load_extra_rows, load_trainer
from lifecycle.training.window import TrainingWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Trainer]:
    """The example, loaded as ``trainer = "trainer:train"`` with examples/ as the working
    directory (as a user's project folder would be)."""
    monkeypatch.chdir(EXAMPLES)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    before = set(sys.modules)
    yield load_trainer("churn", RetrainSettings(trainer="trainer:train",
                                                data_loader="trainer:load_rows"))
    for name in set(sys.modules) - before:  # only the example itself, never sklearn's modules
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(EXAMPLES)):
            del sys.modules[name]


def _window(train: pd.DataFrame, holdout: pd.DataFrame) -> TrainingWindow:
    return TrainingWindow(
        model="churn", since=T0, until=T0, as_of=T0, target="churned",
        features=("age", "tenure", "plan"), train=train, holdout=holdout,
        served=pd.DataFrame(), n_logged=len(train) + len(holdout),
        n_labelled=len(train) + len(holdout), n_duplicates=0, n_extra=0, n_train=len(train),
        n_holdout=len(holdout), holdout_since=T0, schema={}, content_hash="")


def test_the_example_fits_with_its_loader(example: Trainer, tmp_path: Path) -> None:
    module = sys.modules["trainer"]
    assert Path(module.__file__ or "").resolve() == EXAMPLES / "trainer.py"
    original = module.synthetic(600, seed=1)
    path = tmp_path / "original.csv"
    original.assign(source="2025 export").to_csv(path, index=False)
    params = {"original_data": str(path), "max_iter": 60}

    extra = load_extra_rows(example, params, "churned", ["age", "tenure", "plan"])
    assert extra is not None and list(extra.columns) == ["age", "tenure", "plan", "churned"]
    assert len(extra) == 600 and extra["tenure"].isna().any()

    logged = module.synthetic(500, seed=2)
    logged.loc[3, "plan"] = "enterprise"  # a category the original data never had
    train = pd.concat([extra, logged.iloc[:400]], ignore_index=True)
    model = fit(example, train, "churned", params)
    assert isinstance(model, Pipeline)
    assert model.named_steps["classifier"].max_iter == 60
    assert model.named_steps["classifier"].learning_rate == 0.1  # a default
    scores = holdout_metrics(model, _window(train, logged.iloc[400:].reset_index(drop=True)),
                             "classification", positive="yes")
    assert scores.n == 100 and set(model.classes_) == {"no", "yes"}
    majority = float((logged["churned"].iloc[400:] == "no").mean())
    assert scores.metrics["accuracy"] > majority - 0.05
    assert scores.metrics["roc_auc"] > 0.65


def test_the_loader_names_its_missing_setting(example: Trainer) -> None:
    with pytest.raises(ValueError, match=r"original_data = 'path/to/train.csv'"):
        load_extra_rows(example, {}, "churned", None)


def test_the_example_runs_as_a_script() -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "trainer.py")], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    accuracy = float(out.split()[2])
    assert out.startswith("holdout accuracy ") and "on 400 rows" in out
    assert 0.6 < accuracy <= 1.0 and np.isfinite(accuracy)

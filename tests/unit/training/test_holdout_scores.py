"""Holdout scores use the performance job's metric code: the same numbers as compute_metrics
on a sample built by hand; and the content hash covers every row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.errors import DataError
from lifecycle.performance import classification_sample, regression_sample
from lifecycle.performance.compare import compute_metrics
from lifecycle.training.holdout import holdout_metrics, infer_task, served_metrics
from lifecycle.training.window import TrainingWindow, content_hash

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _window(holdout: pd.DataFrame, served: pd.DataFrame, *, task: str | None = None,
            train: pd.DataFrame | None = None) -> TrainingWindow:
    train = holdout.iloc[:0] if train is None else train
    return TrainingWindow(
        model="m", since=T0, until=T0, as_of=T0, target="y", features=("x",), train=train,
        holdout=holdout, served=served, n_logged=len(holdout), n_labelled=len(holdout),
        n_duplicates=0, n_extra=0, n_train=len(train), n_holdout=len(holdout),
        holdout_since=T0, schema={}, content_hash="", model_task=task)


class Scripted:
    """A classifier whose answers are fixed: ``classes_`` in its own (unsorted) order."""

    def __init__(self, pred: list[Any], proba: np.ndarray, classes: list[Any]) -> None:
        self.pred, self.proba, self.classes_ = pred, proba, np.array(classes)

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        assert list(x.columns) == ["x"]  # features only, never the target
        return np.array(self.pred)

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        return self.proba


TRUTH = ["yes", "no", "yes", "yes", "no", "no", "yes", "no"]
PRED = ["yes", "no", "no", "yes", "yes", "no", "yes", "no"]
P_YES = np.array([0.9, 0.2, 0.4, 0.7, 0.6, 0.1, 0.8, 0.3])


def _holdout(truth: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(len(truth), dtype=float), "y": truth})


def test_model_classification_with_probabilities_matches_compute_metrics() -> None:
    # the model's classes_ are ["yes", "no"]: its proba columns must be reordered
    model = Scripted(PRED, np.column_stack([P_YES, 1 - P_YES]), ["yes", "no"])
    got = holdout_metrics(model, _window(_holdout(TRUTH), pd.DataFrame()), "classification",
                          positive="yes")
    by_hand = classification_sample(TRUTH, PRED, np.column_stack([1 - P_YES, P_YES]),
                                    ["no", "yes"])
    assert got.metrics == pytest.approx(compute_metrics(by_hand))
    assert got.n == 8 and got.task == "classification" and got.source == "model"
    assert got.metrics["accuracy"] == pytest.approx(6 / 8)
    assert got.metrics["recall"] == pytest.approx(3 / 4)  # of the positive class "yes"


def test_the_positive_class_decides_precision_and_recall() -> None:
    model = Scripted(PRED, np.column_stack([1 - P_YES, P_YES]), ["no", "yes"])
    window = _window(_holdout(TRUTH), pd.DataFrame())
    yes = holdout_metrics(model, window, "classification", positive="yes").metrics
    no = holdout_metrics(model, window, "classification", positive="no").metrics
    assert yes["accuracy"] == no["accuracy"] and yes["roc_auc"] == pytest.approx(no["roc_auc"])
    assert yes["precision"] == pytest.approx(3 / 4) and no["precision"] == pytest.approx(3 / 4)
    assert yes["recall"] == pytest.approx(3 / 4) and no["recall"] == pytest.approx(3 / 4)
    by_hand = classification_sample(TRUTH, PRED, np.column_stack([P_YES, 1 - P_YES]),
                                    ["yes", "no"])
    assert no == pytest.approx(compute_metrics(by_hand))


def test_a_model_without_probabilities_and_integer_labels() -> None:
    class Labels:
        def predict(self, x: pd.DataFrame) -> np.ndarray:
            return np.array([1, 0, 0, 1, 2, 2])

    truth = [1, 0, 1, 1, 2, 0]
    got = holdout_metrics(Labels(), _window(_holdout(truth), pd.DataFrame()), "classification")
    assert got.metrics == pytest.approx(compute_metrics(
        classification_sample(truth, [1, 0, 0, 1, 2, 2])))
    assert "roc_auc" not in got.metrics and got.metrics["accuracy"] == pytest.approx(4 / 6)


def test_model_regression_matches_compute_metrics() -> None:
    class Linear:
        def predict(self, x: pd.DataFrame) -> np.ndarray:
            return 2.0 * x["x"].to_numpy() + 1.5

    truth = [1, 3.5, 5, 7.5, 9]
    got = holdout_metrics(Linear(), _window(_holdout(truth), pd.DataFrame()), "regression")
    by_hand = regression_sample(truth, [1.5, 3.5, 5.5, 7.5, 9.5])
    assert got.metrics == pytest.approx(compute_metrics(by_hand))
    assert got.metrics["mae"] == pytest.approx(0.3) and got.source == "model"


def test_served_classification_matches_compute_metrics() -> None:
    served = pd.DataFrame({"output_label": PRED, "output_value": np.nan,
                           "proba_no": 1 - P_YES, "proba_yes": P_YES})
    got = served_metrics(_window(_holdout(TRUTH), served), "classification", positive="yes")
    by_hand = classification_sample(TRUTH, PRED, np.column_stack([1 - P_YES, P_YES]),
                                    ["no", "yes"])
    assert got.metrics == pytest.approx(compute_metrics(by_hand))
    assert got.source == "served" and got.n == 8


def test_served_regression_and_a_missing_output() -> None:
    truth = [1, 3.5, 5, 7.5]
    served = pd.DataFrame({"output_label": None, "output_value": [1.0, 3.0, 6.0, 7.5]})
    got = served_metrics(_window(_holdout(truth), served), "regression")
    assert got.metrics == pytest.approx(compute_metrics(
        regression_sample(truth, [1.0, 3.0, 6.0, 7.5])))
    served.loc[2, "output_value"] = np.nan
    with pytest.raises(DataError, match=r"1 labelled prediction\(s\) have no numeric output"):
        served_metrics(_window(_holdout(truth), served), "regression")


@pytest.mark.parametrize(
    ("labels", "stored", "configured", "expected"),
    [
        (["a", "b"], None, None, "classification"),
        ([0, 1, 1], None, None, "classification"),
        ([0.0, 1.0], None, None, "classification"),
        ([True, False], None, None, "classification"),
        ([0.5, 1.0], None, None, "regression"),
        ([0, 1], "regression", None, "regression"),
        ([0.5, 1.5], "classification", None, "classification"),
        (["a", "b"], "classification", "regression", "regression"),
    ],
)
def test_task_inference(labels: list[Any], stored: str | None, configured: str | None,
                        expected: str) -> None:
    window = _window(pd.DataFrame({"x": 0.0, "y": labels}), pd.DataFrame(), task=stored)
    assert infer_task(window, configured) == expected


def _big(n: int = 60_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 9, n),
                         "c": rng.choice(["x", "y", "z"], n), "label": rng.integers(0, 2, n)})


def test_content_hash_covers_every_row() -> None:
    train, holdout = _big(), _big().iloc[:1000]
    base = content_hash(train, holdout)
    assert base == content_hash(train.copy(), holdout.copy()) and len(base) == 64
    changed = train.copy()
    changed.loc[50_000, "c"] = "w"  # far past MLflow's 10,000-row digest
    assert content_hash(changed, holdout) != base
    nudged = train.copy()
    nudged.loc[50_000, "a"] += 1e-12
    assert content_hash(nudged, holdout) != base


def test_content_hash_sees_order_dtypes_names_and_the_split() -> None:
    train, holdout = _big(2_000), _big(2_000).iloc[:100]
    base = content_hash(train, holdout)
    assert content_hash(train.iloc[::-1], holdout) != base
    assert content_hash(train[["b", "a", "c", "label"]], holdout) != base
    assert content_hash(train.astype({"b": "float64"}), holdout) != base
    assert content_hash(train.rename(columns={"a": "A"}), holdout) != base
    moved = pd.concat([train, holdout.iloc[:1]], ignore_index=True)
    assert content_hash(moved, holdout.iloc[1:]) != base
    assert content_hash(train.set_index("b"), holdout) != base  # the index column moved out
    assert content_hash(train.set_axis(range(5, 2_005)), holdout) == base  # index is not content

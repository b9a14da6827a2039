"""The importances of a wrapped estimator, read once when ``lifecycle.monitor`` wraps it
(``lifecycle/capture/importances.py``): trees' ``feature_importances_``, linear models'
``|coef_|`` (mean over classes), names from ``feature_names_in_`` or ``feature_names=``,
normalised to sum 1; nothing (and no error) when they cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import lifecycle
from lifecycle.capture import runtime
from lifecycle.capture.importances import read_importances

ensemble = pytest.importorskip("sklearn.ensemble")
linear = pytest.importorskip("sklearn.linear_model")
pipeline = pytest.importorskip("sklearn.pipeline")
preprocessing = pytest.importorskip("sklearn.preprocessing")
decomposition = pytest.importorskip("sklearn.decomposition")


class FakeWriter:
    """Stands in for the database: these tests are about what wrapping reads."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    def submit(self, record: Any, rows: int | None = None) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def logged(tmp_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWriter]:
    """An isolated home with no settings; calls are logged to a fake writer."""
    runtime.reset()
    writer = FakeWriter()
    monkeypatch.setattr(runtime, "writer_for", lambda url: writer)
    yield writer
    runtime.reset()


def _frame(seed: int = 0, n: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.normal(0, 1, n),
                      "noise": rng.normal(0, 1, n)})
    y = (X["income"] + 0.05 * X["age"] + rng.normal(0, 0.5, n) > 2).astype(int).to_numpy()
    return X, y


def _spec(wrapped: Any) -> Any:
    return object.__getattribute__(wrapped, "_lc_spec")


def test_random_forest_on_a_frame_gives_its_own_importances_by_name() -> None:
    X, y = _frame()
    forest = ensemble.RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    wrapped = lifecycle.monitor("m")(forest)
    imp = _spec(wrapped).importances
    assert imp is not None and imp.source == "feature_importances_"
    assert list(imp.values) == ["age", "income", "noise"]
    expected = forest.feature_importances_ / forest.feature_importances_.sum()
    np.testing.assert_allclose(list(imp.values.values()), expected, rtol=1e-12)
    assert sum(imp.values.values()) == pytest.approx(1.0)
    details = imp.to_details()
    assert details["feature_importances"] == imp.values
    assert details["feature_importances_source"] == "feature_importances_"


def test_multiclass_logistic_regression_uses_mean_absolute_coef() -> None:
    X, _ = _frame()
    y = np.digitize(X["income"].to_numpy(), [-0.5, 0.5])  # three classes
    model = linear.LogisticRegression(max_iter=500).fit(X, y)
    assert model.coef_.shape == (3, 3)
    imp = _spec(lifecycle.monitor("m")(model)).importances
    assert imp is not None and imp.source == "coef_"
    mean_abs = np.abs(model.coef_).mean(axis=0)
    np.testing.assert_allclose([imp.values[n] for n in ("age", "income", "noise")],
                               mean_abs / mean_abs.sum(), rtol=1e-12)
    assert max(imp.values, key=imp.values.__getitem__) == "income"


def test_estimator_without_names_has_none_unless_feature_names_are_given() -> None:
    X, y = _frame()
    forest = ensemble.RandomForestClassifier(n_estimators=5, random_state=0).fit(
        X.to_numpy(), y)
    assert _spec(lifecycle.monitor("m")(forest)).importances is None
    named = _spec(lifecycle.monitor("m", feature_names=["a", "b", "c"])(forest)).importances
    assert named is not None and list(named.values) == ["a", "b", "c"]


class _Raising:
    """An estimator whose importances attribute raises when read."""

    feature_names_in_ = np.array(["a", "b"])

    @property
    def feature_importances_(self) -> Any:
        raise RuntimeError("not available")

    def predict(self, X: Any) -> Any:
        return np.zeros(len(X))


def test_an_attribute_that_raises_gives_none_and_wrapping_still_works(
        logged: FakeWriter) -> None:
    wrapped = lifecycle.monitor("m")(_Raising())
    assert _spec(wrapped).importances is None
    assert read_importances(_Raising()) is None
    np.testing.assert_array_equal(wrapped.predict(pd.DataFrame({"a": [1.0], "b": [2.0]})),
                                  [0.0])
    assert len(logged.records) == 1  # the call was logged


def test_pipeline_uses_the_final_step_only_when_features_map_one_to_one() -> None:
    X, y = _frame()
    scaled = pipeline.make_pipeline(preprocessing.StandardScaler(),
                                    linear.LogisticRegression()).fit(X, y)
    imp = read_importances(scaled)
    coef = np.abs(scaled[-1].coef_).ravel()
    assert imp is not None and list(imp.values) == ["age", "income", "noise"]
    np.testing.assert_allclose(list(imp.values.values()), coef / coef.sum(), rtol=1e-12)
    pca = pipeline.make_pipeline(decomposition.PCA(n_components=3),
                                 linear.LogisticRegression()).fit(X, y)
    assert read_importances(pca) is None  # components are not the input features


def test_refit_through_the_wrapper_reads_the_new_importances() -> None:
    X, y = _frame()
    wrapped = lifecycle.monitor("m")(linear.LogisticRegression())
    assert _spec(wrapped).importances is None  # unfitted
    wrapped.fit(X, y)
    imp = _spec(wrapped).importances
    assert imp is not None and imp.source == "coef_"
    assert set(imp.values) == {"age", "income", "noise"}

"""A monitored estimator follows scikit-learn's conventions (issue 14): ``check_is_fitted``
sees the estimator's state, ``clone`` keeps the monitoring, attributes pass through, ``fit``
returns the wrapper, and pickling keeps the monitoring without the hash key.

A fake writer stands in for the database: what matters here is which model a call is logged
under, not how it is stored.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import lifecycle
from lifecycle.capture import runtime
from lifecycle.capture.estimator import MonitoredEstimator
from lifecycle.capture.records import R_METHOD, R_SPEC, Record
from lifecycle.config import load_settings
from lifecycle.errors import ConfigError

base = pytest.importorskip("sklearn.base")
linear = pytest.importorskip("sklearn.linear_model")
selection = pytest.importorskip("sklearn.model_selection")
validation = pytest.importorskip("sklearn.utils.validation")
exceptions = pytest.importorskip("sklearn.exceptions")


class FakeWriter:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def submit(self, record: Record, rows: int | None = None) -> None:
        self.records.append(record)


@pytest.fixture
def logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWriter]:
    monkeypatch.chdir(tmp_path)  # no lifecycle.toml of the developer's
    for key in ("LIFECYCLE_CONFIG", "LIFECYCLE_HASH_KEY", "LIFECYCLE_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    runtime.reset()
    writer = FakeWriter()
    monkeypatch.setattr(runtime, "writer_for", lambda url: writer)
    yield writer
    runtime.reset()


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.normal(size=(120, 3)), columns=["age", "income", "tenure"])
    return x, (x["age"] + 0.3 * rng.normal(size=120) > 0).astype(int).to_numpy()


def test_check_is_fitted_sees_the_estimator(logged: FakeWriter,
                                            data: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = data
    unfitted = lifecycle.monitor("m")(linear.LogisticRegression())
    with pytest.raises(exceptions.NotFittedError):
        validation.check_is_fitted(unfitted)
    fitted = lifecycle.monitor("m")(linear.LogisticRegression().fit(x, y))
    validation.check_is_fitted(fitted)  # raised NotFittedError before: it read the wrapper
    validation.check_is_fitted(fitted, ["coef_", "classes_"])


def test_fit_and_set_params_return_the_wrapper(logged: FakeWriter,
                                               data: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = data
    wrapped = lifecycle.monitor("m")(linear.LogisticRegression())
    fitted = wrapped.fit(x, y)  # returned the bare estimator before: monitoring was lost
    assert fitted is wrapped
    assert wrapped.set_params(C=0.5) is wrapped and wrapped.get_params()["C"] == 0.5
    assert wrapped.__wrapped__.C == 0.5
    # fitted attributes pass through
    assert wrapped.classes_.tolist() == [0, 1]
    assert wrapped.n_features_in_ == 3
    assert wrapped.feature_names_in_.tolist() == ["age", "income", "tenure"]
    fitted.predict_proba(x.iloc[:4])
    assert [r[R_METHOD] for r in logged.records] == ["predict_proba"]


def test_clone_keeps_the_monitoring(logged: FakeWriter,
                                    data: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = data
    wrapped = lifecycle.monitor("churn", version="7", sample_rate=0.5, seed=4,
                                id_column="age")(linear.LogisticRegression(C=0.3).fit(x, y))
    twin = base.clone(wrapped)
    assert isinstance(twin, MonitoredEstimator)  # was the bare LogisticRegression before
    assert twin.__wrapped__ is not wrapped.__wrapped__
    assert twin.get_params() == wrapped.get_params()
    with pytest.raises(exceptions.NotFittedError):  # a clone is unfitted, as in sklearn
        validation.check_is_fitted(twin)
    spec, twin_spec = wrapped._lc_spec, twin._lc_spec
    for name in ("name", "version", "sample_rate", "seed", "id_column", "role"):
        assert getattr(twin_spec, name) == getattr(spec, name)
    assert twin_spec.estimator is twin.__wrapped__
    # sampling restarts from the seed: the clone draws what a fresh monitor would draw
    assert twin_spec.rng is not None and twin_spec.rng is not spec.rng
    twin.fit(x, y).predict(x.iloc[:2])
    assert all(r[R_SPEC] is twin_spec for r in logged.records)
    # so does model selection, which clones: the best estimator is monitored too
    search = selection.GridSearchCV(wrapped, {"C": [0.1, 1.0]}, cv=2).fit(x, y)
    assert isinstance(search.best_estimator_, MonitoredEstimator)
    assert search.best_estimator_._lc_spec.name == "churn"


def test_deepcopy_and_pickle_keep_the_monitoring(logged: FakeWriter,
                                                 data: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = data
    wrapped = lifecycle.monitor("churn", seed=1)(linear.LogisticRegression().fit(x, y))
    wrapped.predict(x.iloc[:1])  # caches the wrapped method on the wrapper
    for other in (copy.deepcopy(wrapped), pickle.loads(pickle.dumps(wrapped))):
        assert isinstance(other, MonitoredEstimator)
        assert other._lc_spec.name == "churn" and other._lc_spec.seed == 1
        assert other._lc_spec.estimator is other.__wrapped__
        proba = other.predict_proba(x)
        assert logged.records[-1][R_SPEC] is other._lc_spec
        np.testing.assert_array_equal(proba, wrapped.__wrapped__.predict_proba(x))


def test_pickle_never_holds_the_hash_key(logged: FakeWriter, monkeypatch: pytest.MonkeyPatch,
                                         data: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = data
    wrapped = lifecycle.monitor("churn", hash_columns=["age"], hash_key="s3cret-key")(
        linear.LogisticRegression().fit(x, y))
    blob = pickle.dumps(wrapped)
    assert b"s3cret-key" not in blob
    assert copy.deepcopy(wrapped)._lc_spec.hash_key == b"s3cret-key"  # in memory: kept
    with pytest.raises(ConfigError, match="LIFECYCLE_HASH_KEY"):
        pickle.loads(blob)  # no key configured where it is loaded
    runtime.configure(settings=load_settings(env={"LIFECYCLE_HASH_KEY": "other"}))
    assert pickle.loads(blob)._lc_spec.hash_key == b"other"


def test_unfitted_state_comes_from_the_estimators_own_probe(logged: FakeWriter) -> None:
    class Probed:
        fitted = False

        def fit(self, x: Any, y: Any = None) -> Probed:
            self.fitted = True
            return self

        def predict(self, x: Any) -> Any:
            return np.zeros(len(x))

        def __sklearn_is_fitted__(self) -> bool:
            return self.fitted

    wrapped = lifecycle.monitor("m")(Probed())
    assert wrapped.__sklearn_is_fitted__() is False
    assert wrapped.fit([[1.0]]) is wrapped
    assert wrapped.__sklearn_is_fitted__() is True

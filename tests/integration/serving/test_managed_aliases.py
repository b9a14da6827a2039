"""Alias moves without a restart: ``refresh()`` and the poll thread install a moved version
with one assignment; a version that fails to load keeps the old one serving and raises a
``model_load_failed`` alert; predict_proba follows the champion."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from serving_support import DictRegistry
from sqlalchemy import select

from lifecycle.errors import NoChampionError, RegistryError
from lifecycle.states import CHALLENGER, CHAMPION
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import Alert, AlertDelivery

NAME = "churn"


def _wait_for(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Wait for a background thread's effect (a deadline against hanging, not a timing test)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


class Constant:
    """A model answering its version for every row (so an answer names who gave it)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, x: Any) -> np.ndarray:
        return np.full(len(x), self.value)


def test_no_champion_names_the_command_that_fixes_it(tmp_home: Any, managed: Any) -> None:
    registry = DictRegistry(NAME)
    model = managed(NAME, registry=registry)
    with pytest.raises(NoChampionError, match=r"lifecycle register churn .*--alias champion"):
        model.predict(np.zeros((1, 4)))
    assert isinstance(NoChampionError("x"), RegistryError | LookupError)


def test_refresh_installs_a_moved_alias_and_a_promotion_reuses_the_challenger(
    sqlite_url: str, capture_into: Any, logged: Any, managed: Any, frame: pd.DataFrame,
) -> None:
    capture_into(sqlite_url)
    registry = DictRegistry(NAME)
    registry.add("1", Constant(1.0), CHAMPION)
    registry.add("2", Constant(2.0))
    registry.add("3", Constant(3.0))
    model = managed(NAME, registry=registry, poll_seconds=3600)
    assert model.predict(frame.iloc[:2]).tolist() == [1.0, 1.0]
    registry.set_alias(NAME, CHALLENGER, "2")
    outcome = model.refresh()
    assert (outcome.champion, outcome.challenger, outcome.loaded) == ("1", "2",
                                                                       ((CHALLENGER, "2"),))
    model.predict(frame.iloc[:1])
    # promotion: champion -> 2, challenger removed; the loaded challenger is reused
    registry.set_alias(NAME, CHAMPION, "2")
    registry.delete_alias(NAME, CHALLENGER)
    loads = len(registry.loads)
    assert model.refresh().champion == "2" and model.versions == ("2", None)
    assert len(registry.loads) == loads
    assert model.predict(frame.iloc[:1]).tolist() == [2.0]
    registry.set_alias(NAME, CHAMPION, "3")  # rollback-like move to a fresh version
    model.refresh()
    assert model.predict(frame.iloc[:1]).tolist() == [3.0]
    assert model.stats.reloads == 3
    assert model.flush(30)
    meta = logged(sqlite_url, NAME).meta
    served = meta[meta["role"] == CHAMPION]
    assert served["model_version"].tolist() == ["1", "1", "1", "2", "3"]
    assert meta[meta["role"] == CHALLENGER]["model_version"].tolist() == ["2"]


def test_the_poll_thread_picks_up_alias_moves(
    sqlite_url: str, capture_into: Any, managed: Any, frame: pd.DataFrame,
) -> None:
    capture_into(sqlite_url)
    registry = DictRegistry(NAME)
    registry.add("1", Constant(1.0), CHAMPION)
    registry.add("2", Constant(2.0))
    model = managed(NAME, registry=registry, poll_seconds=0.05)
    assert model.versions == ("1", None)
    registry.set_alias(NAME, CHALLENGER, "2")
    _wait_for(lambda: model.versions == ("1", "2"), "the challenger to be polled")
    registry.set_alias(NAME, CHAMPION, "2")
    registry.delete_alias(NAME, CHALLENGER)
    _wait_for(lambda: model.versions == ("2", None), "the promotion to be polled")
    assert model.predict(frame.iloc[:1]).tolist() == [2.0]


def test_a_version_that_fails_to_load_keeps_the_old_one_and_raises_an_alert(
    db_url: str, capture_into: Any, managed: Any, frame: pd.DataFrame,
) -> None:
    capture_into(db_url)
    registry = DictRegistry(NAME)
    registry.add("1", Constant(1.0), CHAMPION)
    registry.add("2", Constant(2.0))
    registry.add("3", Constant(3.0))
    registry.fail.add("2")
    model = managed(NAME, registry=registry, poll_seconds=3600)
    model.load()
    registry.set_alias(NAME, CHAMPION, "2")
    outcome = model.refresh()
    assert outcome.champion == "1" and [f.version for f in outcome.failures] == ["2"]
    assert "artifact of version 2 is missing" in outcome.failures[0].error
    assert model.predict(frame.iloc[:1]).tolist() == [1.0]
    model.refresh()  # tried again at each check; still one live alert
    assert (model.stats.reload_failures, model.stats.reloads) == (2, 0)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            alerts = conn.execute(select(Alert.kind, Alert.feature, Alert.status,
                                         Alert.severity, Alert.message)).all()
            deliveries = conn.execute(select(AlertDelivery.channel)).scalars().all()
        assert [(a.kind, a.feature, a.status, a.severity) for a in alerts] == [
            ("model_load_failed", CHAMPION, "open", "critical")]
        assert "version 1 keeps serving" in alerts[0].message
        assert deliveries == ["log"]
        registry.set_alias(NAME, CHAMPION, "3")  # a version that loads resolves it
        assert model.refresh().champion == "3"
        with engine.connect() as conn:
            assert conn.execute(select(Alert.status)).scalars().all() == ["resolved"]
    finally:
        engine.dispose()
    assert model.predict(frame.iloc[:1]).tolist() == [3.0]


def test_a_challenger_that_fails_to_load_is_not_shadowed(
    sqlite_url: str, capture_into: Any, managed: Any, frame: pd.DataFrame,
) -> None:
    capture_into(sqlite_url)
    registry = DictRegistry(NAME)
    registry.add("1", Constant(1.0), CHAMPION)
    registry.add("2", Constant(2.0), CHALLENGER)
    registry.fail.add("2")
    model = managed(NAME, registry=registry, poll_seconds=3600)
    assert model.predict(frame.iloc[:1]).tolist() == [1.0]
    assert model.versions == ("1", None)
    assert model.stats.reload_failures == 1


def test_predict_proba_follows_the_champion(
    sqlite_url: str, capture_into: Any, managed: Any, classifiers: Any, regressor: Any,
    frame: pd.DataFrame,
) -> None:
    capture_into(sqlite_url)
    registry = DictRegistry(NAME)
    registry.add("1", regressor, CHAMPION)
    registry.add("2", classifiers[0])
    model = managed(NAME, registry=registry, poll_seconds=3600)
    assert not hasattr(model, "predict_proba")
    with pytest.raises(AttributeError, match=r"version 1 \(LinearRegression\), has no "
                                             r"predict_proba"):
        model.predict_proba(frame)
    registry.set_alias(NAME, CHAMPION, "2")
    model.refresh()
    np.testing.assert_allclose(model.predict_proba(frame),
                               classifiers[0].predict_proba(frame))


def test_threads_through_promotions_get_answers_from_exactly_one_version(
    sqlite_url: str, capture_into: Any, logged: Any, managed: Any, frame: pd.DataFrame,
) -> None:
    capture_into(sqlite_url)
    registry = DictRegistry(NAME)
    for version in ("1", "2", "3"):
        registry.add(version, Constant(float(version)))
    registry.set_alias(NAME, CHAMPION, "1")
    registry.set_alias(NAME, CHALLENGER, "2")
    model = managed(NAME, registry=registry, poll_seconds=3600)
    model.load()
    stop = threading.Event()
    answers: list[list[float]] = [[] for _ in range(8)]
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            while not stop.is_set():
                out = model.predict(frame.iloc[:3])
                assert len(set(out.tolist())) == 1, out  # every row from one version
                answers[i].append(float(out[0]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for champion, challenger in (("2", None), ("3", "1"), ("1", None)):
        _wait_for(lambda: all(len(a) > 2 for a in answers), "the threads to answer")
        registry.set_alias(NAME, CHAMPION, champion)
        if challenger is None:
            registry.delete_alias(NAME, CHALLENGER)
        else:
            registry.set_alias(NAME, CHALLENGER, challenger)
        model.refresh()
        counts = [len(a) for a in answers]
        _wait_for(lambda c=counts: all(len(a) > n + 2 for a, n in zip(answers, c, strict=True)),
                  "answers after the move")
    stop.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert model.flush(30)
    meta = logged(sqlite_url, NAME).meta
    outputs = logged(sqlite_url, NAME).outputs
    served = meta["role"] == CHAMPION
    assert served.sum() == 3 * sum(len(a) for a in answers) == 3 * model.stats.served
    # each logged row carries the version that answered it
    assert (outputs.loc[served, "prediction"].astype(float).map(lambda v: str(int(v)))
            == meta.loc[served, "model_version"]).all()
    shadow = ~served
    assert (outputs.loc[shadow, "prediction"].astype(float).map(lambda v: str(int(v)))
            == meta.loc[shadow, "model_version"]).all()

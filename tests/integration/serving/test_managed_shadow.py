"""The shadow never touches the caller: a full queue drops and counts, a challenger that
raises or returns garbage is counted and logged while the champion's answers stay exact."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest
from serving_support import DictRegistry

from lifecycle.states import CHALLENGER, CHAMPION

NAME = "churn"


class Gate:
    """A challenger that blocks until released (so the queue fills deterministically)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict(self, x: Any) -> Any:
        self.entered.set()
        assert self.release.wait(60), "the test never released the challenger"
        return self.inner.predict(x)


class Faulty:
    """A challenger whose answers are wrong in the ways a broken model's are."""

    def __init__(self, inner: Any, mode: str) -> None:
        self.inner, self.mode = inner, mode

    def predict(self, x: Any) -> Any:
        frame = pd.DataFrame(x)
        if self.mode == "raise":
            raise RuntimeError("challenger exploded")
        if self.mode == "raise_on_marker" and (frame.iloc[:, 0] > 100).any():
            raise ValueError("cannot score a marked row")
        out = self.inner.predict(x).astype(float)
        if self.mode == "short":
            return out[:-1]
        if self.mode == "nan_on_marker":
            out[(frame.iloc[:, 0] < -100).to_numpy()] = np.nan
        if self.mode == "scalar":
            return 1.0
        return out


def _setup(capture_into: Any, url: str, champion: Any, challenger: Any) -> DictRegistry:
    capture_into(url)
    registry = DictRegistry(NAME)
    registry.add("1", champion, CHAMPION)
    registry.add("2", challenger, CHALLENGER)
    return registry


def test_a_full_queue_drops_shadow_work_and_counts_it(
    sqlite_url: str, capture_into: Any, logged: Any, managed: Any, classifiers: Any,
    frame: pd.DataFrame,
) -> None:
    champion, challenger = classifiers
    gate = Gate(challenger)
    registry = _setup(capture_into, sqlite_url, champion, gate)
    model = managed(NAME, registry=registry, poll_seconds=3600, shadow_queue=3,
                    shadow_batch=1)
    model.predict(frame.iloc[:1])
    assert gate.entered.wait(30)  # the shadow thread holds request 0 inside the challenger
    answers = [model.predict(frame.iloc[i:i + 1]) for i in range(1, 11)]
    assert model.stats.shadow_dropped == 7  # 3 queued behind the blocked one, 7 dropped
    assert model.stats.served == 11
    gate.release.set()
    assert model.flush(30)
    stats = model.stats
    assert (stats.shadowed, stats.shadow_dropped, stats.shadow_queued) == (4, 7, 0)
    np.testing.assert_array_equal(np.concatenate(answers), champion.predict(frame.iloc[1:11]))
    meta = logged(sqlite_url, NAME).meta
    assert meta["role"].value_counts().to_dict() == {CHAMPION: 11, CHALLENGER: 4}


@pytest.mark.parametrize("mode", ["raise", "short", "scalar"])
def test_a_broken_challenger_never_affects_the_caller(
    db_url: str, capture_into: Any, logged: Any, managed: Any, classifiers: Any,
    frame: pd.DataFrame, mode: str, caplog: pytest.LogCaptureFixture,
) -> None:
    champion, challenger = classifiers
    registry = _setup(capture_into, db_url, champion, Faulty(challenger, mode))
    model = managed(NAME, registry=registry, poll_seconds=3600)
    with caplog.at_level(logging.WARNING, logger="lifecycle.serving"):
        answers = [model.predict(frame.iloc[i:i + 5]) for i in range(0, 40, 5)]
        assert model.flush(30)
    np.testing.assert_array_equal(np.concatenate(answers), champion.predict(frame.iloc[:40]))
    stats = model.stats
    assert (stats.served, stats.shadowed, stats.shadow_errors) == (8, 0, 8)
    assert "challenger version 2 of model 'churn' failed" in caplog.text
    meta = logged(db_url, NAME).meta
    assert meta["role"].value_counts().to_dict() == {CHAMPION: 40}


@pytest.mark.parametrize("mode", ["raise_on_marker", "nan_on_marker"])
def test_one_bad_request_does_not_fail_its_micro_batch(
    sqlite_url: str, capture_into: Any, logged: Any, managed: Any, classifiers: Any,
    frame: pd.DataFrame, mode: str,
) -> None:
    champion, challenger = classifiers
    gate = Gate(Faulty(challenger, mode))
    registry = _setup(capture_into, sqlite_url, champion, gate)
    model = managed(NAME, registry=registry, poll_seconds=3600, shadow_batch=256)
    model.predict(frame.iloc[:1])
    assert gate.entered.wait(30)
    marked = frame.iloc[5:6].copy()
    marked.iloc[0, 0] = 1000.0 if mode == "raise_on_marker" else -1000.0
    for i in range(1, 9):  # queued while the challenger is held: one micro-batch later
        model.predict(marked if i == 5 else frame.iloc[i:i + 1])
    gate.release.set()
    assert model.flush(30)
    stats = model.stats
    assert (stats.served, stats.shadowed, stats.shadow_errors) == (9, 8, 1)
    meta = logged(sqlite_url, NAME).meta
    served = meta[meta["role"] == CHAMPION]
    shadow = meta[meta["role"] == CHALLENGER]
    missing = set(served["request_id"]) - set(shadow["request_id"])
    assert len(missing) == 1 and len(shadow) == 8


def test_queued_requests_are_scored_by_the_challenger_they_were_served_beside(
    sqlite_url: str, capture_into: Any, logged: Any, managed: Any, classifiers: Any,
    frame: pd.DataFrame,
) -> None:
    champion, challenger = classifiers
    gate = Gate(challenger)
    registry = _setup(capture_into, sqlite_url, champion, gate)
    model = managed(NAME, registry=registry, poll_seconds=3600)
    model.predict(frame.iloc[:1])
    assert gate.entered.wait(30)
    model.predict(frame.iloc[1:2])  # queued behind the held request
    registry.delete_alias(NAME, CHALLENGER)
    assert model.refresh().challenger is None
    model.predict(frame.iloc[2:3])  # no challenger any more: nothing is queued
    gate.release.set()
    assert model.flush(30)
    stats = model.stats
    assert (stats.served, stats.shadowed, stats.shadow_dropped) == (3, 2, 0)
    meta = logged(sqlite_url, NAME).meta
    assert meta["role"].value_counts().to_dict() == {CHAMPION: 3, CHALLENGER: 2}

"""``ManagedModel(shadow=...)``: ``batch`` (the default) serves and logs the champion only and
leaves the challenger to the ``shadow_score`` job; ``off`` ignores it; ``live`` is the
micro-batched shadow thread (``test_managed_shadow.py``)."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest
from serving_support import DictRegistry

from lifecycle.errors import ConfigError
from lifecycle.serving.managed import ManagedModel
from lifecycle.states import CHALLENGER, CHAMPION, SHADOW_BATCH

NAME = "churn"


def _registry(classifiers: Any) -> DictRegistry:
    registry = DictRegistry(NAME)
    registry.add("1", classifiers[0], CHAMPION)
    registry.add("2", classifiers[1], CHALLENGER)
    return registry


def _shadow_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == f"lifecycle-shadow-{NAME}"]


def test_batch_is_the_default_and_never_loads_the_challenger(
    sqlite_url: str, capture_into: Any, logged: Any, classifiers: Any, frame: pd.DataFrame,
) -> None:
    capture_into(sqlite_url)
    registry = _registry(classifiers)
    model = ManagedModel(NAME, registry=registry, poll_seconds=3600)
    try:
        assert model.shadow == SHADOW_BATCH
        model.predict(frame.iloc[:5])
        model.predict_proba(frame.iloc[5:6])
        assert model.flush(30)
        assert model.versions == ("1", "2")
        assert registry.loads == ["1"]  # the challenger is the job's to load
        assert _shadow_threads() == []
        stats = model.stats
        assert (stats.served, stats.shadow_deferred, stats.shadowed, stats.shadow_dropped,
                stats.shadow_queued, stats.shadow_mode) == (2, 2, 0, 0, 0, "batch")
        assert set(logged(sqlite_url, NAME).meta["role"]) == {CHAMPION}

        registry.set_alias(NAME, CHAMPION, "2")  # promotion: no challenger any more
        registry.delete_alias(NAME, CHALLENGER)
        outcome = model.refresh()
        assert (outcome.champion, outcome.challenger) == ("2", None)
        model.predict(frame.iloc[:2])
        assert model.versions == ("2", None)
        assert model.stats.shadow_deferred == 2  # nothing left for the job
    finally:
        model.close()


def test_off_reads_no_challenger(sqlite_url: str, capture_into: Any, managed: Any,
                                 logged: Any, classifiers: Any, frame: pd.DataFrame) -> None:
    capture_into(sqlite_url)
    registry = _registry(classifiers)
    model = managed(NAME, registry=registry, poll_seconds=3600, shadow="off")
    model.predict(frame.iloc[:5])
    assert model.flush(30)
    assert model.versions == ("1", None)
    assert registry.loads == ["1"]
    stats = model.stats
    assert (stats.served, stats.shadow_deferred, stats.shadowed, stats.shadow_mode) == (
        1, 0, 0, "off")
    assert set(logged(sqlite_url, NAME).meta["role"]) == {CHAMPION}


def test_live_still_shadows(sqlite_url: str, capture_into: Any, managed: Any, logged: Any,
                            classifiers: Any, frame: pd.DataFrame) -> None:
    capture_into(sqlite_url)
    model = managed(NAME, registry=_registry(classifiers), poll_seconds=3600, shadow="live")
    model.predict(frame.iloc[:5])
    assert model.flush(30)
    assert _shadow_threads() == [f"lifecycle-shadow-{NAME}"]
    stats = model.stats
    assert (stats.served, stats.shadowed, stats.shadow_deferred, stats.shadow_mode) == (
        1, 1, 0, "live")
    assert sorted(logged(sqlite_url, NAME).meta["role"]) == [CHALLENGER] * 5 + [CHAMPION] * 5


def test_batch_warns_when_the_job_is_not_scheduled(
    sqlite_url: str, capture_into: Any, managed: Any, classifiers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    capture_into(sqlite_url)
    with caplog.at_level("WARNING", logger="lifecycle.serving"):
        managed(NAME, registry=_registry(classifiers), poll_seconds=3600, shadow="batch").load()
    assert "[models.churn.schedule.shadow_score]" in caplog.text


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="shadow='mirror'.*'live', 'batch', 'off'"):
        ManagedModel(NAME, shadow="mirror")

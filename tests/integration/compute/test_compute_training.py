"""The retraining window's join, partitioned: the same frames and content hash as the
in-memory path, on local threads and on a real 2-worker LocalCluster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from _compute_data import SINCE, T0, UNTIL, write_known_window
from sqlalchemy import Engine

from lifecycle.compute.executor import DaskExecutor, Executor, LocalExecutor
from lifecycle.compute.partitions import dispose_worker_engines
from lifecycle.compute.training import training_window
from lifecycle.config import ModelSettings, Settings, load_settings
from lifecycle.config.compute import ComputeSettings
from lifecycle.training.window import TrainingWindow, build_training_window

pytestmark = pytest.mark.slow
AS_OF = T0 + timedelta(days=1)


def _settings(db_url: str, rows: int) -> Settings:
    base = load_settings(env={"LIFECYCLE_DATABASE_URL": db_url})
    return replace(base, compute=ComputeSettings(local_workers=2, rows_per_partition=rows))


def _ms(**extra: Any) -> ModelSettings:
    return ModelSettings.parse("m", {"retrain": {"min_rows": 50, "holdout": 0.25}, **extra})


def _same(a: TrainingWindow, b: TrainingWindow) -> None:
    for name in ("train", "holdout", "served"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.content_hash == b.content_hash
    for name in ("features", "n_logged", "n_labelled", "n_duplicates", "n_train",
                 "n_holdout", "holdout_since", "schema", "model_task"):
        assert getattr(a, name) == getattr(b, name), name


def _both(engine: Engine, settings: Settings, ms: ModelSettings,
          executor: Executor) -> tuple[TrainingWindow, TrainingWindow]:
    whole = build_training_window(engine, ms, since=SINCE, until=UNTIL, as_of=AS_OF)
    try:
        parted = training_window(engine, settings, ms, since=SINCE, until=UNTIL, as_of=AS_OF,
                                 executor=executor)
    finally:
        dispose_worker_engines()
    return whole, parted


def test_the_partitioned_join_is_the_same_window(db_url: str,
                                                 engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    write_known_window(engine)
    whole, parted = _both(engine, _settings(db_url, 1000), _ms(), LocalExecutor(2))
    _same(whole, parted)
    # what the story makes sure of: the join key column is found and dropped, the text batch
    # makes z an object column, k (a null on an unlabelled row) loads as float
    assert "customer_id" not in whole.features and whole.features == ("x", "z", "c", "k", "y")
    assert whole.train["z"].dtype == object and whole.train["k"].dtype == "float64"
    assert whole.n_duplicates > 0 and whole.n_logged > whole.n_labelled


def test_configured_features_on_a_local_cluster(db_url: str, cluster: Any,
                                                engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    write_known_window(engine)
    ms = _ms(features=["x", "c", "k"], categorical=["c"])
    with DaskExecutor(cluster.scheduler_address) as ex:
        whole, parted = _both(engine, _settings(db_url, 700), ms, ex)
    _same(whole, parted)
    assert whole.features == ("x", "c", "k")


def test_a_small_window_stays_in_process(sqlite_url: str,
                                         engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(sqlite_url)
    write_known_window(engine)
    settings = replace(_settings(sqlite_url, 10**9),
                       compute=ComputeSettings(dask_scheduler="tcp://127.0.0.1:9",
                                               rows_per_partition=10**9, timeout_s=1.0))
    # one partition: no executor is made (the unreachable scheduler is never contacted)
    w = training_window(engine, settings, _ms(), since=SINCE, until=UNTIL, as_of=AS_OF)
    _same(build_training_window(engine, _ms(), since=SINCE, until=UNTIL, as_of=AS_OF), w)

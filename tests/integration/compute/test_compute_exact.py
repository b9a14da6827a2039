"""The exact recomputation of a window, partitioned: counts equal numpy's on the same values,
on local threads and on a real 2-worker LocalCluster, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from _compute_data import SINCE, UNTIL, Truth, reference_frame, write_known_window
from scipy import stats
from sqlalchemy import Engine

from lifecycle.compute.counts import CategoricalCounts, NumericCounts
from lifecycle.compute.exact import ExactWindowCounts, exact_window_counts
from lifecycle.compute.executor import DaskExecutor, LocalExecutor
from lifecycle.compute.partitions import dispose_worker_engines, plan_partitions
from lifecycle.config import Settings
from lifecycle.config.compute import ComputeSettings
from lifecycle.drift.profile import NumericProfile
from lifecycle.drift.summary import CategoricalSummary, NumericSummary

pytestmark = pytest.mark.slow


def _settings(db_url: str, rows: int = 1000) -> Settings:
    from lifecycle.config import load_settings

    base = load_settings(env={"LIFECYCLE_DATABASE_URL": db_url})
    return replace(base, compute=ComputeSettings(local_workers=3, rows_per_partition=rows))


def _check_numeric(counts: NumericCounts, prof: NumericProfile, values: np.ndarray,
                   non_numeric: int) -> None:
    finite = np.sort(values[np.isfinite(values)])
    v = prof.values
    assert counts.n == finite.size
    assert counts.n_missing == int(np.isnan(values).sum())
    assert counts.n_non_numeric == non_numeric
    assert counts.n_infinite == int(np.isinf(values).sum())
    np.testing.assert_array_equal(counts.le, np.searchsorted(finite, v, side="right"))
    np.testing.assert_array_equal(counts.lt, np.searchsorted(finite, v, side="left"))
    edges = prof.bin_edges
    expected_bins = np.diff(np.concatenate(
        ([0], np.searchsorted(finite, edges, side="left"), [finite.size])))
    np.testing.assert_array_equal(counts.bins, expected_bins)
    assert counts.n_below == int((finite < prof.minimum).sum())
    assert counts.n_above == int((finite > prof.maximum).sum())
    assert counts.minimum == finite[0] and counts.maximum == finite[-1]
    assert counts.n_at_min == int((finite == finite[0]).sum())
    assert counts.n_at_max == int((finite == finite[-1]).sum())
    assert counts.total == pytest.approx(float(finite.sum()), rel=1e-12)
    assert counts.total_sq == pytest.approx(float(np.dot(finite, finite)), rel=1e-12)


def _check_all(result: ExactWindowCounts, truth: Truth) -> None:
    ref = result.reference
    assert result.n_rows == len(truth.x)
    assert result.n_partitions >= 3
    for name in ("x", "y", "z"):
        values, bad = truth.numeric(name)
        counts, prof = result.features[name], ref.features[name]
        assert isinstance(counts, NumericCounts) and isinstance(prof, NumericProfile)
        _check_numeric(counts, prof, values, bad)
    cats = result.features["c"]
    assert isinstance(cats, CategoricalCounts)
    expected, missing = truth.categories()
    assert cats.counts == dict(expected) and cats.n_missing == missing
    # the exact reference makes KS exact: scipy's two-sample statistic on the raw values
    x_ref = reference_frame()["x"].to_numpy()
    x_cur, _ = truth.numeric("x")
    prof_x = ref.features["x"]
    assert isinstance(prof_x, NumericProfile) and prof_x.exact
    ks = result.ks()["x"]
    assert ks == pytest.approx(stats.ks_2samp(x_ref, x_cur).statistic, abs=1e-12)


def _run(engine: Engine, settings: Settings, executor: Any) -> ExactWindowCounts:
    try:
        return exact_window_counts(engine, settings, "m", SINCE, UNTIL, executor=executor)
    finally:
        dispose_worker_engines()


def test_counts_equal_numpy_on_local_threads(db_url: str,
                                             engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    truth = write_known_window(engine)
    settings = _settings(db_url)
    result = _run(engine, settings, None)
    assert result.where == "local threads (3)"
    _check_all(result, truth)
    one = _run(engine, replace(settings, compute=ComputeSettings(
        local_workers=1, rows_per_partition=10**9)), LocalExecutor(1))
    assert one.n_partitions == 1
    _check_all(replace(one, n_partitions=99), truth)


def test_counts_equal_numpy_on_a_local_cluster(db_url: str, cluster: Any,
                                               engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    truth = write_known_window(engine)
    settings = _settings(db_url)
    with DaskExecutor(cluster.scheduler_address, 10.0) as ex:
        result = _run(engine, settings, ex)
    assert result.where == cluster.scheduler_address
    _check_all(result, truth)


def test_the_settings_pick_the_cluster(db_url: str, cluster: Any,
                                       engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    truth = write_known_window(engine)
    settings = replace(_settings(db_url), compute=ComputeSettings(
        dask_scheduler=cluster.scheduler_address, rows_per_partition=1500))
    result = _run(engine, settings, None)
    assert result.where == cluster.scheduler_address
    _check_all(result, truth)


def test_summaries_are_the_pure_core_types(sqlite_url: str,
                                           engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(sqlite_url)
    truth = write_known_window(engine)
    result = _run(engine, _settings(sqlite_url), None)
    summaries = result.summaries()
    x = summaries["x"]
    assert isinstance(x, NumericSummary)
    values, _ = truth.numeric("x")
    finite = np.sort(values[np.isfinite(values)])
    assert x.points[0] == finite[0] and x.points[-1] == finite[-1] and x.cdf[-1] == 1.0
    np.testing.assert_allclose(x.cdf, np.searchsorted(finite, x.points, side="right")
                               / finite.size)
    gaps = (np.searchsorted(finite, x.points[1:], side="left")
            - np.searchsorted(finite, x.points[:-1], side="right")) / finite.size
    assert x.rank_error == pytest.approx(float(gaps.max()))
    assert x.exact_for(result.reference.digest())
    c = summaries["c"]
    assert isinstance(c, CategoricalSummary) and c.count_error == 0
    assert c.categories[-1] == "e"  # the new category after the reference's ones


def test_partitions_carry_ids_not_passwords(engine_for: Callable[[str], Engine],
                                            sqlite_url: str) -> None:
    engine = engine_for(sqlite_url)
    write_known_window(engine)
    parts = plan_partitions(engine, "m", SINCE, UNTIL, 1200,
                            database_url="postgresql://u:s3cret@db:5432/x")
    assert [p.index for p in parts] == list(range(len(parts)))
    assert all(sum(p.n_rows for p in parts[:i + 1]) >= 1200 * (i + 1)
               for i in range(len(parts) - 1))
    assert "s3cret" not in repr(parts[0]) and "***" in repr(parts[0])
    everything = plan_partitions(engine, "m", None, None, 10**9)
    assert len(everything) == 1 and everything[0].n_rows == 12 * 500


def test_huge_values_count_without_a_warning() -> None:
    """Squares past float64's range make the sum of squares inf, quietly (warnings from
    lifecycle code are errors in the test suite)."""
    import pandas as pd

    from lifecycle.compute.counts import count_numeric
    from lifecycle.drift.profile import build_numeric_profile

    ref = build_numeric_profile(np.array([1.0, 2.0, 3.0, 4.0]))
    counts = count_numeric(pd.Series([1e200, -1e300, 2.0, np.nan]), 4, ref)
    assert counts.n == 3 and counts.n_missing == 1 and counts.total_sq == np.inf
    assert (counts.n_below, counts.n_above) == (1, 1)
    np.testing.assert_array_equal(counts.le, [1, 2, 2, 2])

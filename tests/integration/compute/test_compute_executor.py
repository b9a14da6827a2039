"""The executors: results in order, the first error names its partition, a wrong scheduler
address fails fast and clearly, a missing Dask client names the install command."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import pytest

from lifecycle.compute.executor import DaskExecutor, LocalExecutor, executor_for
from lifecycle.config.compute import ComputeSettings
from lifecycle.errors import ComputeError, ConfigError
from lifecycle.windows import parse_duration

pytestmark = pytest.mark.slow
ITEMS = ["1h", "2m", "3s", "4d"]
EXPECTED = [timedelta(hours=1), timedelta(minutes=2), timedelta(seconds=3), timedelta(days=4)]


def test_local_threads_keep_the_order() -> None:
    with executor_for(ComputeSettings(local_workers=3)) as ex:
        assert isinstance(ex, LocalExecutor) and ex.where == "local threads (3)"
        assert ex.map(parse_duration, ITEMS) == EXPECTED
        assert ex.map(parse_duration, []) == []


@pytest.mark.parametrize("workers", [1, 3])
def test_a_local_error_names_its_partition(workers: int) -> None:
    with LocalExecutor(workers) as ex, pytest.raises(ValueError) as info:
        ex.map(parse_duration, ["1h", "soon", "2h"])
    assert "in partition 2 of 3: 'soon'" in info.value.__notes__


def test_the_cluster_keeps_the_order_and_names_a_failing_partition(cluster: Any) -> None:
    settings = ComputeSettings(dask_scheduler=cluster.scheduler_address)
    with executor_for(settings) as ex:
        assert isinstance(ex, DaskExecutor) and ex.parallelism == 2
        assert ex.map(parse_duration, ITEMS) == EXPECTED
        with pytest.raises(ValueError, match="soon") as info:
            ex.map(parse_duration, ["1h", "2h", "soon"])
        assert "in partition 3 of 3: 'soon'" in info.value.__notes__


def test_a_wrong_scheduler_address_is_a_clear_error() -> None:
    settings = ComputeSettings(dask_scheduler="tcp://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(ComputeError) as info:
        executor_for(settings)
    text = str(info.value)
    assert "tcp://127.0.0.1:9" in text and "[compute] dask_scheduler" in text
    assert "LIFECYCLE_DASK_SCHEDULER" in text and "local threads" in text


def test_a_missing_dask_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an uninstalled package does
    with pytest.raises(ConfigError, match=r"pip install 'lifecycle\[dask\]'"):
        executor_for(ComputeSettings(dask_scheduler="tcp://127.0.0.1:8786"))


def test_without_a_scheduler_distributed_is_not_imported(monkeypatch: pytest.MonkeyPatch,
                                                         ) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with executor_for(ComputeSettings(local_workers=2)) as ex:
        assert ex.map(parse_duration, ITEMS[:2]) == EXPECTED[:2]

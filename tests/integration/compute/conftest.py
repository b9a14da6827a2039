"""Compute fixtures: one real ``distributed.LocalCluster`` with two worker processes for the
module (workers import lifecycle by name and open the test database by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A 2-worker LocalCluster (processes, one thread each, no dashboard)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as lc:
        yield lc

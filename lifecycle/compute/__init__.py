"""Heavy passes over many stored batches, on a Dask cluster or on local threads (docs/scale.md).

* :mod:`~lifecycle.compute.executor`: :func:`executor_for` (``[compute]`` settings) gives an
  :class:`Executor` whose ``map(fn, items)`` runs on the cluster or on threads;
* :mod:`~lifecycle.compute.partitions`: a window's batches in groups (:func:`plan_partitions`)
  and how a worker reads one (:func:`read_partition`);
* :mod:`~lifecycle.compute.counts` and :mod:`~lifecycle.compute.exact`: the exact
  recomputation of a large window (mergeable per-feature counts);
* :mod:`~lifecycle.compute.training`: the retraining window's join, partitioned.

``distributed`` is imported only when a scheduler is set. Nothing connects at import time.
"""

from __future__ import annotations

from lifecycle.compute.executor import DaskExecutor, Executor, LocalExecutor, executor_for
from lifecycle.compute.partitions import Partition, plan_partitions, read_partition

__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "Partition", "executor_for",
           "plan_partitions", "read_partition"]

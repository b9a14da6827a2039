"""The exact recomputation of a large window: per-feature counts, one partition per task.

:func:`exact_window_counts` plans the window's partitions (:mod:`lifecycle.compute.partitions`),
hands each to :func:`partition_counts` on the executor (a Dask cluster or local threads), and
merges the partitions' :mod:`~lifecycle.compute.counts` by summation on the client: arrays of
the reference profile's size, never rows. Each worker reads its batches and the reference
profile from the database itself (one engine per URL and one decoded profile per id, cached
per process).

Rows counted are the served rows (roles ``champion`` and ``unmanaged``; a challenger's shadow
rows are not drift data), features those of the model's active reference profile of the kind
asked (``data``: the inputs, ``prediction``: the outputs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.compute.counts import (
    CategoricalCounts,
    FeatureCounts,
    NumericCounts,
    count_categorical,
    count_numeric,
)
from lifecycle.compute.executor import Executor, executor_for
from lifecycle.compute.partitions import Partition, plan_partitions, read_partition, worker_engine
from lifecycle.config import Settings
from lifecycle.drift.profile import CategoricalProfile, NumericProfile, ReferenceProfile
from lifecycle.drift.summary import Summary
from lifecycle.errors import DataError
from lifecycle.states import SERVED_ROLES
from lifecycle.storage.drift_repo import load_active_profiles
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.tables import ReferenceProfileRow

__all__ = ["CountsTask", "ExactWindowCounts", "exact_window_counts", "partition_counts"]

KINDS = ("data", "prediction")


@dataclass(frozen=True)
class CountsTask:
    """One partition of the pass: which batches, against which stored reference profile."""

    partition: Partition
    reference_id: int
    kind: str


@dataclass(frozen=True)
class PartitionCounts:
    """What one partition returns: its served rows and per-feature counts."""

    n_rows: int
    features: dict[str, FeatureCounts]


_PROFILES: dict[tuple[str, int], ReferenceProfile] = {}
_PROFILES_LOCK = threading.Lock()


def _profile(url: str, reference_id: int) -> ReferenceProfile:
    """The stored reference profile ``reference_id``, decoded once per process."""
    key = (url, reference_id)
    with _PROFILES_LOCK:
        found = _PROFILES.get(key)
    if found is not None:
        return found
    with Session(worker_engine(url)) as session:
        row = session.execute(select(ReferenceProfileRow.profile, ReferenceProfileRow.arrays)
                              .where(ReferenceProfileRow.id == reference_id)).one()
    profile = ReferenceProfile.from_payload(row[0], row[1])
    with _PROFILES_LOCK:
        _PROFILES[key] = profile
    return profile


def _served(outputs: pa.Table) -> pa.ChunkedArray | None:
    if "_role" not in outputs.column_names:
        return None
    return pc.fill_null(pc.is_in(outputs.column("_role"), pa.array(list(SERVED_ROLES))), False)


def partition_counts(task: CountsTask) -> PartitionCounts:
    """Exact counts of one partition (runs on a worker: reads its own rows)."""
    profile = _profile(task.partition.database_url, task.reference_id)
    merged: dict[str, FeatureCounts] = {}
    n_rows = 0
    for part in read_partition(task.partition, with_inputs=task.kind == "data"):
        table = part.inputs if task.kind == "data" else part.outputs
        if table is None:
            table = pa.table({})
        mask = _served(part.outputs)
        if mask is not None:
            table = table.filter(mask) if table.num_columns else table
            rows = int(pc.sum(mask).as_py() or 0)
        else:
            rows = part.num_rows
        n_rows += rows
        for name, prof in profile.features.items():
            series = (table.column(name).to_pandas() if name in table.column_names else None)
            counts: FeatureCounts
            if isinstance(prof, NumericProfile):
                counts = count_numeric(series, rows, prof)
            else:
                counts = count_categorical(series, rows)
            before = merged.get(name)
            merged[name] = counts if before is None else before.merge(counts)  # type: ignore[arg-type]
    return PartitionCounts(n_rows, merged)


@dataclass(frozen=True, eq=False)
class ExactWindowCounts:
    """A window's exact per-feature counts against the active reference profile.

    ``where`` says where the pass ran (``local threads (N)`` or the Dask scheduler address),
    ``n_partitions`` and ``n_stored_rows`` (rows of the batches read) how it was split,
    ``n_rows`` the served rows counted, ``seconds`` the wall time of the pass.
    """

    model: str
    kind: str
    since: datetime | None
    until: datetime | None
    reference_id: int
    reference: ReferenceProfile
    n_rows: int
    features: Mapping[str, FeatureCounts]
    where: str
    n_partitions: int
    n_stored_rows: int
    seconds: float

    def summaries(self) -> dict[str, Summary]:
        """Each feature as the pure core's summary type (see
        :meth:`NumericCounts.summary`, :meth:`CategoricalCounts.summary`)."""
        digest = self.reference.digest()
        out: dict[str, Summary] = {}
        for name, counts in self.features.items():
            prof = self.reference.features[name]
            if isinstance(counts, NumericCounts) and isinstance(prof, NumericProfile):
                out[name] = counts.summary(prof, digest)
            elif isinstance(counts, CategoricalCounts):
                out[name] = counts.summary(prof if isinstance(prof, CategoricalProfile)
                                           else None)
        return out

    def ks(self) -> dict[str, float | None]:
        """Two-sample KS per numeric feature (exact against an exact reference profile)."""
        return {name: c.ks(p) for name, c in self.features.items()
                if isinstance(c, NumericCounts)
                and isinstance(p := self.reference.features[name], NumericProfile)}


def exact_window_counts(
    engine: Engine,
    settings: Settings,
    model: str,
    since: datetime | None,
    until: datetime | None,
    *,
    kind: str = "data",
    executor: Executor | None = None,
    database_url: str | None = None,
) -> ExactWindowCounts:
    """Exact counts of ``model``'s window ``[since, until)`` against its active ``kind``
    reference profile, computed partition by partition on ``executor`` (default: the one
    ``settings.compute`` names; docs/scale.md).

    Raises
    ------
    DataError
        ``kind`` is not ``data`` or ``prediction``, or the model has no active reference
        profile of that kind (``lifecycle reference set`` makes one).
    UnknownModelError
        The model has logged nothing.
    """
    if kind not in KINDS:
        raise DataError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    started = time.perf_counter()
    with Session(engine) as session:
        model_id = get_model(session, model).id
        active = load_active_profiles(session, model_id)
    if kind not in active:
        raise DataError(f"model {model!r} has no active {kind} reference profile; set one with "
                        f"`lifecycle reference set {model} --since ... --until ...`")
    reference_id, reference = active[kind]
    partitions = plan_partitions(engine, model, since, until,
                                 settings.compute.rows_per_partition,
                                 database_url=database_url)
    tasks = [CountsTask(p, reference_id, kind) for p in partitions]
    owned = executor is None
    ex = executor_for(settings.compute) if executor is None else executor
    try:
        results = ex.map(partition_counts, tasks)
        where = ex.where
    finally:
        if owned:
            ex.close()
    merged: dict[str, FeatureCounts] = {}
    for result in results:
        for name, counts in result.features.items():
            before = merged.get(name)
            merged[name] = counts if before is None else before.merge(counts)  # type: ignore[arg-type]
    for name, prof in reference.features.items():  # an empty window still names every feature
        if name not in merged:
            merged[name] = (count_numeric(None, 0, prof) if isinstance(prof, NumericProfile)
                            else count_categorical(None, 0))
    return ExactWindowCounts(
        model=model, kind=kind, since=since, until=until, reference_id=reference_id,
        reference=reference, n_rows=sum(r.n_rows for r in results), features=merged,
        where=where, n_partitions=len(partitions),
        n_stored_rows=sum(p.n_rows for p in partitions),
        seconds=time.perf_counter() - started)

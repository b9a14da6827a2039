"""The retraining window's join for large windows, one partition per group of batches.

:func:`training_window` builds the same :class:`~lifecycle.training.window.TrainingWindow`
as :func:`~lifecycle.training.window.build_training_window` (same frames, same content
hash), partitioned when the window holds more than ``[compute] rows_per_partition`` stored
rows. Each partition (:func:`partition_labelled`, on a worker) reads its own batches, keeps
the served rows, fetches its keys' labels itself (the chunked key lookup of
:func:`~lifecycle.storage.labelled.outcomes_for_keys`, labels received by ``as_of``) and
returns only its **labelled** served rows, plus:

* its first rows of every role (at most :data:`PROBE_ROWS`), from which the client finds the
  window's identifier columns on the window's first rows, as the in-memory path does;
* a zero-row slice of every batch it read (kept by the Arrow merge as the batch's schema), so
  the merged columns get the types the whole window would give them, and which columns hold
  a null anywhere in the window (an integer column with nulls loads as float, as it does when
  every row is loaded).

The joined rows then come to the client: the trainer needs them in its own process anyway.
What the partitioning saves is the unlabelled rows (never sent), the per-row label lookup
(done next to the data) and the single-threaded decode of every blob.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.compute.executor import Executor, executor_for
from lifecycle.compute.partitions import Partition, plan_partitions, read_partition, worker_engine
from lifecycle.config import ModelSettings, Settings
from lifecycle.states import SERVED_ROLES
from lifecycle.storage.batch_source import WindowPart
from lifecycle.storage.labelled import outcomes_for_keys
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.types import utcnow
from lifecycle.storage.window import window_from_parts
from lifecycle.training.window import (
    TrainingWindow,
    assemble_training_window,
    build_training_window,
)
from lifecycle.window_frames import ID_PROBE_ROWS, identifier_columns, window_frames

__all__ = ["JoinTask", "PROBE_ROWS", "partition_labelled", "training_window"]

#: Rows of the window's start each partition returns for finding identifier columns (the
#: join-key probe reads the first ``ID_PROBE_ROWS``; time columns the first 1,000 values).
PROBE_ROWS = max(1000, ID_PROBE_ROWS)
LABEL_COLUMN = "_label_text"


@dataclass(frozen=True)
class JoinTask:
    partition: Partition
    as_of: datetime


@dataclass(frozen=True)
class JoinPart:
    """What one partition returns (module docstring)."""

    labelled: list[WindowPart]
    labels: list[pa.Array]
    probe: list[WindowPart]
    nulls: frozenset[str]
    n_served: int


def _served_mask(outputs: pa.Table) -> np.ndarray:
    if "_role" not in outputs.column_names:
        return np.ones(outputs.num_rows, dtype=bool)
    served = pc.is_in(outputs.column("_role"), pa.array(list(SERVED_ROLES)))
    return np.asarray(pc.fill_null(served, False).to_numpy(zero_copy_only=False), dtype=bool)


def _filter(part: WindowPart, keep: np.ndarray) -> WindowPart:
    mask = pa.array(keep)
    inputs = None if part.inputs is None else part.inputs.filter(mask)
    return WindowPart(inputs, part.outputs.filter(mask))


def partition_labelled(task: JoinTask) -> JoinPart:
    """The labelled served rows of one partition (runs on a worker: reads its own rows)."""
    parts = list(read_partition(task.partition, with_inputs=True))
    served = [_served_mask(p.outputs) for p in parts]
    keys = [np.asarray(p.outputs.column("_join_key").to_numpy(zero_copy_only=False),
                       dtype=object) for p in parts]
    wanted = pd.unique(np.concatenate([k[s] for k, s in zip(keys, served, strict=True)])
                       if parts else np.empty(0, dtype=object)).tolist()
    with Session(worker_engine(task.partition.database_url)) as session:
        outcomes = outcomes_for_keys(session, task.partition.model_id, wanted, task.as_of,
                                     columns=("join_key", "label_text"))
    label_of = dict(zip(outcomes["join_key"], outcomes["label_text"], strict=True))
    labelled: list[WindowPart] = []
    labels: list[pa.Array] = []
    nulls: set[str] = set()
    for part, key, is_served in zip(parts, keys, served, strict=True):
        text = np.array([label_of.get(k) for k in key], dtype=object)
        keep = is_served & np.array([t is not None for t in text], dtype=bool)
        labelled.append(_filter(part, keep))
        labels.append(pa.array(text[keep].tolist(), type=pa.string()))
        for table in (part.inputs, part.outputs):
            if table is not None:
                nulls.update(c for c in table.column_names if table.column(c).null_count)
    probe = _first_rows(parts, PROBE_ROWS)
    return JoinPart(labelled, labels, probe, frozenset(nulls), int(sum(s.sum() for s in served)))


def _first_rows(parts: list[WindowPart], limit: int) -> list[WindowPart]:
    """Every part cut to the rows among the first ``limit`` of ``parts`` in time order (ties
    in part order: the order a stable sort of the whole window gives)."""
    if not parts:
        return []
    ts = np.concatenate([p.outputs.column("_ts").cast(pa.int64()).to_numpy() for p in parts])
    first = np.zeros(ts.size, dtype=bool)
    first[np.argsort(ts, kind="stable")[:limit]] = True
    out, start = [], 0
    for p in parts:
        out.append(_filter(p, first[start:start + p.num_rows]))
        start += p.num_rows
    return out


def _as_whole_window(frame: pd.DataFrame, nulls: frozenset[str]) -> pd.DataFrame:
    """Integer / boolean columns that hold a null somewhere in the window load as the whole
    window loads them (float64 / object), though the rows kept have none."""
    for col in frame.columns:
        if str(col) not in nulls:
            continue
        dtype = frame[col].dtype
        if pd.api.types.is_bool_dtype(dtype):
            frame[col] = frame[col].astype(object)
        elif pd.api.types.is_integer_dtype(dtype):
            frame[col] = frame[col].astype(np.float64)
    return frame


def partitioned_training_window(
    engine: Engine, ms: ModelSettings, partitions: list[Partition], executor: Executor, *,
    since: datetime | None, until: datetime | None, as_of: datetime,
    extra: pd.DataFrame | None = None,
) -> TrainingWindow:
    """The training window of ``partitions`` (module docstring), joined on ``executor``."""
    results = executor.map(partition_labelled, [JoinTask(p, as_of) for p in partitions])
    nulls = frozenset().union(*(r.nulls for r in results))
    probe = window_from_parts(ms.name, since, until, [p for r in results for p in r.probe])
    head = type(probe)(probe.model, since, until, probe.inputs.iloc[:PROBE_ROWS],
                       probe.outputs.iloc[:PROBE_ROWS], probe.meta.iloc[:PROBE_ROWS])
    head = type(head)(head.model, since, until, _as_whole_window(head.inputs.copy(), nulls),
                      head.outputs, head.meta)
    parts = [p for r in results for p in r.labelled]
    loaded = window_from_parts(ms.name, since, until, parts, with_headline=True)
    texts = pa.chunked_array([a for r in results for a in r.labels], type=pa.string())
    ts = pd.Series(pa.chunked_array(
        [p.outputs.column("_ts") for p in parts] or [pa.array([], pa.timestamp("us", "UTC"))]
    ).to_pandas())
    order = ts.argsort(kind="stable").to_numpy()  # the order window_from_parts sorted rows in
    label_text = pd.Series(np.asarray(texts.to_pandas(), dtype=object)[order]
                           if len(order) else np.empty(0, dtype=object), dtype=object)
    inputs = _as_whole_window(loaded.inputs.copy(), nulls)
    loaded = type(loaded)(loaded.model, since, until, inputs, loaded.outputs, loaded.meta)
    data, _ = window_frames(loaded, ms, identifiers=identifier_columns(head, ms))["data"]
    with Session(engine) as session:
        model_task = get_model(session, ms.name).task
    return assemble_training_window(
        ms, since=since, until=until, as_of=as_of, extra=extra, data=data,
        meta=loaded.meta.reset_index(drop=True), outputs=loaded.outputs.reset_index(drop=True),
        label_text=label_text, n_logged=sum(r.n_served for r in results),
        model_task=model_task)


def training_window(
    engine: Engine,
    settings: Settings,
    ms: ModelSettings,
    *,
    since: datetime | None,
    until: datetime | None,
    as_of: datetime | None = None,
    extra: pd.DataFrame | None = None,
    executor: Executor | None = None,
    database_url: str | None = None,
) -> TrainingWindow:
    """``ms.name``'s training window: in this process when the window holds at most
    ``settings.compute.rows_per_partition`` stored rows, else partitioned on ``executor``
    (default: the one ``settings.compute`` names). Same result either way; same errors as
    :func:`~lifecycle.training.window.build_training_window`."""
    as_of = as_of or utcnow()
    partitions = plan_partitions(engine, ms.name, since, until,
                                 settings.compute.rows_per_partition, database_url=database_url)
    if len(partitions) <= 1:
        return build_training_window(engine, ms, since=since, until=until, as_of=as_of,
                                     extra=extra)
    if executor is not None:
        return partitioned_training_window(engine, ms, partitions, executor, since=since,
                                           until=until, as_of=as_of, extra=extra)
    with executor_for(settings.compute) as ex:
        return partitioned_training_window(engine, ms, partitions, ex, since=since,
                                           until=until, as_of=as_of, extra=extra)

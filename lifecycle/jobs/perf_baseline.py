"""The reference period's performance, computed once per reference and reused by every window.

Without it every performance window joined the reference period's predictions with their
labels and bootstrapped the reference's metrics again (80 % of a window's time with a 20,000-row
reference; benchmarks/RESULTS.md). :func:`reference_baseline` keeps, per model, one
``performance_baselines`` row holding the reference's labelled sample, its join keys, its label
column (label drift), its metrics and their bootstrap replicates
(:func:`lifecycle.performance.reference_bootstrap`).

Key: a digest of the reference period, where it comes from (the configured period or the
reference profile's id: ``lifecycle reference set`` makes a new key), the task, the positive
class and the bootstrap settings. Valid while the reference's fingerprint is unchanged: the
labels of its predictions received by the run's ``as_of`` (count, latest ``received_at``,
revisions) and its prediction batches (count, rows); a label arriving for a reference
prediction, or a batch added to or removed from the period, makes it stale and the next window
recomputes it. Scheduler processes share the row (the database is the cache).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.errors import DataError
from lifecycle.performance import LabelledSample, ReferenceBootstrap, reference_bootstrap
from lifecycle.storage.baseline_repo import (
    batches_fingerprint,
    iso_utc,
    load_baseline,
    reference_fingerprint,
    save_baseline,
)
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.models_repo import get_model

__all__ = ["BASELINE_VERSION", "COMPUTED", "CACHED", "ReferenceBaseline", "baseline_key",
           "reference_baseline"]

#: Bumped when what a baseline holds, or how it is computed, changes (old rows go stale).
BASELINE_VERSION = 1
#: Bootstrap seed and row cap of the comparison (lifecycle.performance.compare defaults).
SEED = 0
MAX_BOOT_ROWS = 20_000
COMPUTED, CACHED = "computed", "cached"


@dataclass(frozen=True)
class ReferenceBaseline:
    """What a window's check needs from the reference period."""

    sample: LabelledSample
    #: the reference's labels as a drift frame (label drift), or None with ``labels_error``
    labels: pd.DataFrame | None
    labels_error: str | None
    boot: ReferenceBootstrap
    n_predictions: int
    n_labelled: int
    status: str  # COMPUTED or CACHED
    baseline_id: int | None


def baseline_key(settings: Settings, model: str, task: str, since: datetime,
                 until: datetime, source: str) -> str:
    """Digest of everything a baseline's numbers depend on, besides the data."""
    perf = settings.model(model).performance
    text = json.dumps({
        "v": BASELINE_VERSION, "model": model, "task": task, "since": iso_utc(since),
        "until": iso_utc(until), "source": source, "positive": perf.positive_label,
        "n_boot": perf.n_boot, "seed": SEED, "max_boot_rows": MAX_BOOT_ROWS,
    }, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _pack(keys: np.ndarray, sample: LabelledSample, labels: pd.DataFrame | None,
          boot: ReferenceBootstrap) -> tuple[bytes, dict[str, Any]]:
    names = list(boot.values)
    arrays: dict[str, np.ndarray] = {
        "keys": np.array(keys.tolist(), dtype=str),
        "y_true": sample.y_true.astype(str if sample.task == "classification" else float),
        "y_pred": sample.y_pred.astype(str if sample.task == "classification" else float),
        "values": np.array([boot.values[k] for k in names], dtype=float),
        "replicates": np.array([boot.replicates[k] for k in names], dtype=float),
    }
    if sample.proba is not None:
        arrays["proba"] = sample.proba
    label_kind = None
    if labels is not None:
        column = labels["label"]
        label_kind = "object" if column.dtype == object else "float"
        arrays["labels"] = (np.array(column.astype(str).tolist(), dtype=str)
                            if label_kind == "object" else column.to_numpy(dtype=float))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    meta = {"task": sample.task, "classes": list(sample.classes), "names": names,
            "n_boot": boot.key[0], "label_kind": label_kind}
    return buffer.getvalue(), meta


def _unpack(blob: bytes, summary: dict[str, Any]) -> tuple[np.ndarray, LabelledSample,
                                                           pd.DataFrame | None,
                                                           ReferenceBootstrap]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    task, classes = summary["task"], tuple(summary["classes"])
    sample = LabelledSample(task, arrays["y_true"], arrays["y_pred"], arrays.get("proba"),
                            classes)
    labels = None
    if "labels" in arrays:
        column = arrays["labels"]
        labels = pd.DataFrame({"label": pd.Series(column.tolist(), dtype=object)
                               if summary["label_kind"] == "object" else column})
    names = summary["names"]
    boot = ReferenceBootstrap(
        {k: float(v) for k, v in zip(names, arrays["values"], strict=True)},
        {k: arrays["replicates"][i] for i, k in enumerate(names)},
        sample.n, classes, (int(summary["n_boot"]), SEED, MAX_BOOT_ROWS))
    return arrays["keys"], sample, labels, boot


def reference_baseline(engine: Engine, settings: Settings, model: str, task: str,
                       since: datetime, until: datetime, source: str, *, as_of: datetime,
                       persist: bool = True) -> ReferenceBaseline:
    """The reference's baseline: the stored one when its fingerprint still holds, else
    computed from the reference period (and stored when ``persist``).

    Raises
    ------
    DataError
        The reference period has fewer than ``min_labels`` labelled predictions, or labels of
        the wrong type for the task.
    """
    from lifecycle.window_frames import labels_as_frame

    perf = settings.model(model).performance
    key = baseline_key(settings, model, task, since, until, source)
    with Session(engine) as session:
        mid = get_model(session, model).id
        stored = load_baseline(session, mid, key)
        labels: pd.DataFrame | None
        if stored is not None:
            keys, sample, labels, boot = _unpack(stored.arrays, stored.summary)
            now_fp = reference_fingerprint(session, mid, keys.tolist(), since, until, as_of)
            if now_fp == stored.fingerprint:
                return ReferenceBaseline(
                    sample, labels, stored.summary.get("labels_error"), boot,
                    int(stored.summary["n_predictions"]), sample.n, CACHED, stored.id)
        batches = batches_fingerprint(session, mid, since, until)  # before the read: safe side
    window = load_labelled_window(engine, model, since, until, as_of=as_of)
    if window.n_labelled < perf.min_labels:
        raise DataError(
            f"the reference period {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} "
            f"({source}) has {window.n_labelled} labelled predictions, fewer than "
            f"{perf.min_labels}; log outcomes for it or configure another reference period"
        )
    sample = window.sample(task, perf.positive_label)
    labels_error = None
    try:
        labels = labels_as_frame(window.labelled, task)
    except DataError as exc:
        labels, labels_error = None, str(exc)
    boot = reference_bootstrap(sample, n_boot=perf.n_boot, seed=SEED,
                               max_boot_rows=MAX_BOOT_ROWS)
    frame = window.frame.drop_duplicates("join_key")
    seen = frame[frame["has_label"]]
    fingerprint = {"n_labels": len(seen),
                   "max_received_at": iso_utc(seen["received_at"].max()) if len(seen) else None,
                   "revisions": int(seen["revisions"].fillna(0).sum()), **batches}
    baseline_id = None
    if persist:
        keys = frame["join_key"].astype(str).to_numpy()
        blob, meta = _pack(keys, sample, labels, boot)
        summary = {**meta, "n_predictions": window.n_predictions, "labels_error": labels_error,
                   "source": source, "since": since, "until": until, "as_of": as_of}
        with Session(engine) as session, session.begin():
            baseline_id = save_baseline(session, mid, key, fingerprint=fingerprint,
                                        summary=summary, arrays=blob)
    return ReferenceBaseline(sample, labels, labels_error, boot, window.n_predictions,
                             window.n_labelled, COMPUTED, baseline_id)

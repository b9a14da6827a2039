"""The training window: logged served traffic joined with its labels, split by time.

Rules (docs/retraining.md, "The training window"):

* **Served traffic only.** Rows whose role is in :data:`lifecycle.states.SERVED_ROLES`
  (``champion``, ``unmanaged``); a challenger's shadow predictions are never trained on.
* **Features as drift sees them.** ``[models.NAME] features`` when configured, else every
  logged input; never an identifier or time column (:func:`lifecycle.window_frames.window_frames`).
* **Labels by join key, latest wins.** Labels come from the labelled join of
  :mod:`lifecycle.storage.labelled` (:func:`~lifecycle.storage.labelled.outcomes_for_keys`):
  one label per key, the latest received by ``as_of``. The target column keeps the labels'
  own values (numbers stay numbers, classes keep their spelling).
* **De-duplicated by join key.** A key scored several times (a retried request, an entity
  scored daily) is one training row: its latest prediction's inputs; the others are counted
  in ``n_duplicates``.
* **Holdout by time.** The newest ``holdout`` share of the logged labelled rows (by
  prediction time, ties in log order; rounded up) is the holdout; the rest, plus the data
  loader's rows (never held out), is the training set.
* **Enough rows.** Fewer than ``min_rows`` labelled logged rows after de-duplication raise
  :class:`~lifecycle.errors.InsufficientDataError`; loader rows do not count towards it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import ModelSettings
from lifecycle.errors import DataError, InsufficientDataError
from lifecycle.storage.labelled import decode_label, outcomes_for_keys
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.types import utcnow
from lifecycle.storage.window import load_window
from lifecycle.training.trainer import extra_rows_frame
from lifecycle.window_frames import served_rows, window_frames

__all__ = ["SERVED_COLUMNS", "TrainingWindow", "assemble_training_window",
           "build_training_window", "content_hash"]

#: Columns of :attr:`TrainingWindow.served` (then the ``proba_<class>`` columns when logged).
SERVED_COLUMNS = ("prediction_id", "join_key", "ts", "model_version", "role",
                  "output_label", "output_value")


@dataclass(frozen=True, eq=False)
class TrainingWindow:
    """What a retrain trains and is judged on (``eq=False``: it holds DataFrames).

    ``train`` and ``holdout`` have the ``features`` columns then the ``target`` column.
    ``served`` is row-aligned with ``holdout``: what was served on those rows
    (:data:`SERVED_COLUMNS` and the ``proba_<class>`` columns when logged), so the champion
    can be scored on the same rows as the new model. Counts: ``n_logged`` served predictions
    in the window, ``n_labelled`` of them labelled (before de-duplication), ``n_duplicates``
    dropped by de-duplication, ``n_extra`` loader rows (in ``train`` only), ``n_train`` and
    ``n_holdout`` the frames' lengths. ``schema`` maps each ``train`` column to its dtype;
    ``content_hash`` is :func:`content_hash` of ``train`` and ``holdout``. ``model_task`` is
    the task stored with the model when it was first logged (None when unknown).
    """

    model: str
    since: datetime | None
    until: datetime | None
    as_of: datetime
    target: str
    features: tuple[str, ...]
    train: pd.DataFrame
    holdout: pd.DataFrame
    served: pd.DataFrame
    n_logged: int
    n_labelled: int
    n_duplicates: int
    n_extra: int
    n_train: int
    n_holdout: int
    holdout_since: datetime
    schema: dict[str, str]
    content_hash: str
    model_task: str | None = None


def content_hash(*frames: pd.DataFrame) -> str:
    """SHA-256 (hex) over the full content of ``frames``, in order.

    Per frame: its row count, column names and dtypes (as JSON), then
    :func:`pandas.util.hash_pandas_object` of every row (``index=False``: the index is not
    content), as little-endian uint64. Every row counts (MLflow's dataset digest reads only
    the first 10,000). Stable: the same rows with the same dtypes in the same order give the
    same hash in any process on any machine with the same pandas major version; reordering
    rows or columns, changing a dtype or any single value changes it.
    """
    digest = hashlib.sha256()
    for frame in frames:
        header = {"rows": len(frame),
                  "columns": [[str(c), str(t)] for c, t in frame.dtypes.items()]}
        digest.update(json.dumps(header, sort_keys=True).encode())
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        digest.update(rows.astype("<u8", copy=False).tobytes())
    return digest.hexdigest()


def _target_values(label_text: pd.Series) -> pd.Series:
    """Decoded labels with the dtype pandas infers from them (ints stay ints, text is text).

    JSON numbers are read in one vectorised pass (what decoding each and letting pandas infer
    gives: int64 when all are integers, else float64); other labels (text, booleans) are
    decoded once per distinct value.
    """
    texts = label_text.reset_index(drop=True).astype(object)
    try:
        return pd.to_numeric(texts)
    except (ValueError, TypeError):
        pass
    decoded = {text: decode_label(text) for text in pd.unique(texts)}
    return pd.Series([decoded[text] for text in texts])


def _shortfall(ms: ModelSettings, n: int, n_labelled: int, n_logged: int, n_dup: int,
               since: datetime | None, until: datetime | None) -> InsufficientDataError:
    rs, name = ms.retrain, ms.name
    span = (f"{since.isoformat() if since else 'the first prediction'} to "
            f"{until.isoformat() if until else 'now'}")
    return InsufficientDataError(
        f"model {name!r}: {n} labelled logged prediction(s) in the training window ({span}; "
        f"{n_labelled} labelled of {n_logged} served, {n_dup} duplicate key(s) dropped), but "
        f"[models.{name}.retrain] min_rows = {rs.min_rows} are needed. Wait for more labels "
        f"(lifecycle.log_outcomes), widen window (now {rs.window_text!r}), lower min_rows, or "
        "add a data_loader with extra training rows"
    )


def build_training_window(
    engine: Engine,
    ms: ModelSettings,
    *,
    since: datetime | None,
    until: datetime | None,
    as_of: datetime | None = None,
    extra: pd.DataFrame | None = None,
) -> TrainingWindow:
    """Build ``ms.name``'s training window from ``[since, until)`` (see the module docstring).

    ``as_of`` (default: now) ignores labels received later. ``extra`` is the data loader's
    rows (:func:`lifecycle.training.trainer.load_extra_rows`): reduced to the window's
    features and target and put before the logged rows of ``train``.

    Raises
    ------
    InsufficientDataError
        Fewer than ``[models.NAME.retrain] min_rows`` labelled logged rows after
        de-duplication, or an empty training set or holdout.
    DataError
        A configured feature is missing from the log, or a logged input has the target's name.
    TrainerError
        ``extra`` lacks a feature or the target column, or has no rows.
    UnknownModelError
        The model has logged nothing.
    """
    as_of = as_of or utcnow()
    loaded = load_window(engine, ms.name, since, until, with_inputs=True, with_headline=True)
    data, _ = window_frames(loaded, ms)["data"]
    served = served_rows(loaded).to_numpy()
    meta = loaded.meta[served].reset_index(drop=True)
    outputs = loaded.outputs.reset_index(drop=True)[served].reset_index(drop=True)
    with Session(engine) as session:
        model_row = get_model(session, ms.name)
        keys = pd.unique(meta["join_key"]).tolist() if len(meta) else []
        outcomes = outcomes_for_keys(session, model_row.id, keys, as_of,
                                     columns=("join_key", "label_text"))
        model_task = model_row.task
    label_text = meta["join_key"].map(outcomes.set_index("join_key")["label_text"])
    return assemble_training_window(ms, since=since, until=until, as_of=as_of, extra=extra,
                                    data=data, meta=meta, outputs=outputs,
                                    label_text=label_text, n_logged=len(meta),
                                    model_task=model_task)


def assemble_training_window(
    ms: ModelSettings,
    *,
    since: datetime | None,
    until: datetime | None,
    as_of: datetime,
    extra: pd.DataFrame | None,
    data: pd.DataFrame,
    meta: pd.DataFrame,
    outputs: pd.DataFrame,
    label_text: pd.Series,
    n_logged: int,
    model_task: str | None,
) -> TrainingWindow:
    """The rules of the module docstring from the window's served rows: ``data`` (features),
    ``meta`` and ``outputs`` row-aligned in prediction time order, ``label_text`` each row's
    label (JSON text; NaN when unlabelled), ``n_logged`` the served rows of the window (the
    partitioned join of ``lifecycle.compute`` passes only the labelled ones)."""
    rs, target = ms.retrain, ms.retrain.target
    features = tuple(str(c) for c in data.columns)
    if target in features:
        raise DataError(
            f"model {ms.name!r} logs an input column named {target!r}, the name of "
            f"[models.{ms.name}.retrain] target; set target to another name, or list "
            f"[models.{ms.name}] features without it"
        )
    labelled = np.flatnonzero(label_text.notna().to_numpy())
    latest = ~meta["join_key"].iloc[labelled].duplicated(keep="last").to_numpy()
    rows = labelled[latest]  # ascending positions: prediction time order
    n_labelled, n = len(labelled), len(rows)
    n_dup = n_labelled - n
    if n < rs.min_rows:
        raise _shortfall(ms, n, n_labelled, n_logged, n_dup, since, until)

    logged = data.iloc[rows].reset_index(drop=True)
    logged[target] = _target_values(label_text.iloc[rows])
    n_holdout = min(n, math.ceil(n * rs.holdout))
    cut = n - n_holdout
    extra_rows = (None if extra is None else extra_rows_frame(
        extra, target, features, "the extra training rows (data_loader)"))
    n_extra = 0 if extra_rows is None else len(extra_rows)
    if n_holdout == 0 or cut + n_extra == 0:
        raise InsufficientDataError(
            f"model {ms.name!r}: {n} labelled logged row(s) leave an empty "
            f"{'holdout' if n_holdout == 0 else 'training set'} with "
            f"[models.{ms.name}.retrain] holdout = {rs.holdout:g}; raise min_rows, "
            "change holdout, or add a data_loader"
        )
    train = logged.iloc[:cut]
    if extra_rows is not None:
        train = pd.concat([extra_rows, train], ignore_index=True)
    train = train.reset_index(drop=True)
    holdout = logged.iloc[cut:].reset_index(drop=True)
    served_frame = _served_frame(meta, outputs, rows[cut:])
    return TrainingWindow(
        model=ms.name, since=since, until=until, as_of=as_of, target=target,
        features=features, train=train, holdout=holdout, served=served_frame,
        n_logged=n_logged, n_labelled=n_labelled, n_duplicates=n_dup, n_extra=n_extra,
        n_train=len(train), n_holdout=len(holdout),
        holdout_since=served_frame["ts"].iloc[0].to_pydatetime(),
        schema={str(c): str(t) for c, t in train.dtypes.items()},
        content_hash=content_hash(train, holdout), model_task=model_task,
    )


def _served_frame(meta: pd.DataFrame, outputs: pd.DataFrame, rows: Any) -> pd.DataFrame:
    """What was served on ``rows``: :data:`SERVED_COLUMNS` then the ``proba_<class>`` block."""
    cols = [c for c in SERVED_COLUMNS if c in meta.columns]
    frame = meta.iloc[rows][cols].reset_index(drop=True)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    proba = [c for c in outputs.columns if str(c).startswith("proba_")]
    if proba:
        block = outputs.iloc[rows][proba].reset_index(drop=True).astype(float)
        frame = pd.concat([frame, block], axis=1)
    return frame

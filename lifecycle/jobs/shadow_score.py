"""Job: score the challenger later, in batch, on the requests the champion answered.

``run_shadow_scoring(engine, settings, model, window_start, window_end, *, registry=None)``
(kind ``shadow_score``; schedule it with ``[models.NAME.schedule.shadow_score] every =
"15m"``) is the batch alternative to live shadowing (``ManagedModel(shadow="batch")``,
docs/serving.md): the request path only serves and logs the champion, and this job gives the
challenger the same requests afterwards, from the logged inputs.

1. Reads where ``champion`` and ``challenger`` point in the registry. No challenger (or a
   challenger that is the champion's version: a promotion half done): nothing to do.
2. Loads the window's served rows: role ``champion`` of the champion's version, and role
   ``unmanaged`` (teams serving their own model with ``@monitor``) of that version or of no
   version (all of them when the model has no champion alias), with their logged inputs.
3. Leaves out every served row the challenger version already answered (a challenger row of
   that version whose request id is the served row's): a rerun of a window, or requests the
   live shadow scored, are never scored twice.
4. Loads the challenger by its version URI (``Registry.load_model``: the native scikit-learn
   object when it has that flavour), scores the rest in chunks of ``chunk_rows`` rows, with
   ``predict_proba`` for rows the champion answered with probabilities (when the challenger
   has it) and ``predict`` otherwise, and writes each chunk as one batch in its own
   transaction (``capture/shadow_batch.py``): role ``challenger``, the challenger's version,
   the served rows' request ids, join keys and timestamps, so the rows pair exactly like
   live shadow rows, fall in the same window and share the served rows' labels. A batch id
   is fixed by the rows it answers, so the same chunk written twice is one batch.

The challenger gets the columns it was fitted on (``feature_names_in_``), else the logged
columns that are not identifiers (``[models.NAME]`` ``id_column``, ``identifier_columns``,
``timestamp_columns``). A column it needs that the log does not hold as served (dropped by
``redact``, or replaced by its keyed hash with ``hash_columns``) raises
:class:`~lifecycle.errors.ShadowInputsMissingError` naming the columns and the fix (live
shadowing scores the request's own inputs). A chunk whose call raises, returns another
number of rows, or rows holding NaN, is counted in ``failed`` (first error kept) and left
unscored; the job itself succeeds, as a live shadow error never fails serving.

A challenger row's ``latency_ms`` is its request's share of the chunk call's time (call time
x the request's rows / chunk rows), as for a live micro-batch: the cost per request in
batch, not the latency the challenger would have serving alone.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from lifecycle.capture.shadow_batch import challenger_spec, shadow_rows
from lifecycle.config import Settings
from lifecycle.errors import ShadowInputsMissingError, UnknownModelError
from lifecycle.registry.base import Registry, VersionInfo
from lifecycle.registry.mlflow_store import registry_for
from lifecycle.states import CHALLENGER, CHAMPION, EMPTY, UNMANAGED
from lifecycle.storage.capture_repo import model_id_for, write_batches
from lifecycle.storage.window import LoadedWindow, load_window

__all__ = ["CHUNK_ROWS", "ShadowScoreResult", "model_columns", "run_shadow_scoring"]

log = logging.getLogger("lifecycle.jobs")

#: Rows per challenger call and per written batch.
CHUNK_ROWS = 10_000
_PREDICT, _PREDICT_PROBA = "predict", "predict_proba"
#: What ``hash_columns`` stores in place of a value: a keyed SHA-256, 64 hex characters.
_HASHED = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ShadowScoreResult:
    """What one run of the shadow scoring job did in its window.

    Attributes
    ----------
    champion_version, challenger_version
        The versions the aliases pointed to (None: no such alias).
    served
        Served rows of the window considered (champion rows of the champion's version,
        unmanaged rows).
    already_scored
        Of those, rows the challenger version had answered before (a rerun, live shadow).
    scored
        Rows scored and written in this run.
    failed
        Rows left unscored because the challenger raised or returned unusable output.
    batches
        Batches written (one transaction each).
    seconds
        Wall time of the run.
    first_error
        The first challenger failure, if any.
    reason
        Why nothing was scored, when nothing was to be done (``empty``).
    """

    model: str
    champion_version: str | None
    challenger_version: str | None
    served: int = 0
    already_scored: int = 0
    scored: int = 0
    failed: int = 0
    batches: int = 0
    seconds: float = 0.0
    first_error: str | None = None
    reason: str | None = None

    @property
    def empty(self) -> bool:
        """True when the window held nothing to score (the runner records it as empty)."""
        return self.reason is not None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.empty:
            out["outcome"] = EMPTY
        return out


def run_shadow_scoring(engine: Engine, settings: Settings, model: str,
                       window_start: datetime, window_end: datetime, *,
                       registry: Registry | None = None,
                       chunk_rows: int = CHUNK_ROWS) -> ShadowScoreResult:
    """Score ``model``'s challenger on the window's served requests it has not answered yet
    (see the module docstring). Idempotent: a rerun of the window scores nothing twice.

    Raises
    ------
    ShadowInputsMissingError
        The challenger needs columns the log does not hold as served (redacted or hashed).
    RegistryError
        The registry cannot be read, or the challenger cannot be loaded.
    """
    t0 = time.perf_counter()
    registry = registry or registry_for(settings)
    challenger_info = registry.by_alias(model, CHALLENGER)
    champion_info = registry.by_alias(model, CHAMPION)
    champion_version = None if champion_info is None else champion_info.version
    result = ShadowScoreResult(model, champion_version,
                               None if challenger_info is None else challenger_info.version)
    if challenger_info is None:
        return _done(result, t0, reason=f"model {model!r} has no {CHALLENGER!r} alias")
    if challenger_info.version == champion_version:
        return _done(result, t0, reason=f"the {CHALLENGER!r} alias points at the champion's "
                                        f"version {champion_version} (a promotion in progress)")
    served = _served(engine, model, window_start, window_end, champion_version)
    if served is None or not len(served[2]):
        return _done(result, t0, reason="no served request in the window")
    inputs, outputs, meta = served
    done = _answered(engine, model, window_start, window_end, challenger_info.version)
    todo = ~meta["request"].isin(done).to_numpy()
    result = _with(result, served=len(meta), already_scored=int((~todo).sum()))
    if not todo.any():
        return _done(result, t0)
    challenger = registry.load_model(challenger_info.uri)
    features = model_columns(settings, model, challenger, inputs)
    return _done(_score(engine, model, challenger_info, challenger, inputs, features,
                        outputs, meta, todo, chunk_rows, result), t0)


def _with(result: ShadowScoreResult, **changes: Any) -> ShadowScoreResult:
    return replace(result, **changes)


def _done(result: ShadowScoreResult, t0: float, reason: str | None = None
          ) -> ShadowScoreResult:
    return _with(result, seconds=round(time.perf_counter() - t0, 3), reason=reason)


def _window(engine: Engine, model: str, start: datetime, end: datetime, role: str,
            with_inputs: bool) -> LoadedWindow | None:
    try:
        return load_window(engine, model, start, end, role=role, with_inputs=with_inputs)
    except UnknownModelError:  # nothing was ever logged for the model
        return None


def _served(engine: Engine, model: str, start: datetime, end: datetime,
            champion: str | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """Inputs, outputs and meta (with ``request``: each row's request id) of the served
    rows the challenger should answer."""
    parts = []
    for role in (CHAMPION, UNMANAGED):
        window = _window(engine, model, start, end, role, with_inputs=True)
        if window is None:
            return None
        if not len(window):
            continue
        version = window.meta["model_version"]
        if role == CHAMPION:
            if champion is None:  # no champion alias: rows of past champions are not paired
                continue
            keep = (version == champion).to_numpy()
        else:  # @monitor rows: of the champion's version, or of no stated version
            keep = (version.isna() | (version == champion)).to_numpy() \
                if champion is not None else np.ones(len(version), dtype=bool)
        frames = tuple(f.loc[keep] for f in (window.inputs, window.outputs, window.meta))
        parts.append(frames)
    if not parts:
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame({"request": []})
    inputs, outputs, meta = (pd.concat([p[i] for p in parts], ignore_index=True)
                             for i in range(3))
    request = meta["request_id"] if "request_id" in meta else pd.Series(None, index=meta.index)
    meta["request"] = request.where(request.notna(), meta["prediction_id"]).astype(str)
    return inputs, outputs, meta


def _answered(engine: Engine, model: str, start: datetime, end: datetime,
              version: str) -> set[str]:
    """Request ids the challenger ``version`` has answered in the window."""
    window = _window(engine, model, start, end, CHALLENGER, with_inputs=False)
    if window is None or not len(window) or "request_id" not in window.meta:
        return set()
    meta = window.meta
    mine = meta.loc[(meta["model_version"] == version).to_numpy(), "request_id"]
    return set(mine.dropna().astype(str))


def model_columns(settings: Settings, model: str, challenger: Any, inputs: pd.DataFrame
                  ) -> list[str]:
    """The logged columns the challenger is given, in its order; raises when some it needs
    are not in the log as served."""
    names = getattr(challenger, "feature_names_in_", None)
    logged = [str(c) for c in inputs.columns]
    if names is not None:
        wanted = [str(n) for n in names]
    else:
        skip = settings.model(model).not_features
        wanted = [c for c in logged if c not in skip]
        expected = getattr(challenger, "n_features_in_", None)
        if expected is not None and len(wanted) != int(expected):
            raise ShadowInputsMissingError(
                f"the challenger of model {model!r} takes {expected} unnamed features and the "
                f"log holds {len(wanted)} feature columns ({wanted[:20]}); score it live "
                "(ManagedModel(shadow=\"live\")), or fit it on a DataFrame so its columns "
                "are known")
    missing = [c for c in wanted if c not in logged or inputs[c].isna().all()]
    hashed = [c for c in wanted if c not in missing and _looks_hashed(inputs[c])]
    if missing or hashed:
        what = "; ".join(part for part in (
            f"not logged (redact, or never sent): {missing}" if missing else "",
            f"logged as keyed hashes (hash_columns): {hashed}" if hashed else "") if part)
        raise ShadowInputsMissingError(
            f"the challenger of model {model!r} needs input columns the log does not hold "
            f"as served: {what}. Batch shadow scoring reads the logged inputs; shadow this "
            "model live instead (ManagedModel(..., shadow=\"live\"), which scores each "
            "request's own inputs), or stop redacting/hashing columns the challenger uses")
    return wanted


def _looks_hashed(column: pd.Series) -> bool:
    values = column.dropna()
    if not len(values) or values.dtype.kind in "biufcmM":
        return False
    sample = values.iloc[:100]
    return all(isinstance(v, str) and _HASHED.fullmatch(v) for v in sample)


def _methods(outputs: pd.DataFrame, challenger: Any) -> np.ndarray:
    """True for rows to score with ``predict_proba``: the champion answered them with
    probabilities and the challenger has the method."""
    proba = [c for c in outputs.columns if str(c).startswith("proba_")]
    if not proba or not callable(getattr(challenger, _PREDICT_PROBA, None)):
        return np.zeros(len(outputs), dtype=bool)
    return outputs[proba].notna().any(axis=1).to_numpy()


def _score(engine: Engine, model: str, info: VersionInfo, challenger: Any,
           inputs: pd.DataFrame, features: list[str], outputs: pd.DataFrame,
           meta: pd.DataFrame, todo: np.ndarray, chunk_rows: int,
           result: ShadowScoreResult) -> ShadowScoreResult:
    spec = challenger_spec(model, info.version, challenger)
    named = getattr(challenger, "feature_names_in_", None) is not None or \
        getattr(challenger, "n_features_in_", None) is None
    call_rows = meta["prediction_id"].str.slice(0, 24).map(
        meta["prediction_id"].str.slice(0, 24).value_counts()).to_numpy(dtype=np.float64)
    proba = _methods(outputs, challenger)
    notes: list[str] = []
    scored = failed = batches = 0
    model_id: int | None = None
    first_error: str | None = None
    for use_proba in (False, True):
        rows = np.flatnonzero(todo & (proba == use_proba))
        if not len(rows):
            continue
        method = _PREDICT_PROBA if use_proba else _PREDICT
        fn = getattr(challenger, method)
        for start in range(0, len(rows), chunk_rows):
            chunk = rows[start:start + chunk_rows]
            logged = inputs.iloc[chunk].reset_index(drop=True)
            given = logged[features] if named else logged[features].to_numpy()
            try:
                t = time.perf_counter()
                out = fn(given)
                elapsed_ms = (time.perf_counter() - t) * 1000.0
                values = _checked(out, len(chunk))
            except Exception as exc:  # noqa: BLE001 - a challenger never fails the job
                failed += len(chunk)
                first_error = first_error or f"{type(exc).__name__}: {exc}"
                continue
            bad = _nan_rows(values)
            if bad is not None and bad.any():
                failed += int(bad.sum())
                first_error = first_error or f"returned NaN for {int(bad.sum())} rows"
                chunk, values, logged = chunk[~bad], values[~bad], \
                    logged.loc[~bad].reset_index(drop=True)
                if not len(chunk):
                    continue
            rows_meta = meta.iloc[chunk]
            batch = shadow_rows(
                spec, logged, values, method=method,
                request_ids=rows_meta["request"].tolist(),
                join_keys=rows_meta["join_key"].astype(str).tolist(), ts=rows_meta["ts"],
                latency_ms=elapsed_ms * call_rows[chunk] / len(chunk),
                note=lambda kind, message: notes.append(f"{kind}: {message}"))
            with engine.begin() as conn:
                if model_id is None:  # once per run, in the first chunk's transaction
                    model_id = model_id_for(conn, model)
                write_batches(conn, [(model_id, batch)])
            scored += len(chunk)
            batches += 1
    for note in dict.fromkeys(notes):
        log.warning("shadow scoring of model %r: %s", model, note)
    if failed:
        log.warning("challenger version %s of model %r failed on %d of %d rows in batch "
                    "shadow scoring (first: %s); they are left unscored", info.version,
                    model, failed, int(todo.sum()), first_error)
    return _with(result, scored=scored, failed=failed, batches=batches,
                 first_error=first_error)


def _checked(out: Any, n: int) -> np.ndarray:
    values = out.to_numpy() if isinstance(out, pd.DataFrame | pd.Series) else np.asarray(out)
    if values.ndim == 0 or values.shape[0] != n:
        shape = "a scalar" if values.ndim == 0 else f"{values.shape[0]} rows"
        raise ValueError(f"returned {shape} for {n} input rows")
    return values


def _nan_rows(values: np.ndarray) -> np.ndarray | None:
    if values.dtype.kind not in "fc":
        return None
    nan = np.isnan(values)
    return nan.reshape(nan.shape[0], -1).any(axis=1) if nan.ndim > 1 else nan

"""Job: the drift check of one model over one window, against its stored reference profiles.

``run_drift_check(engine, settings, model, window_start, window_end)``

1. loads the active reference profiles of the model (``data``; ``prediction`` when it exists
   and ``[models.NAME.drift] prediction_drift`` is on);
2. loads the window ``[window_start, window_end)`` of served traffic (roles ``champion`` and
   ``unmanaged``; shadow traffic is the shadow evaluation's business);
3. runs :func:`lifecycle.check_drift` for data drift (inputs) and prediction drift (outputs);
4. writes every report and its per-feature rows in **one** transaction, replacing the
   reports of the same model, kind and window if they exist (the table's unique key), so a
   rerun never duplicates.

Label drift needs labels, which arrive after the window closes: the performance job computes
it on its labelled window, with :func:`label_drift` below, and stores it as a ``label`` report
(one computation, one place; see docs/drift.md).

Identifier columns are never drift features: ``[models.NAME] id_column``,
``identifier_columns`` and ``timestamp_columns``, the capture's ``id_column`` (an input column
whose values are the rows' join keys) and date/time columns. Non-numeric values in a numeric
feature (text, booleans, dates logged into a number column) count as missing values, and their
number per feature is stored in the data report's summary (``non_numeric``).

Everything is computed before anything is written: bad input raises
:class:`~lifecycle.errors.DataError` and leaves the database untouched. A window with no served
traffic is a normal outcome, not an error: nothing is written and the job returns
:class:`~lifecycle.jobs.outcome.EmptyWindow` (the runner records it as ``empty``, no retry).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from pandas.api import types as ptypes
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import ModelSettings, Settings
from lifecycle.drift.profile import ReferenceProfile
from lifecycle.drift.report import DriftReport
from lifecycle.drift_check import check_drift, non_numeric_counts
from lifecycle.errors import DataError
from lifecycle.jobs.outcome import EmptyWindow
from lifecycle.storage.drift_repo import load_active_profiles, save_report
from lifecycle.storage.labelled import SERVED_ROLES
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.window import Window, load_window

__all__ = ["DriftCheckResult", "check_window", "identifier_columns", "label_drift",
           "label_frame", "run_drift_check", "run_drift_check_all", "window_frames"]

#: Rows compared when looking for the capture's ``id_column`` among the inputs.
ID_PROBE_ROWS = 200


@dataclass(frozen=True)
class DriftCheckResult:
    """Reports of one window by kind, the ids of the rows written, skipped kinds, and the
    non-numeric value counts of the data report; ``empty`` when the window had no traffic."""

    reports: dict[str, DriftReport]
    report_ids: dict[str, int]
    skipped: dict[str, str]
    non_numeric: dict[str, int] = field(default_factory=dict)
    empty_reason: str | None = None

    @property
    def empty(self) -> bool:
        return self.empty_reason is not None


def _served(window: Window) -> pd.Series:
    if len(window) == 0 or "role" not in window.meta.columns:
        return pd.Series(True, index=range(len(window)))
    return window.meta["role"].isin(SERVED_ROLES).reset_index(drop=True)


def label_frame(engine: Engine, model: str, since: datetime | None, until: datetime | None,
                task: str | None) -> pd.DataFrame:
    """The window's labels as one ``label`` column: numbers for regression, one text form per
    class otherwise (``1``, ``1.0`` and ``"1"`` are one class, as in the performance job).
    With no task configured, labels that are not classes are compared as numbers."""
    from lifecycle.storage.labelled import load_labelled_window

    labelled = load_labelled_window(engine, model, since, until, with_proba=False).labelled
    return labels_as_frame(labelled, task)


def labels_as_frame(labelled: pd.DataFrame, task: str | None) -> pd.DataFrame:
    """``label`` column of a labelled window's rows (see :func:`label_frame`)."""
    from lifecycle.performance.data import canonical_label

    numeric = pd.DataFrame({"label": labelled["label_value"].astype(float)})
    if task == "regression":
        return numeric
    try:
        classes = [None if v is None else canonical_label(v) for v in labelled["label"]]
    except DataError:
        if task == "classification":
            raise
        return numeric
    return pd.DataFrame({"label": pd.Series(classes, dtype=object)})


def _join_key_columns(inputs: pd.DataFrame, meta: pd.DataFrame) -> set[str]:
    """Input columns whose values are the rows' join keys: the capture's ``id_column``."""
    from lifecycle.capture.records import normalize_key

    if "join_key" not in meta.columns or not len(meta) or not len(inputs.columns):
        return set()
    keys = meta["join_key"].iloc[:ID_PROBE_ROWS].tolist()
    found: set[str] = set()
    for col in inputs.columns:
        values = inputs[col].iloc[:ID_PROBE_ROWS]
        if ptypes.is_bool_dtype(values.dtype) or ptypes.is_complex_dtype(values.dtype):
            continue
        pairs = [(normalize_key(v), k) for v, k in zip(values.astype(object), keys,
                                                       strict=False)
                 if v is not None and not (isinstance(v, float) and v != v)]
        if pairs and len(pairs) * 2 >= len(keys) and all(a == b for a, b in pairs):
            found.add(str(col))
    return found


_TIME_KINDS = frozenset({"datetime64", "datetime", "date", "time", "timedelta",
                         "timedelta64", "period"})


def is_time_column(series: pd.Series) -> bool:
    """A date/time column: a datetime64 / timedelta64 dtype, or an object column whose first
    1,000 non-missing values are all dates, times or datetimes (Arrow ``date32`` loads so)."""
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return True
    if dtype != object:  # noqa: E721
        return False
    head = series.dropna().iloc[:1000]
    return bool(len(head)) and ptypes.infer_dtype(head, skipna=True) in _TIME_KINDS


def identifier_columns(window: Window, ms: ModelSettings) -> set[str]:
    """Input columns of ``window`` that are never drift features (see the module docstring)."""
    found = set(ms.not_features)
    found |= {str(c) for c in window.inputs.columns if is_time_column(window.inputs[c])}
    return found | _join_key_columns(window.inputs, window.meta)


def window_frames(window: Window, ms: ModelSettings) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """``{"data": (inputs, categorical), "prediction": (outputs, categorical)}`` of served rows.

    Data columns are ``[models.NAME] features`` when configured, else every logged input;
    identifier columns (:func:`identifier_columns`) are dropped either way. The
    ``prediction`` column is categorical for classifiers.
    """
    served = _served(window).to_numpy()
    identifiers = identifier_columns(window, ms)
    inputs = window.inputs.reset_index(drop=True)[served].reset_index(drop=True)
    outputs = window.outputs.reset_index(drop=True)[served].reset_index(drop=True)
    if ms.features:
        missing = [f for f in ms.features if f not in inputs.columns]
        if missing and len(inputs):
            raise DataError(
                f"logged inputs of model {ms.name!r} lack configured feature(s) {missing}; "
                f"fix [models.{ms.name}] features or log those columns"
            )
        inputs = inputs[[f for f in ms.features if f in inputs.columns]]
    inputs = inputs[[c for c in inputs.columns if str(c) not in identifiers]]
    cat_data = [c for c in ms.categorical if c in inputs.columns]
    cat_pred = ["prediction"] if ms.task == "classification" and "prediction" in outputs else []
    return {"data": (inputs, cat_data), "prediction": (outputs, cat_pred)}


def _without(profile: ReferenceProfile, names: set[str]) -> ReferenceProfile:
    """``profile`` without the features in ``names`` (profiles stored before identifier
    columns were excluded may hold one)."""
    kept = {k: v for k, v in profile.features.items() if k not in names}
    if len(kept) == len(profile.features):
        return profile
    if not kept:
        raise DataError(
            "the reference profile holds only identifier columns "
            f"{sorted(profile.features)}; set a new reference with `lifecycle reference set`"
        )
    return dataclasses.replace(profile, features=kept)


def check_window(
    engine: Engine,
    settings: Settings,
    model: str,
    window_start: datetime | None,
    window_end: datetime | None,
    profiles: dict[str, tuple[int, ReferenceProfile]],
) -> DriftCheckResult:
    """Compute (never write) the data and prediction reports of a window."""
    ms = settings.model(model)
    policy = ms.drift.to_policy()
    if "data" not in profiles:
        raise DataError(
            f"model {model!r} has no reference profile; set one with "
            f"`lifecycle reference set {model} --from FILE` or `--since ... --until ...`"
        )
    window = load_window(engine, model, window_start, window_end)
    frames = window_frames(window, ms)
    data_df, _ = frames["data"]
    if len(data_df) == 0:
        return DriftCheckResult({}, {}, {}, empty_reason=(
            f"the window [{window_start}, {window_end}) of model {model!r} has no served "
            "predictions"))
    reference = _without(profiles["data"][1], identifier_columns(window, ms))
    reports = {"data": check_drift(reference, data_df, policy=policy, kind="data")}
    skipped: dict[str, str] = {}
    if ms.drift.prediction_drift:
        if "prediction" not in profiles:
            skipped["prediction"] = "no reference profile of this kind"
        else:
            try:
                reports["prediction"] = check_drift(profiles["prediction"][1],
                                                    frames["prediction"][0], policy=policy,
                                                    kind="prediction")
            except DataError as exc:
                skipped["prediction"] = str(exc)
    return DriftCheckResult(reports, {}, skipped, non_numeric_counts(data_df, reference))


def label_drift(
    reference: ReferenceProfile | pd.DataFrame,
    labels: pd.DataFrame,
    settings: Settings,
    model: str,
) -> DriftReport:
    """Label drift of a labelled window (``labels``: :func:`labels_as_frame`) against the
    ``label`` reference profile, or against the reference period's labels as a frame."""
    ms = settings.model(model)
    categorical = (["label"] if isinstance(reference, pd.DataFrame)
                   and ms.task != "regression" and labels["label"].dtype == object  # noqa: E721
                   else None)
    return check_drift(reference, labels, categorical=categorical,
                       policy=ms.drift.to_policy(), kind="label")


def run_drift_check(
    engine: Engine,
    settings: Settings,
    model: str,
    window_start: datetime,
    window_end: datetime,
) -> DriftReport | EmptyWindow:
    """Check one window and store its reports (idempotent per model, kind and window).

    Returns the data-drift report (the prediction drift report is stored beside it), or
    :class:`EmptyWindow` when the window has no served traffic (nothing is stored).
    """
    result = run_drift_check_all(engine, settings, model, window_start, window_end)
    if result.empty_reason is not None:
        return EmptyWindow(result.empty_reason)
    return result.reports["data"]


def run_drift_check_all(
    engine: Engine,
    settings: Settings,
    model: str,
    window_start: datetime,
    window_end: datetime,
) -> DriftCheckResult:
    """Like :func:`run_drift_check`, returning every report, the row ids and skipped kinds."""
    if window_start >= window_end:
        raise DataError(
            f"window_start {window_start} must be before window_end {window_end}"
        )
    with Session(engine) as session:
        model_id = get_model(session, model).id
        profiles = load_active_profiles(session, model_id)
    result = check_window(engine, settings, model, window_start, window_end, profiles)
    if result.empty:
        return result
    ids: dict[str, int] = {}
    with Session(engine) as session, session.begin():
        for kind, report in result.reports.items():
            extra: dict[str, Any] = {}
            if kind == "data":
                if result.skipped:
                    extra["skipped"] = result.skipped
                if result.non_numeric:
                    extra["non_numeric"] = result.non_numeric
            ids[kind] = save_report(
                session, model_id, report, window_start=window_start, window_end=window_end,
                reference_id=profiles[kind][0], extra_summary=extra,
            )
    return dataclasses.replace(result, report_ids=ids)

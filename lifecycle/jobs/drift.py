"""Job: the drift check of one model over one window, against its stored reference profiles.

``run_drift_check(engine, settings, model, window_start, window_end)``

1. loads the active reference profiles of the model (``data``; ``prediction`` and ``label``
   when they exist and the model's ``[drift]`` settings ask for them);
2. loads the window ``[window_start, window_end)`` of served traffic (roles ``champion`` and
   ``unmanaged``; shadow traffic is the shadow evaluation's business);
3. runs :func:`lifecycle.check_drift` for data drift (inputs), prediction drift (outputs) and
   label drift (outcome labels of the window's predictions);
4. writes every report and its per-feature rows in **one** transaction, replacing the
   reports of the same model, kind and window if they exist (the table's unique key), so a
   rerun never duplicates.

Everything is computed before anything is written: bad input raises
:class:`~lifecycle.errors.DataError` and leaves the database untouched. Prediction and label
drift are optional: when they cannot be computed the data report's summary says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import ModelSettings, Settings
from lifecycle.drift.profile import ReferenceProfile
from lifecycle.drift.report import DriftReport
from lifecycle.drift_check import check_drift
from lifecycle.errors import DataError
from lifecycle.states import SERVED_ROLES
from lifecycle.storage.drift_repo import load_active_profiles, save_report
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.window import Window, load_window

__all__ = ["DriftCheckResult", "check_window", "run_drift_check", "window_frames"]



@dataclass(frozen=True)
class DriftCheckResult:
    """Reports of one window by kind, and the ids of the rows written."""

    reports: dict[str, DriftReport]
    report_ids: dict[str, int]
    skipped: dict[str, str]


def _served(window: Window) -> pd.Series:
    if len(window) == 0 or "role" not in window.meta.columns:
        return pd.Series(True, index=range(len(window)))
    return window.meta["role"].isin(SERVED_ROLES).reset_index(drop=True)


def label_frame(engine: Engine, model: str, since: datetime | None, until: datetime | None,
                task: str | None) -> pd.DataFrame:
    """The window's labels as one ``label`` column: numbers for regression, one text form per
    class otherwise (``1``, ``1.0`` and ``"1"`` are one class, as in the performance job).
    With no task configured, labels that are not classes are compared as numbers."""
    from lifecycle.performance.data import canonical_label
    from lifecycle.storage.labelled import load_labelled_window

    labelled = load_labelled_window(engine, model, since, until, with_proba=False).labelled
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


def window_frames(window: Window, ms: ModelSettings) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """``{"data": (inputs, categorical), "prediction": (outputs, categorical)}`` of served rows.

    Data columns are ``[models.NAME] features`` when configured, else every logged input.
    The ``prediction`` column is categorical for classifiers.
    """
    served = _served(window).to_numpy()
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
    cat_data = [c for c in ms.categorical if c in inputs.columns]
    cat_pred = ["prediction"] if ms.task == "classification" and "prediction" in outputs else []
    return {"data": (inputs, cat_data), "prediction": (outputs, cat_pred)}


def check_window(
    engine: Engine,
    settings: Settings,
    model: str,
    window_start: datetime | None,
    window_end: datetime | None,
    profiles: dict[str, tuple[int, ReferenceProfile]],
) -> tuple[dict[str, DriftReport], dict[str, str]]:
    """Compute (never write) the reports of a window; returns reports and skipped kinds."""
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
        raise DataError(
            f"the window [{window_start}, {window_end}) of model {model!r} has no served "
            "predictions; choose a window with traffic (--since/--until)"
        )
    reports = {"data": check_drift(profiles["data"][1], data_df, policy=policy, kind="data")}
    skipped: dict[str, str] = {}
    wanted: Sequence[str] = [k for k, on in (("prediction", ms.drift.prediction_drift),
                                             ("label", ms.drift.label_drift)) if on]
    for kind in wanted:
        if kind not in profiles:
            skipped[kind] = "no reference profile of this kind"
            continue
        try:
            if kind == "prediction":
                df = frames["prediction"][0]
            else:
                df = label_frame(engine, model, window_start, window_end, ms.task)
                if len(df) == 0:
                    skipped[kind] = "no labelled predictions in the window"
                    continue
            reports[kind] = check_drift(profiles[kind][1], df, policy=policy, kind=kind)
        except DataError as exc:
            skipped[kind] = str(exc)
    return reports, skipped


def run_drift_check(
    engine: Engine,
    settings: Settings,
    model: str,
    window_start: datetime,
    window_end: datetime,
) -> DriftReport:
    """Check one window and store its reports (idempotent per model, kind and window).

    Returns the data-drift report; prediction and label drift reports are stored beside it.
    """
    return run_drift_check_all(engine, settings, model, window_start, window_end).reports["data"]


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
    reports, skipped = check_window(engine, settings, model, window_start, window_end, profiles)
    ids: dict[str, int] = {}
    with Session(engine) as session, session.begin():
        for kind, report in reports.items():
            extra: dict[str, Any] = {"skipped": skipped} if kind == "data" and skipped else {}
            ids[kind] = save_report(
                session, model_id, report, window_start=window_start, window_end=window_end,
                reference_id=profiles[kind][0], extra_summary=extra,
            )
    return DriftCheckResult(reports=reports, report_ids=ids, skipped=skipped)

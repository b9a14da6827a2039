"""Job: the drift check of one model over one window, against its stored reference profiles.

``run_drift_check(engine, settings, model, window_start, window_end)``

1. loads the active reference profiles of the model (``data``; ``prediction`` when it exists
   and ``[models.NAME.drift] prediction_drift`` is on);
2. picks the path (``jobs/drift_path.py``, ``[models.NAME.drift] path`` and
   ``rollup_min_rows``): a large window on whole hours is checked from its hourly rollups
   (``check_summaries``, bounds in every number; docs/scale.md) without loading a row;
   otherwise it loads the window ``[window_start, window_end)`` of served traffic
   (roles ``champion`` and ``unmanaged``; shadow traffic is the shadow evaluation's business);
3. runs :func:`lifecycle.check_drift` for data drift (inputs) and prediction drift (outputs),
   with the model's feature importances beside the data drift features when they are known
   (``[models.NAME] feature_importances``, else those the capture writer stored in
   ``models.details`` from the wrapped estimator: :func:`model_importances`);
4. writes every report (its summary says which path ran and why) and its per-feature rows in
   **one** transaction, replacing the reports of the same model, kind and window if they
   exist (the table's unique key), so a rerun never duplicates.

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
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.drift.profile import ReferenceProfile
from lifecycle.drift.report import DriftReport
from lifecycle.drift_check import check_drift, non_numeric_counts
from lifecycle.errors import DataError
from lifecycle.jobs.drift_path import (
    EXACT,
    ROLLUP,
    choose_path,
    prediction_drift,
    rollup_reports,
)
from lifecycle.jobs.outcome import EmptyWindow
from lifecycle.storage.drift_repo import load_active_profiles, save_report
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.window import load_window
from lifecycle.window_frames import (
    identifier_columns,
    window_frames,
)

__all__ = ["DriftCheckResult", "check_window", "label_drift", "model_importances",
           "run_drift_check", "run_drift_check_all"]

@dataclass(frozen=True)
class DriftCheckResult:
    """Reports of one window by kind, the ids of the rows written, skipped kinds, and the
    non-numeric value counts of the data report; ``empty`` when the window had no traffic."""

    reports: dict[str, DriftReport]
    report_ids: dict[str, int]
    skipped: dict[str, str]
    non_numeric: dict[str, int] = field(default_factory=dict)
    empty_reason: str | None = None
    #: which path computed the reports and why (``path``: exact | rollup; docs/scale.md)
    path: dict[str, object] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.empty_reason is not None


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
    importances: Mapping[str, float] | None = None,
) -> DriftCheckResult:
    """Compute (never write) the data and prediction reports of a window; ``importances``
    (feature -> importance) are shown beside the data report's features."""
    ms = settings.model(model)
    policy = ms.drift.to_policy()
    if "data" not in profiles:
        raise DataError(
            f"model {model!r} has no reference profile; set one with "
            f"`lifecycle reference set {model} --from FILE` or `--since ... --until ...`"
        )
    if window_start is not None and window_end is not None:
        choice = choose_path(engine, settings, model, window_start, window_end)
        if choice.path == ROLLUP:
            rolled, not_checked, path = rollup_reports(
                engine, settings, model, window_start, window_end, profiles, importances,
                choice)
            if not rolled:
                return DriftCheckResult({}, {}, {}, empty_reason=(
                    f"the window [{window_start}, {window_end}) of model {model!r} has no "
                    "served predictions"))
            return DriftCheckResult(rolled, {}, not_checked, path=path)
        exact_path: dict[str, object] = {"path": EXACT, "path_reason": choice.reason}
    else:
        exact_path = {"path": EXACT, "path_reason": "open window"}
    window = load_window(engine, model, window_start, window_end)
    frames = window_frames(window, ms)
    data_df, _ = frames["data"]
    if len(data_df) == 0:
        return DriftCheckResult({}, {}, {}, empty_reason=(
            f"the window [{window_start}, {window_end}) of model {model!r} has no served "
            "predictions"))
    reference = _without(profiles["data"][1], identifier_columns(window, ms))
    reports = {"data": check_drift(reference, data_df, policy=policy, kind="data",
                                   importances=importances)}
    skipped: dict[str, str] = {}
    prediction_drift(
        ms.drift.prediction_drift, profiles,
        lambda profile: check_drift(profile, frames["prediction"][0], policy=policy,
                                    kind="prediction"),
        reports, skipped)
    return DriftCheckResult(reports, {}, skipped, non_numeric_counts(data_df, reference),
                            path=exact_path)


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


def model_importances(settings: Settings, model: str,
                      details: Mapping[str, Any] | None) -> dict[str, float] | None:
    """The model's feature importances: ``[models.NAME] feature_importances`` when set (they
    win), else ``details["feature_importances"]`` of its ``models`` row (written by the
    capture writer from a wrapped estimator), else None. Stored values that are not a table
    of numbers are ignored."""
    configured = settings.model(model).feature_importances
    if configured is not None:
        return dict(configured)
    stored = (details or {}).get("feature_importances")
    if not isinstance(stored, Mapping):
        return None
    out = {str(k): float(v) for k, v in stored.items()
           if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}
    return out or None


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
        row = get_model(session, model)
        model_id = row.id
        importances = model_importances(settings, model, row.details)
        profiles = load_active_profiles(session, model_id)
    result = check_window(engine, settings, model, window_start, window_end, profiles,
                          importances)
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
            extra.update(result.path)
            ids[kind] = save_report(
                session, model_id, report, window_start=window_start, window_end=window_end,
                reference_id=profiles[kind][0], extra_summary=extra,
            )
    return dataclasses.replace(result, report_ids=ids)

"""Which path a drift check of a window takes: exact (rows in memory) or the hourly rollups.

``[models.NAME.drift] path``:

* ``auto`` (default): a window with more than ``rollup_min_rows`` served rows (counted in
  ``traffic_hourly``, no blob read) whose bounds fall on whole hours is checked from the
  hourly rollups; every other window is loaded and checked exactly;
* ``exact``: always load the rows (memory grows with the window: ~1.4 GB at 1,000,000 rows
  of 20 features);
* ``rollup``: always merge the hourly profiles (the window must start and end on the hour).

On the rollup path, hours that have traffic but no fresh profile (the rollup job has not
reached them yet, or they were taken against another reference) are rolled up first, on the
Dask cluster when ``[compute] dask_scheduler`` is set, else in this process; then the
window's hours are merged and compared with the reference by
:func:`lifecycle.drift.engine.check_summaries`, whose results carry the sketch's error bounds
(docs/scale.md, docs/drift.md "Drift from rollups").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.drift.engine import check_summaries
from lifecycle.drift.profile import ReferenceProfile
from lifecycle.drift.report import DriftReport
from lifecycle.errors import DataError
from lifecycle.rollup.plan import without_features
from lifecycle.rollup.run import hours_in, rollup_hours
from lifecycle.rollup.window import WindowSummary, load_window_summary
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.profile_repo import served_traffic

__all__ = ["PathChoice", "choose_path", "prediction_drift", "rollup_reports"]

EXACT = "exact"
ROLLUP = "rollup"


@dataclass(frozen=True)
class PathChoice:
    """The path a window's check takes, why, and the served rows counted for the choice."""

    path: str
    reason: str
    n_rows: int


def _on_the_hour(t: datetime) -> bool:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0) == t


def choose_path(engine: Engine, settings: Settings, model: str, since: datetime,
                until: datetime) -> PathChoice:
    """Apply ``[models.NAME.drift] path`` / ``rollup_min_rows`` to the window."""
    drift = settings.model(model).drift
    aligned = _on_the_hour(since) and _on_the_hour(until)
    with Session(engine) as session:
        model_id = get_model(session, model).id
        n_rows = sum(served_traffic(session, model_id, since, until).values())
    if drift.path == EXACT:
        return PathChoice(EXACT, "path = 'exact' in the settings", n_rows)
    if drift.path == ROLLUP:
        if not aligned:
            raise DataError(
                f"[models.{model}.drift] path = 'rollup' needs a window on whole hours; "
                f"[{since}, {until}) is not. Align the schedule's window to hours, or set "
                "path = 'auto'"
            )
        return PathChoice(ROLLUP, "path = 'rollup' in the settings", n_rows)
    if n_rows <= drift.rollup_min_rows:
        return PathChoice(EXACT, f"{n_rows:,} served rows <= rollup_min_rows "
                          f"({drift.rollup_min_rows:,})", n_rows)
    if not aligned:
        return PathChoice(EXACT, f"{n_rows:,} served rows, but the window is not on whole "
                          "hours (rollups are hourly)", n_rows)
    return PathChoice(ROLLUP, f"{n_rows:,} served rows > rollup_min_rows "
                      f"({drift.rollup_min_rows:,})", n_rows)


def _fresh_summary(engine: Engine, settings: Settings, model: str, since: datetime,
                   until: datetime, reference: ReferenceProfile, kind: str) -> tuple[
                       WindowSummary, int]:
    """The window's merged summary of ``kind``, after rolling up the hours it lacks."""
    summary = load_window_summary(engine, settings, model, since, until, reference, kind=kind)
    todo = sorted(set(summary.missing_hours) | set(summary.other_reference_hours))
    if not todo:
        return summary, 0
    if settings.compute.dask_scheduler:  # many hours: on the cluster (docs/scale.md)
        from lifecycle.compute.executor import executor_for

        with executor_for(settings.compute) as executor:
            rollup_hours(engine, settings, model, todo, mapper=executor.map)
    else:
        rollup_hours(engine, settings, model, todo)
    summary = load_window_summary(engine, settings, model, since, until, reference, kind=kind)
    return summary, len(todo)


def prediction_drift(
    enabled: bool,
    profiles: Mapping[str, tuple[int, ReferenceProfile]],
    check: Callable[[ReferenceProfile], DriftReport],
    reports: dict[str, DriftReport],
    skipped: dict[str, str],
) -> None:
    """Add the prediction-drift report (``check`` of the prediction profile) to ``reports``
    when ``enabled``, or why it was skipped to ``skipped`` (no prediction profile, or a
    :class:`~lifecycle.errors.DataError` from the check); shared by both paths."""
    if not enabled:
        return
    if "prediction" not in profiles:
        skipped["prediction"] = "no reference profile of this kind"
        return
    try:
        reports["prediction"] = check(profiles["prediction"][1])
    except DataError as exc:
        skipped["prediction"] = str(exc)


def rollup_reports(
    engine: Engine,
    settings: Settings,
    model: str,
    since: datetime,
    until: datetime,
    profiles: Mapping[str, tuple[int, ReferenceProfile]],
    importances: Mapping[str, float] | None,
    choice: PathChoice,
) -> tuple[dict[str, DriftReport], dict[str, str], dict[str, object]]:
    """Data (and prediction) reports of the window from its hourly rollups; the kinds skipped
    with why; what the report's summary records about the path."""
    ms = settings.model(model)
    policy = ms.drift.to_policy()
    # identifier columns are never compared (as on the exact path), and the rollup plan
    # profiles the reference without them, tagged with this profile's digest
    reference = without_features(profiles["data"][1], frozenset(ms.not_features))
    if not reference.features:
        raise DataError(
            "the reference profile holds only identifier columns "
            f"{sorted(profiles['data'][1].features)}; set a new reference with "
            "`lifecycle reference set`"
        )
    data, rolled = _fresh_summary(engine, settings, model, since, until, reference, "data")
    if not data.hours:
        return {}, {}, {}
    reports = {"data": check_summaries(reference, data.features, policy,
                                       kind="data", importances=importances)}
    skipped: dict[str, str] = {}

    def check_prediction(profile: ReferenceProfile) -> DriftReport:
        pred, _ = _fresh_summary(engine, settings, model, since, until, profile, "prediction")
        return check_summaries(profile, pred.features, policy, kind="prediction")

    prediction_drift(ms.drift.prediction_drift, profiles, check_prediction, reports, skipped)
    path = {
        "path": ROLLUP,
        "path_reason": choice.reason,
        "hours": len(data.hours),
        "hours_rolled_up_now": rolled,
        "rank_error": data.rank_error,
        "exact_bins": not data.other_reference_hours,
        "whole_hours": len(hours_in(since, until)),
        # hours with served traffic that still have no usable profile after the rollup
        # above (e.g. rows arrived meanwhile): the report covers fewer rows than the window
        "missing_hours": [h.isoformat() for h in data.missing_hours],
        "rows_counted": data.n_rows,
        "rows_served": choice.n_rows,
    }
    return reports, skipped, path

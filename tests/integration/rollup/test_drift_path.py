"""The drift job picks its path per window: exact from the rows, or from the hourly rollups.

Same logged data checked both ways must flag the same features; the stored report says which
path ran and why; hours without a profile are rolled up by the check itself; a forced rollup
path on a window that is not on whole hours is refused with the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _rollup_data import HOUR, T0, frame, settings_for, write_hour
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.errors import DataError
from lifecycle.jobs.drift import run_drift_check_all
from lifecycle.reference import set_reference
from lifecycle.rollup.run import hours_in, rollup_hours
from lifecycle.storage.tables import DriftReportRow, WindowProfile

HOURS = 4
ROWS = 6_000


def _log(engine: Engine, tmp_path: Path, db_url: str, drift_body: str) -> None:
    settings = settings_for(tmp_path, db_url, drift_body)
    rng = np.random.default_rng(7)
    set_reference(engine, settings.model("m"), frame(rng, 20_000), kinds=("data",), now=T0)
    for h in range(HOURS):
        write_hour(engine, "m", T0 + h * HOUR, frame(rng, ROWS, shift=0.5 if h >= 2 else 0.0))


def _flags(result: object) -> set[str]:
    report = result.reports["data"]  # type: ignore[attr-defined]
    return {f.feature for f in report.features if f.verdict == "drift"}


def test_auto_path_uses_rollups_for_large_windows_and_agrees_with_exact(
        engine: Engine, db_url: str, tmp_path: Path) -> None:
    exact_settings = settings_for(tmp_path, db_url, "[models.m.drift]\npath = 'exact'\n")
    _log(engine, tmp_path, db_url, "")
    end = T0 + HOURS * HOUR
    exact = run_drift_check_all(engine, exact_settings, "m", T0, end)
    assert exact.path["path"] == "exact"

    auto = settings_for(tmp_path, db_url, "[models.m.drift]\nrollup_min_rows = 10000\n")
    rolled = run_drift_check_all(engine, auto, "m", T0, end)
    assert rolled.path["path"] == "rollup"
    assert "rollup_min_rows" in str(rolled.path["path_reason"])
    # no hour had a profile: the check rolled all of them up first
    assert rolled.path["hours_rolled_up_now"] == HOURS
    assert rolled.path["hours"] == HOURS
    assert rolled.path["missing_hours"] == []
    assert rolled.path["rows_counted"] == rolled.path["rows_served"] == HOURS * ROWS
    assert _flags(rolled) == _flags(exact) == {"x"}
    report = rolled.reports["data"]
    assert report.path == "rollup" and 0 < report.rank_error < 0.01
    assert report.features[0].n_current == exact.reports["data"].features[0].n_current
    with Session(engine) as session:
        n_profiles = len(session.scalars(select(WindowProfile.id)).all())
        stored = session.scalars(select(DriftReportRow).order_by(DriftReportRow.id)).all()
    assert n_profiles >= HOURS
    # same window re-checked: one report row, its summary names the path it took last
    assert len(stored) == 1 and stored[0].summary["path"] == "rollup"
    assert stored[0].summary["hours"] == HOURS

    again = run_drift_check_all(engine, auto, "m", T0, end)
    assert again.path["hours_rolled_up_now"] == 0  # profiles are reused, not rebuilt


def test_small_and_unaligned_windows_stay_exact(engine: Engine, db_url: str,
                                                tmp_path: Path) -> None:
    _log(engine, tmp_path, db_url, "")
    settings = settings_for(tmp_path, db_url, "[models.m.drift]\nrollup_min_rows = 10000\n")
    small = run_drift_check_all(engine, settings, "m", T0, T0 + HOUR)
    assert small.path["path"] == "exact" and "<= rollup_min_rows" in small.path["path_reason"]
    odd = run_drift_check_all(engine, settings, "m", T0 + HOUR / 2, T0 + HOURS * HOUR)
    assert odd.path["path"] == "exact" and "whole hours" in odd.path["path_reason"]


def test_forced_rollup_path_needs_whole_hours(engine: Engine, db_url: str,
                                             tmp_path: Path) -> None:
    _log(engine, tmp_path, db_url, "")
    settings = settings_for(tmp_path, db_url, "[models.m.drift]\npath = 'rollup'\n")
    with pytest.raises(DataError, match="whole hours"):
        run_drift_check_all(engine, settings, "m", T0 + HOUR / 2, T0 + HOURS * HOUR)
    rollup_hours(engine, settings, "m", hours_in(T0, T0 + HOURS * HOUR))
    forced = run_drift_check_all(engine, settings, "m", T0, T0 + HOURS * HOUR)
    assert forced.path["path"] == "rollup" and forced.path["hours_rolled_up_now"] == 0
    assert _flags(forced) == {"x"}


def test_unknown_path_is_refused_with_the_choices(tmp_path: Path) -> None:
    from lifecycle.errors import ConfigError

    with pytest.raises(ConfigError, match="auto, exact, rollup|auto.*exact.*rollup"):
        settings_for(tmp_path, "sqlite:///x.db", "[models.m.drift]\npath = 'rollups'\n")


def test_the_command_warns_when_hours_stay_without_a_rollup() -> None:
    from lifecycle.cli.drift import _path_line

    line = _path_line({"path": "rollup", "hours": 3, "rank_error": 0.004, "path_reason": "r",
                       "missing_hours": ["2026-03-01T03:00:00+00:00"], "rows_counted": 18000,
                       "rows_served": 24000})
    assert "WARNING: 1 hour(s) with traffic have no usable rollup" in line
    assert "18000 of 24000 served rows checked" in line
    assert "WARNING" not in _path_line({"path": "rollup", "hours": 4, "missing_hours": []})

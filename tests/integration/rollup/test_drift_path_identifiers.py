"""The rollup path compares the same features as the exact path: a reference profile that
still holds a column the settings now call an identifier is checked without it both ways."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _rollup_data import HOUR, T0, frame, settings_for, write_hour
from sqlalchemy import Engine

from lifecycle.jobs.drift import run_drift_check_all
from lifecycle.reference import set_reference

HOURS = 3
ROWS = 5_000


def test_identifier_named_after_the_reference_is_dropped_on_the_rollup_path(
        engine: Engine, db_url: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    plain = settings_for(tmp_path, db_url)
    set_reference(engine, plain.model("m"), frame(rng, 20_000), kinds=("data",), now=T0)
    for h in range(HOURS):
        write_hour(engine, "m", T0 + h * HOUR, frame(rng, ROWS, shift=0.5))
    end = T0 + HOURS * HOUR
    body = 'identifier_columns = ["y"]\n[models.m.drift]\n'
    exact = run_drift_check_all(engine, settings_for(tmp_path, db_url, body + "path = 'exact'\n"),
                                "m", T0, end)
    forced = settings_for(tmp_path, db_url, body + "path = 'rollup'\n")
    rolled = run_drift_check_all(engine, forced, "m", T0, end)
    assert not exact.empty and not rolled.empty
    assert rolled.path["path"] == "rollup"
    names = {f.feature for f in rolled.reports["data"].features}
    assert names == {f.feature for f in exact.reports["data"].features} == {"x", "plan"}
    assert rolled.path["hours"] == HOURS
    # the hours were rolled up against the profile the check compares with: exact bins,
    # and a second check reuses them instead of rolling every hour up again
    assert rolled.path["exact_bins"] is True
    again = run_drift_check_all(engine, forced, "m", T0, end)
    assert again.path["hours_rolled_up_now"] == 0
    assert {f.feature for f in again.reports["data"].features if f.verdict == "drift"} == {
        f.feature for f in exact.reports["data"].features if f.verdict == "drift"}

"""The drift check's rollup path with ``[compute] dask_scheduler`` set: the hours that lack a
profile are rolled up on a real 2-worker ``distributed.LocalCluster`` (workers read the
batches from the database themselves), and the report flags what the exact path flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _rollup_data import HOUR, T0, frame, settings_for, write_hour
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lifecycle.compute.partitions import dispose_worker_engines
from lifecycle.config import load_settings
from lifecycle.jobs.drift import run_drift_check_all
from lifecycle.reference import set_reference
from lifecycle.storage.tables import WindowProfile

pytestmark = pytest.mark.slow
HOURS = 4


def test_missing_hours_are_rolled_up_on_the_cluster(engine: Engine, db_url: str,
                                                    tmp_path: Path, cluster: Any) -> None:
    rng = np.random.default_rng(11)
    base = settings_for(tmp_path, db_url)
    set_reference(engine, base.model("m"), frame(rng, 20_000), kinds=("data",), now=T0)
    for h in range(HOURS):
        write_hour(engine, "m", T0 + h * HOUR, frame(rng, 5_000, shift=0.5 if h else 0.0))
    end = T0 + HOURS * HOUR
    exact = run_drift_check_all(
        engine, settings_for(tmp_path, db_url, "[models.m.drift]\npath = 'exact'\n"),
        "m", T0, end)
    path = tmp_path / "lifecycle.toml"  # [compute] is top-level: before the model's tables
    path.write_text(f'database_url = "{db_url}"\nhome = "{tmp_path / "home"}"\n'
                    f"[compute]\ndask_scheduler = '{cluster.scheduler_address}'\n"
                    '[models.m]\ntask = "classification"\n'
                    "[models.m.drift]\npath = 'rollup'\n")
    on_cluster = load_settings(path, env={}, cwd=tmp_path)
    assert on_cluster.compute.dask_scheduler == cluster.scheduler_address
    try:
        rolled = run_drift_check_all(engine, on_cluster, "m", T0, end)
    finally:
        dispose_worker_engines()
    assert rolled.path["path"] == "rollup" and rolled.path["hours_rolled_up_now"] == HOURS
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(WindowProfile)
                                .where(WindowProfile.kind == "data"))
    assert stored == HOURS
    flagged = {f.feature for f in rolled.reports["data"].features if f.verdict == "drift"}
    assert flagged == {f.feature for f in exact.reports["data"].features
                       if f.verdict == "drift"} == {"x"}

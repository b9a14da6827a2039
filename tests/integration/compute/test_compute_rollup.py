"""The rollup backfill on a real 2-worker LocalCluster: ``rollup_hours(..., mapper=
executor.map)`` stores the same hourly rows as the in-process rollup, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _compute_data import T0, write_known_window
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from lifecycle.compute.executor import DaskExecutor, LocalExecutor
from lifecycle.config import Settings, load_settings
from lifecycle.rollup.hourly import unpack_sketches
from lifecycle.rollup.run import hours_in, rollup_hours
from lifecycle.rollup.sketches import kll_from_bytes
from lifecycle.storage.profile_repo import ProfileRow, load_profiles
from lifecycle.storage.tables import WindowProfile

pytestmark = pytest.mark.slow
END = T0 + timedelta(hours=7)
NOW = T0 + timedelta(days=1)  # labels received by then; the same "as of" for every run


def _settings(tmp_path: Path, url: str) -> Settings:
    path = tmp_path / "lifecycle.toml"
    path.write_text(f'database_url = "{url}"\nhome = "{tmp_path / "home"}"\n'
                    '[models.m]\ntask = "classification"\ncategorical = ["c"]\n')
    return load_settings(path, env={}, cwd=tmp_path)


def _stored(engine: Engine) -> dict[str, list[ProfileRow]]:
    with Session(engine) as session:
        return {kind: load_profiles(session, 1, kind, T0, END)
                for kind in ("data", "prediction", "label")}


def _clear(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(WindowProfile))


def test_the_cluster_rolls_up_the_same_rows(db_url: str, cluster: Any, tmp_path: Path,
                                            engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    write_known_window(engine)
    settings = _settings(tmp_path, db_url)
    hours = hours_in(T0, END)
    local = rollup_hours(engine, settings, "m", hours, now=NOW)
    expected = _stored(engine)
    assert local.n_rows == 12 * 500 * 9 // 10 and len(expected["data"]) == 6
    for mapper_of in (lambda: DaskExecutor(cluster.scheduler_address), lambda: LocalExecutor(2)):
        _clear(engine)
        assert _stored(engine)["data"] == []
        with mapper_of() as ex:
            result = rollup_hours(engine, settings, "m", hours, mapper=ex.map, now=NOW)
        assert (result.hours_done, result.empty_hours, result.n_rows) == (
            local.hours_done, local.empty_hours, local.n_rows)
        got = _stored(engine)
        for kind, rows in expected.items():
            assert [(r.hour_start, r.n_rows, r.reference_digest, r.format, r.summary)
                    for r in got[kind]] == [
                (r.hour_start, r.n_rows, r.reference_digest, r.format, r.summary)
                for r in rows], kind
            for a, b in zip(got[kind], rows, strict=True):
                _same_sketches(unpack_sketches(a.sketches), unpack_sketches(b.sketches))


def _same_sketches(got: dict[str, bytes], expected: dict[str, bytes]) -> None:
    """The same features; KLL sketches (randomised compaction: bytes differ run to run) with
    the same count, exact min and max, and ranks within twice the sketch's error bound."""
    assert got.keys() == expected.keys()
    for name, blob in expected.items():
        if blob == got[name]:
            continue
        a, b = kll_from_bytes(got[name]), kll_from_bytes(blob)
        assert (a.n, a.get_min_value(), a.get_max_value()) == (
            b.n, b.get_min_value(), b.get_max_value()), name
        probes = [b.get_quantile(q) for q in (0.1, 0.25, 0.5, 0.75, 0.9)]
        bound = 2 * b.normalized_rank_error(False)
        for x in probes:
            assert abs(a.get_rank(x) - b.get_rank(x)) <= bound, name


def test_the_backfill_command_runs_on_the_configured_cluster(
        sqlite_url: str, cluster: Any, tmp_path: Path,
        engine_for: Callable[[str], Engine]) -> None:
    from click.testing import CliRunner

    from lifecycle.cli import main

    engine = engine_for(sqlite_url)
    write_known_window(engine)
    _settings(tmp_path, sqlite_url)
    env = {"LIFECYCLE_CONFIG": str(tmp_path / "lifecycle.toml"),
           "LIFECYCLE_DASK_SCHEDULER": cluster.scheduler_address}
    result = CliRunner().invoke(main, ["rollup", "run", "m", "--since", T0.isoformat(),
                                       "--until", END.isoformat()], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert f"rolling up 7 hour(s) on {cluster.scheduler_address}" in result.stdout
    assert "6 hour(s) rolled up, 1 without served rows; 5400 rows" in result.stdout
    assert len(_stored(engine)["data"]) == 6

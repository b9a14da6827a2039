"""The ``rollup`` job through the real runner (leases, job_runs), and ``lifecycle rollup run``
as typed, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _rollup_data import HOUR, T0, frame, settings_for, write_hour
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.jobs.runner import run_window
from lifecycle.storage.tables import JobRun, WindowProfile

SCHEDULE = '[models.m.schedule.rollup]\nevery = "1h"\ndelay = "5m"\n'


def _profiles(engine: Engine) -> list[tuple[object, str, int]]:
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(
            select(WindowProfile.hour_start, WindowProfile.kind, WindowProfile.n_rows)
            .order_by(WindowProfile.hour_start, WindowProfile.kind)).all()]


def test_the_job_rolls_up_its_hours_through_the_runner(db_url: str, engine: Engine,
                                                       tmp_path: Path) -> None:
    settings = settings_for(tmp_path, db_url, SCHEDULE)
    rng = np.random.default_rng(0)
    write_hour(engine, "m", T0, frame(rng, 700))
    write_hour(engine, "m", T0 + HOUR, frame(rng, 300))

    result = run_window("rollup", engine, settings, "m", T0, T0 + 2 * HOUR,
                        clock=lambda: T0 + 3 * HOUR)
    assert result.status == "done" and result.error is None
    assert _profiles(engine) == [(T0, "data", 700), (T0, "prediction", 700),
                                 (T0 + HOUR, "data", 300), (T0 + HOUR, "prediction", 300)]
    again = run_window("rollup", engine, settings, "m", T0, T0 + 2 * HOUR,
                       clock=lambda: T0 + 4 * HOUR)
    assert again.status == "skipped" and len(_profiles(engine)) == 4

    empty = run_window("rollup", engine, settings, "m", T0 + 5 * HOUR, T0 + 6 * HOUR,
                       clock=lambda: T0 + 7 * HOUR)
    assert empty.status == "empty"
    with Session(engine) as session:
        statuses = sorted(session.scalars(select(JobRun.status)).all())
        assert session.scalar(select(func.count()).select_from(WindowProfile)) == 4
    assert statuses == ["done", "empty"]


def _cli(args: list[str], config: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args],
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_backfills_a_range_and_refuses_bad_input(db_url: str, engine: Engine,
                                                     tmp_path: Path) -> None:
    settings_for(tmp_path, db_url)
    config = tmp_path / "lifecycle.toml"
    rng = np.random.default_rng(1)
    for i in range(3):
        write_hour(engine, "m", T0 + i * HOUR, frame(rng, 200))

    code, out, err = _cli(["rollup", "run", "m", "--since", "2026-03-01T00:00:00Z",
                           "--until", "2026-03-01T04:00:00Z"], config)
    assert code == 0, err
    assert "3 hour(s) rolled up, 1 without served rows; 600 rows" in out
    assert len(_profiles(engine)) == 6

    code, out, err = _cli(["rollup", "run", "mm", "--since", "2026-03-01T00:00:00Z",
                           "--until", "2026-03-01T04:00:00Z"], config)
    assert code == 2 and "unknown model 'mm'" in err and "'m'" in err

    code, out, err = _cli(["rollup", "run", "m", "--since", "2026-03-01T00:00:00",
                           "--until", "2026-03-01T04:00:00Z"], config)
    assert code == 2 and "no UTC offset" in err and "--since" in err

    code, out, err = _cli(["rollup", "run", "m", "--since", "2026-03-01T04:00:00Z",
                           "--until", "2026-03-01T04:00:00Z"], config)
    assert code == 2 and "must be before --until" in err

    code, out, err = _cli(["rollup", "run", "m", "--since", "2026-03-02T00:00:00Z",
                           "--until", "2026-03-02T01:00:00Z"], config)
    assert code == 2 and "no served predictions of m" in err
    assert len(_profiles(engine)) == 6


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z"])
def test_cli_names_a_time_it_cannot_read(value: str, sqlite_url: str, tmp_path: Path) -> None:
    settings_for(tmp_path, sqlite_url)
    code, _, err = _cli(["rollup", "run", "m", "--since", value, "--until",
                         "2026-03-01T04:00:00Z"], tmp_path / "lifecycle.toml")
    assert code == 2 and "not an ISO-8601 time" in err


def test_hours_run_in_worker_processes_through_a_mapper(db_url: str, engine: Engine,
                                                        tmp_path: Path) -> None:
    """``rollup_hour`` travels to other processes (pickled with its plan) and gives the
    same profiles as the in-process run."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from lifecycle.rollup.run import hours_in, rollup_hours

    settings = settings_for(tmp_path, db_url)
    rng = np.random.default_rng(5)
    for i in range(3):
        write_hour(engine, "m", T0 + i * HOUR, frame(rng, 400 + 100 * i))
    hours = hours_in(T0, T0 + 3 * HOUR)
    local = rollup_hours(engine, settings, "m", hours)
    expected = _summaries(engine)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = rollup_hours(engine, settings, "m", hours,
                              mapper=lambda fn, xs: list(pool.map(fn, xs)))
    assert remote.n_rows == local.n_rows == 1500
    assert remote.hours_done == local.hours_done == tuple(hours)
    assert _summaries(engine) == expected


def _summaries(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(
            select(WindowProfile.hour_start, WindowProfile.kind, WindowProfile.n_rows,
                   WindowProfile.summary)
            .order_by(WindowProfile.hour_start, WindowProfile.kind)).all()]

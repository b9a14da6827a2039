"""APScheduler wiring on our job store: stable ids, config changes replace jobs, stale jobs
removed, no CREATE TABLE from APScheduler, clean in-process stop; the CLI commands."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, inspect, select

from lifecycle.cli import main
from lifecycle.config import Settings
from lifecycle.jobs.plan import build_plan
from lifecycle.scheduler import (
    LifecycleJobStore,
    build_scheduler,
    register_jobs,
    run_scheduler,
    sync_jobs,
)
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import apscheduler_jobs
from tests.integration.scheduler import jobfns

REC = '[scheduler.jobs]\nrec = "tests.integration.scheduler.jobfns:record"\n'


def sync(engine: Engine, settings: Settings, models: list[str] | None = None
         ) -> dict[str, object]:
    """What ``run_scheduler`` does at start, without running anything."""
    scheduler = build_scheduler(engine, settings)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, build_plan(settings, only_models=models),
                  build_plan(settings, scoped=False))
        return {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


def test_stable_ids_config_change_replaces_and_removes_jobs(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    first = make_settings(db_url, REC + """
[scheduler]
misfire_grace_time_s = 120
[models.a.schedule.rec]
every = "1h"
[models.b.schedule.rec]
cron = "5 * * * *"
window = "1h"
""")
    jobs = sync(engine, first)
    assert sorted(jobs) == ["rec:a", "rec:b"]
    job = jobs["rec:a"]
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 120)  # type: ignore[attr-defined]
    assert job.func_ref == "lifecycle.jobs.tick:tick" and job.args == ("rec", "a")  # type: ignore[attr-defined]
    again = sync(engine, first)  # a restart with the same config: no duplicates
    assert sorted(again) == ["rec:a", "rec:b"]
    second = make_settings(db_url, REC + """
[models.a.schedule.rec]
every = "2h"
[models.c.schedule.rec]
every = "1h"
""")
    jobs = sync(engine, second)
    assert sorted(jobs) == ["rec:a", "rec:c"]
    assert jobs["rec:a"].trigger.interval == timedelta(hours=2)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(apscheduler_jobs)).scalar() == 2


def test_processes_with_different_model_scopes_keep_each_others_jobs(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, REC + """
[models.a.schedule.rec]
every = "1h"
[models.b.schedule.rec]
every = "1h"
""")
    assert sorted(sync(engine, settings, ["a"])) == ["rec:a"]
    assert sorted(sync(engine, settings, ["b"])) == ["rec:a", "rec:b"]  # a's job survives


def test_job_store_never_creates_tables(empty_sqlite_url: str) -> None:
    engine = make_engine(empty_sqlite_url)
    try:
        from apscheduler.schedulers.background import BackgroundScheduler

        LifecycleJobStore(engine).start(BackgroundScheduler(), "default")
        assert not inspect(engine).has_table("apscheduler_jobs")
    finally:
        engine.dispose()


def test_run_scheduler_in_process_until_stopped(
    sqlite_url: str, engine_for: Callable[[str], Engine],
    make_settings: Callable[..., Settings],
) -> None:
    engine = engine_for(sqlite_url)
    jobfns.create_table(engine)
    settings = make_settings(sqlite_url, REC + '[models.a.schedule.rec]\nevery = "1s"\n')
    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(engine, settings),
                              kwargs={"stop": stop})
    thread.start()
    try:
        deadline = threading.Event()
        for _ in range(150):
            with engine.connect() as conn:
                n = conn.execute(select(func.count()).select_from(jobfns.runs)).scalar()
            if n and n >= 2:
                break
            deadline.wait(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert n is not None and n >= 2


@pytest.fixture
def cli_env(sqlite_url: str, make_settings: Callable[..., Settings],
            monkeypatch: pytest.MonkeyPatch, engine_for: Callable[[str], Engine]) -> Path:
    jobfns.create_table(engine_for(sqlite_url))
    settings = make_settings(sqlite_url, REC + """
[models.good.schedule.rec]
every = "1h"
[models.broken.schedule.rec]
every = "1h"
""")
    assert settings.config_path is not None
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(settings.config_path))
    return settings.config_path


def test_cli_once_then_jobs_listing(cli_env: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["scheduler", "run", "--once"])
    assert out.exit_code == 2, out.output  # the broken model failed (an error, not a verdict)
    assert "good" in out.output and "done" in out.output and "failed" in out.output
    out = runner.invoke(main, ["scheduler", "run", "--once", "--model", "good"])
    assert out.exit_code == 0 and "nothing due" in out.output
    out = runner.invoke(main, ["jobs"])
    assert out.exit_code == 0 and "rec" in out.output and "duration_s" in out.output
    out = runner.invoke(main, ["jobs", "--status", "failed", "--traceback"])
    assert out.exit_code == 0 and "RuntimeError: boom" in out.output and "Traceback" in out.output
    assert "good" not in out.output


@pytest.mark.parametrize(("extra", "args", "needle"), [
    ("", ["--model", "ghost"], "--model names unknown model(s) ghost"),
    ('[models.x.schedule.rec]\ncron = "99 * * * *"\nwindow = "1h"\n', [],
     "models.x.schedule.rec.cron"),
    ('[models.x.schedule.nope]\nevery = "1h"\n', [], "models.x.schedule.nope: unknown job kind"),
    ('[scheduler]\nwebhook_url = "https//broken"\n', [], "scheduler.webhook_url"),
])
def test_cli_bad_config_fails_at_start_naming_the_key(
    cli_env: Path, extra: str, args: list[str], needle: str
) -> None:
    cli_env.write_text(cli_env.read_text() + extra)
    out = CliRunner().invoke(main, ["scheduler", "run", *args])
    assert out.exit_code == 2, out.output
    assert needle in out.output


def test_job_store_tolerates_another_process_removing_a_job(
    sqlite_url: str, engine_for: Callable[[str], Engine],
    make_settings: Callable[..., Settings],
) -> None:
    engine = engine_for(sqlite_url)
    settings = make_settings(sqlite_url, REC + '[models.a.schedule.rec]\nevery = "1h"\n')
    scheduler = build_scheduler(engine, settings)
    register_jobs(scheduler, build_plan(settings))
    scheduler.start(paused=True)
    try:
        store = scheduler._lookup_jobstore("default")
        [job] = store.get_all_jobs()
        with engine.begin() as conn:  # what another process's reconciliation does
            conn.execute(apscheduler_jobs.delete())
        store.update_job(job)  # APScheduler would crash its loop on JobLookupError
        assert store.get_all_jobs() == []
    finally:
        scheduler.shutdown(wait=False)
    with engine.connect() as conn:  # the shared engine was not disposed by the store
        assert conn.execute(select(func.count()).select_from(apscheduler_jobs)).scalar() == 0

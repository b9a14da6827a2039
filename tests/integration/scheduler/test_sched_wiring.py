"""APScheduler wiring: jobs rebuilt from settings in an in-memory store (nothing pickled in the
database), stable ids, the request poll, clean in-process stop; the CLI commands."""

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
from lifecycle.jobs.queue import RETRAIN, enqueue
from lifecycle.jobs.scheduler import (
    build_scheduler,
    register_jobs,
    register_request_poll,
    run_scheduler,
)
from lifecycle.storage.migrate import downgrade, upgrade
from lifecycle.storage.tables import JobRequest
from lifecycle.storage.types import utcnow
from lifecycle.windows import latest_closed
from tests.integration.scheduler import jobfns

REC = '[scheduler.jobs]\nrec = "tests.integration.scheduler.jobfns:record"\n'


def sync(settings: Settings, models: list[str] | None = None) -> dict[str, object]:
    """What ``run_scheduler`` does at start, without running anything."""
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    try:
        register_jobs(scheduler, build_plan(settings, only_models=models))
        register_request_poll(scheduler, settings)
        return {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


def test_jobs_are_rebuilt_from_settings_at_each_start_and_never_stored(
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
    jobs = sync(first)
    assert sorted(jobs) == ["rec:a", "rec:b", "requests"]
    job = jobs["rec:a"]
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 120)  # type: ignore[attr-defined]
    assert job.func_ref == "lifecycle.jobs.tick:tick" and job.args == ("rec", "a")  # type: ignore[attr-defined]
    poll = jobs["requests"]
    assert poll.func_ref == "lifecycle.jobs.tick:poll_requests"  # type: ignore[attr-defined]
    assert poll.trigger.interval == timedelta(seconds=5)  # type: ignore[attr-defined]
    again = sync(first)  # a restart with the same config: no duplicates
    assert sorted(again) == ["rec:a", "rec:b", "requests"]
    second = make_settings(db_url, REC + """
[models.a.schedule.rec]
every = "2h"
[models.c.schedule.rec]
every = "1h"
""")
    jobs = sync(second)
    assert sorted(jobs) == ["rec:a", "rec:c", "requests"]
    assert jobs["rec:a"].trigger.interval == timedelta(hours=2)  # type: ignore[attr-defined]
    tables = set(inspect(engine).get_table_names())
    assert "apscheduler_jobs" not in tables and "job_requests" in tables


def test_revision_0004_drops_the_pickled_job_table_and_downgrade_restores_it(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    engine = engine_for(blank_url)
    upgrade(blank_url, "0003")
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    upgrade(blank_url)
    engine.dispose()
    tables = set(inspect(engine).get_table_names())
    assert "apscheduler_jobs" not in tables and "job_requests" in tables
    downgrade(blank_url, "0003")
    engine.dispose()
    tables = set(inspect(engine).get_table_names())
    assert "apscheduler_jobs" in tables and "job_requests" not in tables


def test_processes_with_different_model_scopes_register_their_own_jobs(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, REC + """
[models.a.schedule.rec]
every = "1h"
[models.b.schedule.rec]
every = "1h"
""")
    assert sorted(sync(settings, ["a"])) == ["rec:a", "requests"]
    assert sorted(sync(settings, ["b"])) == ["rec:b", "requests"]


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


def test_cli_once_runs_queued_requests_of_its_scope(cli_env: Path, sqlite_url: str,
                                                      engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(sqlite_url)
    runner = CliRunner()
    assert runner.invoke(main, ["jobs", "--requests"]).output.strip() == "no queued requests"
    now = utcnow()
    window = latest_closed(now - timedelta(days=2), timedelta(hours=1))
    for model in ("good", "broken"):
        enqueue(engine, "rec", model, requested_by="dashboard:alice", now=now, window=window)
    out = runner.invoke(main, ["jobs", "--requests"])
    assert out.exit_code == 0 and out.output.count("pending") == 2, out.output
    out = runner.invoke(main, ["scheduler", "run", "--once", "--model", "good"])
    assert out.exit_code in (0, 1), out.output
    out = runner.invoke(main, ["jobs", "--requests"])
    status = {line.split()[2]: line.split() for line in out.output.splitlines()[1:]}
    assert "done" in status["good"] and "pending" in status["broken"], out.output


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


def test_run_scheduler_runs_queued_requests_off_the_asking_process(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(db_url, f"""
[scheduler]
request_poll_seconds = 0.2
retrain_function = "{jobfns.__name__}:retrain_hook"
""")
    jobfns.CALLS.clear()
    queued = enqueue(engine, RETRAIN, "churn", requested_by="test", now=utcnow(),
                     details={"alert_id": 7})
    assert queued.created and jobfns.CALLS == []  # asking runs nothing
    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(engine, settings),
                              kwargs={"stop": stop})
    thread.start()
    try:
        for _ in range(150):
            with engine.connect() as conn:
                status = conn.execute(select(JobRequest.status)).scalar_one()
            if status == "done":
                break
            threading.Event().wait(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert status == "done" and jobfns.CALLS == [("churn", 7)]

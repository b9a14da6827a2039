"""What the retention job keeps and prunes: job runs past job_runs_days, final leases past
their horizon (never a running or retry-due lease, nor anything from the oldest unfinished
window on), labels of archived predictions (accepted and still joined); the CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from _retention_log import DAY0, MODEL, NOW, make_log, settings_for
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from lifecycle.capture.monitor import log_outcomes
from lifecycle.cli import main
from lifecycle.jobs.retention import run_retention
from lifecycle.states import DONE, FAILED, RUNNING
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.tables import JobLease, JobRun

OLD = NOW - timedelta(days=200)


def _lease(key: str, status: str, expires: object, retry: object = None,
           job: str = "drift") -> dict[str, object]:
    return dict(job_name=job, model_name=MODEL, window_key=key, owner="o", status=status,
                attempts=1, acquired_at=OLD, expires_at=expires, next_attempt_at=retry)


def test_prunes_old_runs_and_final_leases_only(engine: Engine, tmp_path: Path) -> None:
    make_log(engine)
    with engine.begin() as conn:
        conn.execute(JobRun.__table__.insert(), [
            dict(job_name="drift", model_name=MODEL, status=DONE, owner="o", started_at=OLD,
                 result={}),
            dict(job_name="drift", model_name=MODEL, status=DONE, owner="o",
                 started_at=NOW - timedelta(days=1), result={}),
            dict(job_name="drift", model_name="other", status=DONE, owner="o", started_at=OLD,
                 result={}),
        ])
        conn.execute(JobLease.__table__.insert(), [
            _lease("2025-09-01T00:00:00Z/3600s", DONE, OLD),             # pruned
            _lease("2025-09-01T01:00:00Z/3600s", FAILED, OLD),           # gave up: pruned
            _lease("2025-09-02T00:00:00Z/3600s", RUNNING, OLD),          # expired: kept
            _lease("2025-09-03T00:00:00Z/3600s", DONE, OLD),             # after it: kept
            _lease("2025-08-01T00:00:00Z/86400s", FAILED, OLD, job="perf",
                   retry=NOW + timedelta(hours=1)),                       # retry due: kept
            _lease("2026-03-06T00:00:00Z/3600s", DONE, NOW - timedelta(days=1)),  # recent
        ])
    result = run_retention(engine, settings_for(tmp_path, str(tmp_path / "a")), MODEL,
                           NOW, NOW, now=NOW)
    assert (result.job_runs_pruned, result.leases_pruned) == (1, 2)
    with engine.connect() as conn:
        runs = conn.execute(select(JobRun.model_name, JobRun.started_at)).all()
        keys = set(conn.execute(select(JobLease.window_key)).scalars())
    assert len(runs) == 2 and ("other", OLD) in [(m, s) for m, s in runs]
    assert keys == {"2025-09-02T00:00:00Z/3600s", "2025-09-03T00:00:00Z/3600s",
                    "2025-08-01T00:00:00Z/86400s", "2026-03-06T00:00:00Z/3600s"}


def test_labels_for_archived_predictions_are_accepted_and_join(
        db_url: str, engine: Engine, tmp_path: Path) -> None:
    batches = make_log(engine)
    run_retention(engine, settings_for(tmp_path, str(tmp_path / "a")), MODEL, NOW, NOW,
                  now=NOW)
    key = batches[0].outputs().column("_join_key")[5].as_py()  # day 0: archived
    late = NOW + timedelta(hours=2)
    assert log_outcomes(MODEL, [key], [1], received_at=late, database_url=db_url) == 1
    window = load_labelled_window(engine, MODEL, DAY0, DAY0 + timedelta(days=1),
                                  as_of=late + timedelta(seconds=1))
    row = window.frame[window.frame["join_key"] == key]
    assert row["has_label"].tolist() == [True] and row["label"].tolist() == [1]
    # the orphan count searches only the hot key table: it says up to when rows are archived
    summary = window.coverage_summary()
    assert summary["orphans_archived_until"] is not None
    assert summary["orphans_archived_until"] < NOW.isoformat()
    from lifecycle.cli.performance import _orphans_text

    assert "not in the hot log" in _orphans_text(summary)
    assert "are not searched" in _orphans_text(summary)


def test_cli_status_and_run(db_url: str, engine: Engine, tmp_path: Path) -> None:
    make_log(engine)
    env = {"LIFECYCLE_DATABASE_URL": db_url, "LIFECYCLE_HOME": str(tmp_path),
           "LIFECYCLE_ARCHIVE_URL": str(tmp_path / "arch"), "LIFECYCLE_CONFIG": ""}
    (tmp_path / "lifecycle.toml").write_text("[retention]\nhot_days = 1\n")
    env["LIFECYCLE_CONFIG"] = str(tmp_path / "lifecycle.toml")
    runner = CliRunner()
    out = runner.invoke(main, ["retention", "status"], env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.stderr
    assert "no archived day yet" in out.stdout and str(tmp_path / "arch") in out.stdout
    dry = runner.invoke(main, ["retention", "run", "--dry-run", "--model", MODEL], env=env,
                        catch_exceptions=False)
    assert dry.exit_code == 0 and "dry run" in dry.stdout
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(JobRun)).scalar() == 0
    # every day of the log is older than one day today: the whole log is archived
    ran = runner.invoke(main, ["retention", "run"], env=env, catch_exceptions=False)
    assert ran.exit_code == 0, ran.stderr
    status = runner.invoke(main, ["retention", "status", "--model", MODEL], env=env,
                           catch_exceptions=False)
    assert "2026-03-01" in status.stdout and "deleted" in status.stdout
    last = status.stdout.strip().splitlines()[-1].split()
    assert last[0] == MODEL and last[1] == "0" and int(last[2]) > 0
    bad = runner.invoke(main, ["retention", "run", "--model", "nope"], env=env)
    assert bad.exit_code == 2 and "unknown model 'nope'" in bad.stderr


def test_first_run_lease_kept_until_its_last_rerun(engine: Engine, tmp_path: Path) -> None:
    """A done performance window's lease is what schedules its late-label re-runs
    (jobs/reruns.py): with job_runs_days shorter than the last rerun_after offset, it must
    outlive that offset (plus the catch-up horizon), or the +3d and +7d re-runs never run."""
    from lifecycle.config import ModelSettings
    from lifecycle.config.retention import RetentionSettings
    from lifecycle.config.schedules import JobSchedule, ScheduleSettings

    make_log(engine)
    day = timedelta(days=1)
    window_end = NOW - 4 * day  # its +7d re-run is due in three days
    key = f"{(window_end - day).strftime('%Y-%m-%dT%H:%M:%SZ')}/86400s"
    with engine.begin() as conn:
        conn.execute(JobLease.__table__.insert(), [
            _lease(key, DONE, window_end + timedelta(minutes=5), job="performance")])
    base = settings_for(tmp_path, str(tmp_path / "a"))
    schedule = ScheduleSettings(jobs={"performance": JobSchedule(
        "performance", window=day, every=day, catch_up=1)})
    settings = type(base)(**{**base.__dict__,
                             "retention": RetentionSettings(job_runs_days=1),
                             "models": {MODEL: ModelSettings(name=MODEL, schedule=schedule)}})
    assert settings.model(MODEL).performance.rerun_after[-1] == 7 * day
    result = run_retention(engine, settings, MODEL, NOW, NOW, now=NOW)
    assert result.leases_pruned == 0
    with engine.connect() as conn:
        assert list(conn.execute(select(JobLease.window_key)).scalars()) == [key]


def test_an_archive_url_with_credentials_is_never_printed(db_url: str, engine: Engine,
                                                          tmp_path: Path) -> None:
    from lifecycle.config import load_settings

    make_log(engine)
    secret_url = "memory://key:s3cr3t@bucket/archive"
    env = {"LIFECYCLE_DATABASE_URL": db_url, "LIFECYCLE_HOME": str(tmp_path),
           "LIFECYCLE_ARCHIVE_URL": secret_url, "LIFECYCLE_CONFIG": ""}
    out = CliRunner().invoke(main, ["retention", "status"], env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.stderr
    assert "s3cr3t" not in out.stdout and "memory://key:***@bucket/archive" in out.stdout
    settings = load_settings(env=env, cwd=tmp_path)
    assert settings.retention.archive_url == secret_url  # kept for use, hidden from repr
    assert "s3cr3t" not in repr(settings)

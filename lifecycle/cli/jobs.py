"""``lifecycle jobs``: recent scheduled (and manual) job runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine


@click.command("jobs")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--model", default=None, help="Only this model.")
@click.option("--status", default=None,
              type=click.Choice(["running", "done", "failed", "lost"]),
              help="Only runs with this status.")
@click.option("--traceback", "show_tb", is_flag=True,
              help="Print the traceback of each failed run listed.")
@click.option("--requests", "show_requests", is_flag=True,
              help="List queued requests (retrains, 'run now') instead of runs.")
@click.pass_context
def jobs_cmd(ctx: click.Context, limit: int, model: str | None, status: str | None,
             show_tb: bool, show_requests: bool) -> None:
    """List recent job runs with status, attempt, duration and error."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from lifecycle.storage.tables import JobRun

    engine = open_engine(get_settings(ctx))
    if show_requests:
        try:
            _echo_requests(engine, limit, model)
        finally:
            engine.dispose()
        return
    try:
        stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        if model:
            stmt = stmt.where(JobRun.model_name == model)
        if status:
            stmt = stmt.where(JobRun.status == status)
        with Session(engine) as session:
            runs = session.scalars(stmt).all()
            rows = [(r.id, r.job_name, r.model_name, r.window_start, r.window_end, r.status,
                     r.attempt, r.duration_s, r.started_at, (r.error or "")[:60] or None)
                    for r in runs]
            tracebacks = [(r.id, r.traceback) for r in runs if r.traceback]
    finally:
        engine.dispose()
    if not rows:
        click.echo("no job runs yet: start `lifecycle scheduler run`")
        return
    echo_table(("id", "job", "model", "window_start", "window_end", "status", "attempt",
                "duration_s", "started", "error"), rows)
    if show_tb:
        for run_id, tb in tracebacks:
            click.echo(f"\n--- run {run_id} ---\n{tb}")


def _echo_requests(engine: Engine, limit: int, model: str | None) -> None:
    from sqlalchemy import select

    from lifecycle.storage.tables import JobRequest

    stmt = select(JobRequest).order_by(JobRequest.id.desc()).limit(limit)
    if model:
        stmt = stmt.where(JobRequest.model_name == model)
    with engine.connect() as conn:
        rows = [(r.id, r.kind, r.model_name, r.window_start, r.status, r.requested_by,
                 r.requested_at, r.claimed_by, r.attempts, (r.error or "")[:60] or None)
                for r in conn.execute(stmt)]
    if not rows:
        click.echo("no queued requests")
        return
    echo_table(("id", "kind", "model", "window_start", "status", "requested_by", "requested",
                "claimed_by", "attempts", "error"), rows)


def register(main: click.Group) -> None:
    main.add_command(jobs_cmd)

"""``lifecycle scheduler run``: the scheduler process.

``--once`` exits 0 when every due window ran (or none was due) and 2 when a window failed:
a failed job is an error, and exit 1 is reserved for verdicts (drift, degraded).
"""

from __future__ import annotations

import logging

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine


@click.group("scheduler")
def scheduler_group() -> None:
    """Scheduled drift / performance checks with leases, retries and alerts."""


@scheduler_group.command("run")
@click.option("--once", is_flag=True,
              help="Run every due window once and exit (for cron or a one-off catch-up).")
@click.option("--model", "models", multiple=True,
              help="Only schedule this model (repeatable); default: all configured models.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.pass_context
def run_cmd(ctx: click.Context, once: bool, models: tuple[str, ...], log_level: str) -> None:
    """Run the scheduler until SIGINT/SIGTERM (several processes may share one database)."""
    from lifecycle.jobs.plan import build_plan
    from lifecycle.jobs.scheduler import run_scheduler

    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING,
                                              logging.getLevelName(log_level.upper())))
    settings = get_settings(ctx)
    build_plan(settings, only_models=models or None)  # fail on bad config before connecting
    engine = open_engine(settings)
    try:
        results = run_scheduler(engine, settings, once=once, models=models or None)
    finally:
        engine.dispose()
    if once:
        if not results:
            click.echo("nothing due")
            return
        echo_table(("job", "model", "window", "status", "attempt", "duration_s", "error"),
                   [(r.kind, r.model, r.window.key, r.status, r.attempt, r.duration_s,
                     (r.error or "")[:80] or None) for r in results])
        if any(r.status == "failed" for r in results):
            ctx.exit(2)


def register(main: click.Group) -> None:
    main.add_command(scheduler_group)

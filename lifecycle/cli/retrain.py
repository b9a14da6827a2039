"""``lifecycle retrain``: ask for a retrain (or check the trainers); ``lifecycle runs``: the
retrain history."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from lifecycle.cli._common import default_actor, echo_table, get_settings, open_engine

if TYPE_CHECKING:
    from lifecycle.config import Settings
    from lifecycle.storage.retrain_repo import RetrainRow


@click.command("retrain")
@click.argument("models", nargs=-1)
@click.option("--check", is_flag=True,
              help="Only import each trainer and data loader and check their signatures "
                   "(all configured models when none is named); nothing is trained.")
@click.option("--reason", default=None, help="Why (stored with the run and audited).")
@click.option("--wait", is_flag=True,
              help="Run it now in this process (or wait for the scheduler that took it) and "
                   "print the result; without it the retrain is only queued.")
@click.option("--force", is_flag=True, help="Ignore retrain_cooldown.")
@click.option("--timeout", type=click.FloatRange(min=1), default=None,
              help="With --wait: give up waiting for another process after this many seconds.")
@click.option("--actor", default=None, help="Who asks (default: the OS user).")
@click.pass_context
def retrain_cmd(ctx: click.Context, models: tuple[str, ...], check: bool, reason: str | None,
                wait: bool, force: bool, timeout: float | None, actor: str | None) -> None:
    """Retrain MODEL with its trainer ([models.MODEL.retrain]) into a new challenger version.

    Queued for a scheduler process (one retrain per model at a time, retrain_cooldown
    between two); --wait runs it here. Exit 0 when it was queued or finished (done or
    skipped for too few labelled rows), 2 when it failed or was refused.
    """
    settings = get_settings(ctx)
    if check:
        _check(settings, models)
        return
    if len(models) != 1:
        raise click.UsageError("name one model to retrain (or use --check)")
    from lifecycle.jobs.retrain_api import retrain

    engine = open_engine(settings)
    try:
        result = retrain(models[0], reason=reason, wait=wait, force=force,
                         actor=actor or default_actor(), settings=settings, engine=engine,
                         timeout=timeout)
    finally:
        engine.dispose()
    click.echo(result.request.message)
    if result.request.status == "cooldown":
        ctx.exit(2)
    if not wait:
        click.echo("a scheduler process runs it (`lifecycle scheduler run`); follow it with "
                   f"`lifecycle runs {models[0]}`, or pass --wait to run it here")
        return
    run = result.run
    if run is None:
        click.echo(f"request {result.request.request_id} {result.request_status}"
                   + (f": {result.request_error}" if result.request_error else ""))
        ctx.exit(2 if result.request_status == "failed" else 0)
    _print_run(run)
    if run.status == "failed":
        ctx.exit(2)


def _print_run(run: RetrainRow) -> None:
    click.echo(f"retrain {run.id} of {run.model}: {run.status}")
    if run.registered_version:
        click.echo(f"  version {run.registered_version} is now the challenger "
                   f"(MLflow run {run.mlflow_run_id}); champion: "
                   f"{run.champion_version or 'none'}")
    if run.n_rows is not None:
        details = run.details
        click.echo(f"  rows: {details.get('n_train', '?')} train, "
                   f"{details.get('n_holdout', '?')} holdout ({run.n_rows} total; window "
                   f"{details.get('window', {}).get('span', '?')})")
    for who in ("new", "champion"):
        values = run.metrics.get(who) or {}
        shown = ", ".join(f"{k} {_num(values[k])}" for k in HEADLINE if k in values)
        if shown:
            click.echo(f"  holdout, {who:<8}: {shown}")
    if run.error:
        click.echo(f"  {'reason' if run.status == 'skipped' else 'error'}: {run.error}")


#: Metrics printed after a retrain (``lifecycle runs --json`` has them all).
HEADLINE = ("accuracy", "f1", "roc_auc", "log_loss", "mae", "rmse", "mape")


def _num(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _check(settings: Settings, models: tuple[str, ...]) -> None:
    from lifecycle.training.trainer import check_trainers

    checks = check_trainers(settings, models or None)
    if not checks:
        raise click.ClickException(
            "no model has a trainer: set [models.NAME.retrain] trainer = "
            "'package.module:function' in lifecycle.toml (see docs/retraining.md)")
    for check in checks:
        click.echo(f"{'ok ' if check.ok else 'BAD'} {check.model}: {check.message}")
    if not all(c.ok for c in checks):
        raise click.ClickException("some trainers cannot be used; fix the lines marked BAD")


@click.command("runs")
@click.argument("model", required=False)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@click.pass_context
def runs_cmd(ctx: click.Context, model: str | None, limit: int, as_json: bool) -> None:
    """Retrain history (newest first): status, rows, holdout metrics, MLflow run, version."""
    from sqlalchemy.orm import Session

    from lifecycle.storage.models_repo import get_model
    from lifecycle.storage.retrain_repo import list_runs

    settings = get_settings(ctx)
    engine = open_engine(settings)
    try:
        if model and model not in settings.models:
            with Session(engine) as session:
                get_model(session, model)  # unknown: exit 2 naming close matches
        runs = list_runs(engine, model, limit=limit)
    finally:
        engine.dispose()
    if as_json:
        for run in runs:
            click.echo(json.dumps({**run.__dict__, "started_at": run.started_at.isoformat(),
                                   "finished_at": run.finished_at.isoformat()
                                   if run.finished_at else None}, default=str))
        return
    if not runs:
        click.echo("no retrain runs" + (f" of {model}" if model else ""))
        return
    rows = []
    for run in runs:
        new, old = run.metrics.get("new") or {}, run.metrics.get("champion") or {}
        key = next((k for k in ("accuracy", "roc_auc", "mae", "rmse") if k in new), None)
        headline = f"{key} {_num(new[key])} vs {_num(old.get(key, '-'))}" if key else ""
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        rows.append((run.id, run.model, run.started_at, run.trigger, run.status,
                     run.n_rows, headline, run.registered_version, run.champion_version,
                     run.mlflow_run_id, None if took is None else f"{took:.1f}s",
                     (run.error or run.reason or "")[:60]))
    echo_table(("id", "model", "started", "trigger", "status", "rows", "holdout new vs champ",
                "version", "challenges", "mlflow_run", "took", "error / reason"), rows)


def register(main: click.Group) -> None:
    main.add_command(retrain_cmd)
    main.add_command(runs_cmd)

"""``lifecycle retention``: archive old days of the prediction log now, and show the archive.

``run`` calls the retention job directly (no lease: do not run it while a scheduler's
``retention`` job archives the same model; the manifest's unique part URL and its state
checks make the loser fail, never double a row). ``status`` lists the archive's parts per
model and day, the rows still hot and the archive's size.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine
from lifecycle.config.section import hide_uri_password


@click.group("retention")
def retention_group() -> None:
    """Archive the prediction log to Parquet and show the archive (docs/retention.md)."""


def _models(engine: object, only: str | None) -> list[str]:
    from sqlalchemy import Engine, select

    from lifecycle.errors import UnknownModelError
    from lifecycle.storage.tables import ModelRow

    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        names = list(conn.execute(select(ModelRow.name).order_by(ModelRow.name)).scalars())
    if only is None:
        return names
    if only not in names:
        raise UnknownModelError(f"unknown model {only!r}; known models: "
                                f"{', '.join(names) or 'none yet'}")
    return [only]


@retention_group.command("run")
@click.option("--model", default=None, help="Only this model (default: every model).")
@click.option("--dry-run", is_flag=True,
              help="Only count the batches and rows that would be archived.")
@click.pass_context
def run_cmd(ctx: click.Context, model: str | None, dry_run: bool) -> None:
    """Archive every whole day older than hot_days, then prune job runs and old leases."""
    from lifecycle.jobs.retention import archive_model, archive_url_for, cutoff_for, run_retention

    settings = get_settings(ctx)
    engine = open_engine(settings)
    now = datetime.now(UTC)
    rows = []
    try:
        for name in _models(engine, model):
            if dry_run:
                hot = settings.retention.hot_days_for(settings.model(name).retention)
                result = archive_model(engine, name, cutoff_for(settings, name, now),
                                       archive_url_for(settings), hot_days=hot, dry_run=True)
            else:
                result = run_retention(engine, settings, name, now, now, now=now)
                if getattr(result, "empty", False):
                    click.echo(f"{name}: {result.reason}")
                    continue
            rows.append((name, result.hot_days, result.cutoff, result.batches_archived,
                         result.rows_archived, result.parts_written,
                         result.replayed_batches_retired, result.job_runs_pruned,
                         result.leases_pruned))
    finally:
        engine.dispose()
    if rows:
        if dry_run:
            click.echo("dry run: nothing was written or deleted")
        echo_table(("model", "hot_days", "cutoff", "batches", "rows", "parts",
                    "replayed", "job_runs_pruned", "leases_pruned"), rows)


@retention_group.command("status")
@click.option("--model", default=None, help="Only this model.")
@click.pass_context
def status_cmd(ctx: click.Context, model: str | None) -> None:
    """Archive parts per model and day, rows still hot, and the archive's size."""
    from sqlalchemy import func, select

    from lifecycle.jobs.retention import archive_url_for
    from lifecycle.storage.archive_repo import parts
    from lifecycle.storage.tables import ModelRow, PredictionBatch

    settings = get_settings(ctx)
    engine = open_engine(settings)
    try:
        names = _models(engine, model)
        with engine.connect() as conn:
            ids = dict(conn.execute(select(ModelRow.name, ModelRow.id)).all())
            hot = dict(conn.execute(
                select(PredictionBatch.model_id, func.coalesce(func.sum(PredictionBatch.n_rows),
                                                               0))
                .group_by(PredictionBatch.model_id)).all())
            found = [p for name in names for p in parts(conn, ids[name])]
    finally:
        engine.dispose()
    click.echo(f"archive: {hide_uri_password(archive_url_for(settings))}")
    by_id = {v: k for k, v in ids.items()}
    days: dict[tuple[str, str, str], list[int]] = {}
    for p in found:
        agg = days.setdefault((by_id[p.model_id], p.day, p.state), [0, 0, 0])
        agg[0] += 1
        agg[1] += p.n_rows
        agg[2] += p.size_bytes
    if days:
        echo_table(("model", "day", "state", "parts", "rows", "bytes"),
                   [(*k, *v) for k, v in sorted(days.items())])
    else:
        click.echo("no archived day yet")
    echo_table(("model", "hot_rows", "archived_rows", "archive_bytes"),
               [(name, int(hot.get(ids[name], 0)),
                 sum(p.n_rows for p in found if p.model_id == ids[name]
                     and p.state == "deleted"),
                 sum(p.size_bytes for p in found if p.model_id == ids[name]))
                for name in names])


def register(main: click.Group) -> None:
    main.add_command(retention_group)

"""``lifecycle models``: the monitored models and their traffic."""

from __future__ import annotations

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine
from lifecycle.config import Settings

HEADERS = ("model", "task", "predictions", "labels", "first prediction", "last prediction")


@click.command("models")
@click.pass_context
def models_cmd(ctx: click.Context) -> None:
    """List monitored models with their logged predictions, labels and first and last
    prediction times. The task is the configured one ([models.NAME] task) when set, else the
    one the model was registered with."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from lifecycle.storage.tables import ModelRow, Outcome, PredictionBatch, TrafficHourly

    settings = get_settings(ctx)
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            traffic = dict(
                session.execute(
                    select(TrafficHourly.model_id, func.sum(TrafficHourly.n_predictions))
                    .group_by(TrafficHourly.model_id)
                ).all()
            )
            labels = dict(
                session.execute(
                    select(Outcome.model_id, func.count()).group_by(Outcome.model_id)
                ).all()
            )
            seen = {
                model_id: (first, last) for model_id, first, last in session.execute(
                    select(PredictionBatch.model_id, func.min(PredictionBatch.ts_min),
                           func.max(PredictionBatch.ts_max))
                    .group_by(PredictionBatch.model_id)
                ).all()
            }
            models = session.scalars(select(ModelRow).order_by(ModelRow.name)).all()
            rows: list[tuple[object, ...]] = [
                (m.name, _task(settings, m.name, m.task), int(traffic.get(m.id) or 0),
                 int(labels.get(m.id) or 0), *seen.get(m.id, (None, None)))
                for m in models
            ]
    finally:
        engine.dispose()
    configured = sorted(set(settings.models) - {str(r[0]) for r in rows})
    if not rows and not configured:
        click.echo("no models yet: wrap a predictor with @lifecycle.monitor(\"name\") "
                   "or add a [models.NAME] section to lifecycle.toml")
        return
    rows += [(name, settings.models[name].task, 0, 0, None, None) for name in configured]
    rows.sort(key=lambda r: str(r[0]))
    echo_table(HEADERS, rows)


def _task(settings: Settings, name: str, stored: str | None) -> str | None:
    """The configured task of ``name`` when lifecycle.toml sets one, else the stored one."""
    configured = settings.models.get(name)
    return (configured.task if configured is not None else None) or stored


def register(main: click.Group) -> None:
    main.add_command(models_cmd)

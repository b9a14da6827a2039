"""``lifecycle models``: the monitored models and their traffic."""

from __future__ import annotations

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine


@click.command("models")
@click.pass_context
def models_cmd(ctx: click.Context) -> None:
    """List monitored models with their logged predictions and labels."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from lifecycle.storage.tables import Model, Outcome, TrafficHourly

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
            models = session.scalars(select(Model).order_by(Model.name)).all()
            rows: list[tuple[object, ...]] = [
                (m.name, m.task, int(traffic.get(m.id) or 0), int(labels.get(m.id) or 0),
                 m.created_at)
                for m in models
            ]
    finally:
        engine.dispose()
    configured = sorted(set(settings.models) - {str(r[0]) for r in rows})
    if not rows and not configured:
        click.echo("no models yet: wrap a predictor with @lifecycle.monitor(\"name\") "
                   "or add a [models.NAME] section to lifecycle.toml")
        return
    rows += [(name, settings.models[name].task, 0, 0, None) for name in configured]
    echo_table(("model", "task", "predictions", "labels", "first seen"), rows)


def register(main: click.Group) -> None:
    main.add_command(models_cmd)

"""``lifecycle alerts``: list alerts, acknowledge one."""

from __future__ import annotations

import click

from lifecycle.cli._common import default_actor, echo_table, get_settings, open_engine


@click.group("alerts", invoke_without_command=True)
@click.option("--open", "only_open", is_flag=True,
              help="Only live alerts (open or acknowledged).")
@click.option("--model", default=None, help="Only this model.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
def alerts_group(ctx: click.Context, only_open: bool, model: str | None, limit: int) -> None:
    """List alerts, newest first (`lifecycle alerts ack ID` acknowledges one)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from lifecycle.storage.models_repo import get_model
    from lifecycle.storage.tables import Alert, ModelRow

    settings = get_settings(ctx)
    engine = open_engine(settings)
    try:
        if model and model not in settings.models:  # unknown: an error (exit 2), not "no alerts"
            with Session(engine) as session:
                get_model(session, model)
        stmt = (select(Alert, ModelRow.name).join(ModelRow, ModelRow.id == Alert.model_id)
                .order_by(Alert.last_seen.desc(), Alert.id.desc()).limit(limit))
        if only_open:
            stmt = stmt.where(Alert.status.in_(("open", "acknowledged")))
        if model:
            stmt = stmt.where(ModelRow.name == model)
        with Session(engine) as session:
            rows = [(a.id, name, a.kind, a.feature, a.severity, a.status, a.occurrences,
                     a.first_seen, a.last_seen, a.message[:70])
                    for a, name in session.execute(stmt)]
    finally:
        engine.dispose()
    if not rows:
        click.echo("no open alerts" if only_open else "no alerts")
        return
    echo_table(("id", "model", "kind", "feature", "severity", "status", "seen", "first_seen",
                "last_seen", "message"), rows)


@alerts_group.command("ack")
@click.argument("alert_id", type=int)
@click.option("--actor", default=None, help="Who acknowledges (default: the OS user).")
@click.pass_context
def ack_cmd(ctx: click.Context, alert_id: int, actor: str | None) -> None:
    """Acknowledge an open alert (audited). It stays deduplicated until it resolves."""
    from sqlalchemy.orm import Session

    from lifecycle.alerts.store import acknowledge
    from lifecycle.storage.types import utcnow

    who = actor or default_actor()
    engine = open_engine(get_settings(ctx))
    try:
        with Session(engine) as session, session.begin():
            alert = acknowledge(session, alert_id, actor=who, now=utcnow())
            kind, severity = alert.kind, alert.severity
    finally:
        engine.dispose()
    click.echo(f"alert {alert_id} ({kind}, {severity}) acknowledged by {who}")


def register(main: click.Group) -> None:
    main.add_command(alerts_group)

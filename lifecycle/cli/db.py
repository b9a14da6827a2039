"""``lifecycle db``: schema migrations."""

from __future__ import annotations

import click

from lifecycle.cli._common import get_settings


@click.group("db")
def db() -> None:
    """Database schema: upgrade, show the current revision."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def upgrade_cmd(ctx: click.Context, revision: str) -> None:
    """Create or migrate lifecycle's tables to the latest revision."""
    from lifecycle.storage.engine import make_engine, redact_url
    from lifecycle.storage.migrate import current_revision, upgrade

    settings = get_settings(ctx)
    upgrade(settings.database_url, revision)
    engine = make_engine(settings.database_url)
    try:
        rev = current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"database {redact_url(settings.database_url)} is at revision {rev}")


@db.command("current")
@click.pass_context
def current_cmd(ctx: click.Context) -> None:
    """Show the database's revision and whether it is up to date."""
    from lifecycle.storage.engine import make_engine, redact_url
    from lifecycle.storage.migrate import current_revision, head_revision

    settings = get_settings(ctx)
    engine = make_engine(settings.database_url)
    try:
        rev = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if rev == head else "OUT OF DATE: run `lifecycle db upgrade`"
    click.echo(f"database: {redact_url(settings.database_url)}")
    click.echo(f"revision: {rev or '(empty)'}  head: {head}  ({state})")
    if rev != head:
        ctx.exit(1)


def register(main: click.Group) -> None:
    main.add_command(db)

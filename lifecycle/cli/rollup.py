"""``lifecycle rollup run MODEL --since ISO --until ISO``: build hourly profiles (backfill).

Rolls up every whole UTC hour in ``[--since, --until)`` (the scheduled ``rollup`` job does the
same for each closed hour), replacing the stored profiles of those hours, and prints the hours
done, the rows read and the time taken. Times must be ISO-8601 with an offset (``Z`` or
``+00:00``): a backfill over an ambiguous local time would profile the wrong hours. Exit 0
when at least one hour had served rows, 2 on an error or when no hour had any.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from lifecycle.cli._common import EXIT_ERROR, get_settings, open_engine


def _aware(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 time; use e.g. 2026-03-01T00:00:00Z",
            param_hint=name) from None
    if parsed.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} has no UTC offset; add one, e.g. {value.strip()}Z", param_hint=name)
    return parsed.astimezone(UTC)


@click.group("rollup")
def rollup() -> None:
    """Hourly mergeable profiles of the prediction log (what large drift checks merge)."""


@rollup.command("run")
@click.argument("model")
@click.option("--since", required=True, help="First hour (ISO-8601 with offset, e.g. "
              "2026-03-01T00:00:00Z); a partial hour is skipped.")
@click.option("--until", required=True, help="End of the range (exclusive, ISO-8601 with "
              "offset); only whole hours before it are rolled up.")
@click.pass_context
def run_cmd(ctx: click.Context, model: str, since: str, until: str) -> None:
    """Roll up every whole hour of MODEL's served traffic in [--since, --until)."""
    from lifecycle.rollup.run import hours_in, rollup_hours

    start, end = _aware(since, "--since"), _aware(until, "--until")
    if start >= end:
        raise click.BadParameter(f"--since ({since}) must be before --until ({until})")
    hours = hours_in(start, end)
    if not hours:
        raise click.BadParameter(
            f"[{since}, {until}) holds no whole UTC hour; widen the range to at least one "
            "hour starting on the hour")
    settings = get_settings(ctx)
    engine = open_engine(settings)
    try:
        if settings.compute.dask_scheduler:  # a backfill on the cluster (docs/scale.md)
            from lifecycle.compute.executor import executor_for

            with executor_for(settings.compute) as ex:
                click.echo(f"rolling up {len(hours)} hour(s) on {ex.where}")
                result = rollup_hours(engine, settings, model, hours, mapper=ex.map)
        else:
            result = rollup_hours(engine, settings, model, hours)
    finally:
        engine.dispose()
    rate = result.n_rows / result.seconds if result.seconds > 0 else 0.0
    click.echo(f"model {model}: {len(result.hours_done)} hour(s) rolled up, "
               f"{len(result.empty_hours)} without served rows; {result.n_rows} rows in "
               f"{result.seconds:.2f} s ({rate:,.0f} rows/s)")
    if result.empty:
        click.echo(f"no served predictions of {model} in {hours[0]:%Y-%m-%d %H:%M}Z .. "
                   f"{hours[-1]:%Y-%m-%d %H:%M}Z + 1h: nothing stored", err=True)
        ctx.exit(EXIT_ERROR)


def register(main: click.Group) -> None:
    main.add_command(rollup)

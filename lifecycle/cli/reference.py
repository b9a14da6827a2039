"""``lifecycle reference set MODEL``: compute and store the reference profile of a model.

From a file (``--from data.csv`` / ``.parquet``) it profiles the feature columns; from a
window of logged predictions (``--since ... --until ...``) it profiles the inputs (``data``),
the outputs (``prediction``) and, when there are labels, the outcomes (``label``). Each
profile replaces the model's active profile of its kind. Exit 0 on success, 2 on error.
Identifier columns (``id_column``, ``identifier_columns``, ``timestamp_columns``, date/time
columns, the capture's id column) are never profiled. The work is
:func:`lifecycle.reference.set_reference`, shared with the seed and the demo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine, parse_time
from lifecycle.errors import DataError


def _read_file(path: Path) -> Any:
    import pandas as pd

    if not path.exists():
        raise DataError(f"reference file {path} does not exist; check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    raise DataError(f"{path} is neither CSV (.csv) nor Parquet (.parquet); convert it first")


def _print_profile(kind: str, profile: Any) -> None:
    from lifecycle.drift.profile import NumericProfile

    click.echo(f"{kind} profile: {profile.n_rows} rows, {len(profile.features)} feature(s)")
    rows = []
    for name, p in profile.features.items():
        share = p.n_missing / p.n_total if p.n_total else 0.0
        if isinstance(p, NumericProfile):
            detail = (f"{len(p.bin_edges) + 1} bins, "
                      + ("exact CDF" if p.exact else
                         f"{p.values.size}-point sketch (KS error <= {p.ks_error_bound:.2g})"))
        else:
            detail = f"{len(p.categories)} categories"
        rows.append((name, p.kind, p.n, share, detail))
    echo_table(["feature", "kind", "values", "missing", "profile"], rows)


@click.group("reference")
def reference() -> None:
    """Reference profiles that drift checks compare against."""


@reference.command("set")
@click.argument("model")
@click.option("--from", "from_file", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV or Parquet file with the reference data (feature columns).")
@click.option("--since", default=None, help="Start of a window of logged predictions.")
@click.option("--until", default=None, help="End (exclusive) of that window.")
@click.option("--column", "-c", "columns", multiple=True,
              help="Feature column to profile (repeatable; default: [models.NAME] features, "
                   "else every column).")
@click.option("--categorical", multiple=True,
              help="Column to treat as categorical (repeatable; adds to the config's).")
@click.pass_context
def set_reference(ctx: click.Context, model: str, from_file: Path | None, since: str | None,
                  until: str | None, columns: tuple[str, ...],
                  categorical: tuple[str, ...]) -> None:
    """Compute the reference profile of MODEL and store it as the active one."""
    from lifecycle.reference import set_reference as store_reference

    if (from_file is None) == (since is None and until is None):
        raise click.UsageError("give either --from FILE or --since/--until (a logged window)")
    settings = get_settings(ctx)
    ms = settings.model(model)
    df = _read_file(from_file) if from_file is not None else None
    start = end = None
    if from_file is None:
        start = parse_time(since, name="--since")
        end = parse_time(until or "now", name="--until")
        if start is not None and end is not None and start >= end:
            raise click.BadParameter(f"--since ({since}) must be before --until ({until})")
    source = (f"file {from_file}" if from_file is not None
              else f"window [{since}, {until or 'now'})")
    engine = open_engine(settings)
    try:
        result = store_reference(engine, ms, df, since=start, until=end, source=source,
                               columns=columns, categorical=categorical)
    finally:
        engine.dispose()
    for kind, why in result.skipped.items():
        click.echo(f"{kind} profile skipped: {why}", err=True)
    for kind, prof in result.profiles.items():
        _print_profile(kind, prof)
        click.echo(f"stored as reference profile #{result.ids[kind]} ({kind}) from {source}")


def register(main: click.Group) -> None:
    main.add_command(reference)

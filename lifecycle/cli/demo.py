"""``lifecycle demo``: the whole loop end to end, on a simulated credit-default model.

Wipes and recreates a demo folder (its SQLite database, its local MLflow store, its settings
and the team's trainer), creates the database (``db upgrade``), trains the first model with
the trainer and registers it (``lifecycle register ... --alias champion``), serves it with
``ManagedModel`` for weeks of simulated traffic with late labels, while the real scheduled
jobs detect drift and degradation, retrain, shadow and promote or reject; prints the story and
a summary, then serves the dashboard. See docs/demo.md.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from lifecycle.demo.folder import DemoPaths
    from lifecycle.demo.story import DemoOptions

DEFAULT_FOLDER = "./lifecycle-demo"


def _configure_logging(path: Path) -> logging.Handler:
    """Send lifecycle's own log lines (alerts, job runs) to the demo folder's log file."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("lifecycle")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


class _Printer:
    """Prints story lines without tearing the progress bar on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()

    def line(self, text: str) -> None:
        if self.tty:
            click.echo("\r\x1b[K" + text)
        else:
            click.echo(text)


@click.command("demo")
@click.option("--folder", type=click.Path(file_okay=False), default=DEFAULT_FOLDER,
              show_default=True, help="Demo folder; wiped and recreated on every run.")
@click.option("--days", type=click.IntRange(4, 365), default=42, show_default=True,
              help="Simulated days of live traffic.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of all the data.")
@click.option("--rows-per-day", type=click.IntRange(200, 100_000), default=3000,
              show_default=True, help="Loan applications scored per simulated day.")
@click.option("--shift-day", type=click.IntRange(1, 365), default=None,
              help="Day the covariate shift starts [default: 15 of 42, scaled to --days].")
@click.option("--concept-day", type=click.IntRange(2, 365), default=None,
              help="Day the concept change starts [default: 29 of 42, scaled to --days].")
@click.option("--no-serve", is_flag=True, help="End after the summary (no dashboard).")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Dashboard port (served on 127.0.0.1).")
@click.pass_context
def demo(ctx: click.Context, folder: str, days: int, seed: int, rows_per_day: int,
         shift_day: int | None, concept_day: int | None, no_serve: bool, port: int) -> None:
    """Simulate weeks of a managed credit model whose world changes, then show the result.

    Trains and registers a champion, serves it with lifecycle.ManagedModel, feeds late
    labels with lifecycle.log_outcomes and runs the real drift, performance and shadow jobs,
    alerts, retrains (MLflow) and promotions on a simulated clock. At --shift-day income,
    card utilisation and employment type shift (a retrain the owner asks for is shadowed and
    rejected); at --concept-day the relation between inputs and default changes (the
    performance alert's retrain is shadowed and promoted).
    """
    from lifecycle.demo.folder import (
        demo_environment,
        prepare_folder,
        write_config,
        write_trainer,
    )
    from lifecycle.demo.story import MODEL_NAME, DemoOptions, timeline_start

    t0 = time.perf_counter()
    options = DemoOptions.for_days(days, seed=seed, rows_per_day=rows_per_day,
                                   shift_day=shift_day, concept_day=concept_day)
    paths = prepare_folder(folder)
    start = timeline_start(options.days)
    write_config(paths, model=MODEL_NAME, reference_since=start,
                 reference_until=start + timedelta(days=options.reference_days),
                 tick_hours=options.tick_hours, n_boot=options.n_boot,
                 max_pairs=options.max_pairs, shadow_days=options.shadow_days)
    write_trainer(paths)
    demo_environment(paths)
    # Run inside the folder: lifecycle imports the trainer named in lifecycle.toml
    # (credit_trainer:train) from the working directory, as from a team's project folder.
    os.chdir(paths.folder)
    handler = _configure_logging(paths.log)
    try:
        summary_lines = _run(ctx, paths, options, start, t0)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; {paths.folder} holds what was simulated so far", err=True)
        ctx.exit(130)
    finally:
        logging.getLogger("lifecycle").removeHandler(handler)
        handler.close()
    for line in summary_lines:
        click.echo(line)
    if no_serve:
        return
    _serve(ctx, port)


def _run(ctx: click.Context, paths: DemoPaths, options: DemoOptions, start: datetime,
         t0: float) -> list[str]:
    import lifecycle
    from lifecycle.cli._common import open_engine
    from lifecycle.config import load_settings
    from lifecycle.demo.outcome import format_loop, summarise_loop
    from lifecycle.demo.story import MODEL_NAME, run_story
    from lifecycle.demo.summary import format_summary, summarise
    from lifecycle.registry.mlflow_store import registry_for
    from lifecycle.storage.engine import redact_url
    from lifecycle.storage.migrate import current_revision, upgrade

    settings = load_settings(paths.config)
    root = ctx.find_root()
    root.ensure_object(dict)
    root.obj["settings"] = settings  # `lifecycle dashboard` below serves this database
    click.echo(f"demo folder: {paths.folder} (settings: {paths.config.name}, "
               f"log: {paths.log.name})")
    upgrade(settings.database_url)
    engine = open_engine(settings)
    try:
        click.echo(f"database {redact_url(settings.database_url)} is at revision "
                   f"{current_revision(engine)}")
        click.echo(
            f"simulating {options.days} days from {start:%Y-%m-%d} "
            f"({options.rows_per_day:,} applications a day, {options.label_rate:.0%} of "
            f"labels arriving 1-10 days late); covariate shift on day {options.shift_day}, "
            f"concept change on day {options.concept_day}")
        printer = _Printer()
        with click.progressbar(length=options.days, label="simulated days",
                               show_pos=True, file=sys.stdout) as bar:
            result = run_story(
                engine, settings, options, start=start, folder=paths.folder,
                register=lambda path: _register(ctx, path, printer),
                on_event=lambda e: printer.line(e.message),
                on_day=lambda d: bar.update(1),
            )
        lifecycle.flush()
        summary = summarise(
            engine, MODEL_NAME, start=start, shift_day=options.shift_day,
            concept_day=options.concept_day, shifted=result.shifted_features,
            performance_seen_at=result.performance_seen_at,
            end=start + timedelta(days=options.days),
        )
        loop = summarise_loop(engine, registry_for(settings), MODEL_NAME, start=start,
                              concept_day=options.concept_day)
    finally:
        engine.dispose()
    lines = format_summary(summary, start) + format_loop(loop, start)
    covered = ", ".join(result.covered) or "nothing"
    lines.append(f"covered: {covered}")
    for kind, why in sorted(result.not_covered.items()):
        lines.append(f"NOT covered: {kind} ({why})")
    lines.append(f"explore it: cd {paths.folder} && lifecycle runs {MODEL_NAME} (or: lifecycle "
                 f"shadow history {MODEL_NAME}, lifecycle lineage {MODEL_NAME}, lifecycle "
                 "alerts; lifecycle.toml there points at the demo database and MLflow store)")
    if result.failures:
        lines.append(f"failed job windows: {len(result.failures)} (their errors are in the "
                     "job_runs table and demo.log)")
    t = result.timings
    lines.append(
        f"{result.facts.get('predictions', 0):,} predictions and "
        f"{result.facts.get('labels', 0):,} labels in {time.perf_counter() - t0:.0f} s: "
        f"training {t.get('train_s', 0):.1f} s, scoring {t.get('predict_s', 0):.1f} s, "
        f"labels {t.get('labels_s', 0):.1f} s, capture + shadow flush "
        f"{t.get('flush_s', 0):.1f} s, scheduled jobs {t.get('jobs_s', 0):.1f} s, "
        f"queued retrains {t.get('requests_s', 0):.1f} s, registering "
        f"{t.get('register_s', 0):.1f} s")
    return lines


def _register(ctx: click.Context, path: Path, printer: _Printer) -> str:
    """``lifecycle register credit_default --from-file <path> --alias champion``: the real
    command, its output indented under the story. Returns the registered version."""
    import contextlib
    import io

    from lifecycle.cli.registry import register_cmd
    from lifecycle.demo.story import MODEL_NAME, OWNER

    printer.line(f"$ lifecycle register {MODEL_NAME} --from-file {path.name} --alias champion")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ctx.invoke(register_cmd, model=MODEL_NAME, run_id=None, file=path, uri=None,
                   artifact_path="model", alias="champion", trust=False, actor=OWNER)
    version = ""
    for line in out.getvalue().splitlines():
        printer.line(f"  {line}")
        if line.startswith(f"registered {MODEL_NAME} version "):
            version = line.rsplit(" ", 1)[-1]
    if not version:
        raise click.ClickException(f"lifecycle register did not report a version: "
                                   f"{out.getvalue()!r}")
    return version


def _serve(ctx: click.Context, port: int) -> None:
    root = ctx.find_root()
    dashboard = root.command.get_command(root, "dashboard") if isinstance(
        root.command, click.Group) else None
    if dashboard is None:
        click.echo("the dashboard is not installed in this build; the demo database is ready "
                   "for `lifecycle dashboard` once it is")
        return
    click.echo(f"serving the dashboard on http://127.0.0.1:{port} (Ctrl+C to stop)")
    ctx.invoke(dashboard, host="127.0.0.1", port=port)


def register(main: click.Group) -> None:
    main.add_command(demo)

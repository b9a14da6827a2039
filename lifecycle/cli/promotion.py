"""``lifecycle promote``, ``lifecycle rollback`` (audited alias moves) and ``lifecycle
lineage`` (where a version came from and what became of it)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from lifecycle.cli._common import default_actor, get_settings, open_engine, open_registry


@click.command("promote")
@click.argument("model")
@click.argument("version", required=False)
@click.option("--reason", default=None,
              help="Why. Required when the latest shadow evaluation of that version against "
                   "the current champion did not decide PROMOTE (a manual override).")
@click.option("--actor", default=None, help="Who decides (default: the OS user).")
@click.pass_context
def promote_cmd(ctx: click.Context, model: str, version: str | None, reason: str | None,
                actor: str | None) -> None:
    """Make VERSION (default: the challenger) MODEL's champion; the old champion becomes
    `previous` (for `lifecycle rollback`). Audited; running ManagedModels pick it up at their
    next alias poll."""
    from lifecycle.jobs.promote import manual_promote

    settings = get_settings(ctx)
    registry = open_registry(settings)
    who = actor or default_actor()
    engine = open_engine(settings)
    try:
        done = manual_promote(engine, registry, model, actor=who, version=version,
                              reason=reason)
    finally:
        engine.dispose()
    moved, decided = done.move, not done.overridden
    click.echo(f"{model}: champion {moved.from_version or 'none'} -> {moved.to_version} "
               f"(promotion {moved.event_id} by {who}"
               + ("" if decided else ", manual override") + ")")


@click.command("rollback")
@click.argument("model")
@click.option("--reason", default=None, help="Why (stored and audited).")
@click.option("--actor", default=None, help="Who decides (default: the OS user).")
@click.pass_context
def rollback_cmd(ctx: click.Context, model: str, reason: str | None,
                 actor: str | None) -> None:
    """Serve MODEL's `previous` champion again (champion <- previous; rolling back twice
    returns). Audited."""
    from lifecycle.jobs.promote import rollback

    settings = get_settings(ctx)
    registry = open_registry(settings)
    who = actor or default_actor()
    engine = open_engine(settings)
    try:
        moved = rollback(engine, registry, model, actor=who, reason=reason)
    finally:
        engine.dispose()
    click.echo(f"{model}: champion {moved.from_version} -> {moved.to_version} (rollback "
               f"{moved.event_id} by {who})")


def _when(value: Any) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}Z"


def print_lineage(lin: Any) -> None:
    """The chain, upstream first."""
    v = lin.version
    click.echo(f"{lin.model} version {v.version}: status {v.status or '-'}, aliases "
               f"{', '.join(v.aliases) or 'none'}, registered {_when(v.created_at)}")
    for r in lin.reports:
        click.echo(f"  report     {r.kind} #{r.id} [{_when(r.window_start)}, "
                   f"{_when(r.window_end)}): {r.verdict}")
    if lin.alert is not None:
        a = lin.alert
        click.echo(f"  alert      #{a.id} {a.kind}{'/' + a.feature if a.feature else ''} "
                   f"({a.severity}, {a.status}) {_when(a.first_seen)}: {a.message[:80]}")
    if lin.retrain is not None:
        t = lin.retrain
        click.echo(f"  retrain    #{t.id} {t.trigger} by {t.actor}, {t.status}, "
                   f"{t.n_rows if t.n_rows is not None else '?'} rows, challenged "
                   f"{t.champion_version or 'none'}")
    else:
        click.echo("  retrain    none (registered by hand)")
    if lin.run is not None:
        # the new model's holdout numbers next to the champion's on the same rows
        shown = [k for k in ("holdout_accuracy", "champion_holdout_accuracy", "holdout_roc_auc",
                             "champion_holdout_roc_auc", "holdout_mae",
                             "champion_holdout_mae") if k in lin.run.metrics]
        metrics = ", ".join(f"{k} {lin.run.metrics[k]:.4g}" for k in shown
                            or sorted(lin.run.metrics)[:6])
        click.echo(f"  mlflow run {lin.run.run_id} ({lin.run.status}) {metrics}")
    for e in lin.evaluations:
        click.echo(f"  shadow     #{e.id} {_when(e.created_at)} vs champion "
                   f"{e.champion_version}: {e.decision}, {e.n_paired} labelled pairs, "
                   f"{e.test or 'no test'} p {e.p_value if e.p_value is not None else '-'}")
    for m in lin.moves:
        click.echo(f"  {m.action:<10} #{m.id} {_when(m.created_at)} {m.from_version or 'none'}"
                   f" -> {m.to_version} by {m.actor} ({m.status})"
                   + (f": {m.reason[:80]}" if m.reason else ""))
    for j in lin.rejections:
        click.echo(f"  rejected   {_when(j.at)} by {j.actor}"
                   + (f" (evaluation {j.evaluation_id})" if j.evaluation_id else "")
                   + (f": {j.reason[:80]}" if j.reason else ""))
    for note in lin.notes:
        click.echo(f"  note: {note}")


@click.command("lineage")
@click.argument("model")
@click.argument("version", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the lineage as one JSON object.")
@click.pass_context
def lineage_cmd(ctx: click.Context, model: str, version: str | None, as_json: bool) -> None:
    """Where VERSION (default: the champion) of MODEL came from and what became of it:
    report -> alert -> retrain run -> MLflow run -> version -> shadow evaluations ->
    promotion, rollback or rejection."""
    from lifecycle.jobs.lineage import version_lineage

    settings = get_settings(ctx)
    registry = open_registry(settings)
    engine = open_engine(settings)
    try:
        lin = version_lineage(engine, registry, model, version)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(asdict(lin), default=str))
    else:
        print_lineage(lin)


def register(main: click.Group) -> None:
    main.add_command(promote_cmd)
    main.add_command(rollback_cmd)
    main.add_command(lineage_cmd)

"""``lifecycle shadow evaluate MODEL``: compare the challenger with the champion now (and act,
as the scheduled job does); ``lifecycle shadow history MODEL``: the stored evaluations."""

from __future__ import annotations

import json
from typing import Any

import click

from lifecycle.cli._common import (
    default_actor,
    echo_table,
    get_settings,
    open_engine,
    open_registry,
)
from lifecycle.errors import NoChallengerError
from lifecycle.states import CONTINUE, PROMOTE, REJECT

#: Exit code of each decision (2: any error, as every command).
EXIT_CODES = {PROMOTE: 0, REJECT: 1, CONTINUE: 3}


def _num(value: Any, spec: str = ".4g") -> str:
    return "n/a" if value is None else format(value, spec)


def _guardrails(record: dict[str, Any]) -> list[str]:
    out = []
    for g in record.get("guardrails") or []:
        state = {True: "ok", False: "BROKEN", None: "not judged"}[g.get("passed")]
        out.append(f"    {g['name']:<12} {state:<10} {g.get('detail', '')}")
    return out


def print_evaluation(run: Any) -> None:
    """The comparison, in words and numbers (shared with the dashboard's text export)."""
    row = run.evaluation
    rec = row.record
    counts = row.details.get("counts") or {}
    earlier = f" (decided earlier, {row.created_at:%Y-%m-%d %H:%M}Z)" if run.decided_earlier \
        else ""
    click.echo(f"shadow evaluation {row.id} of {row.model}: champion {row.champion_version} "
               f"vs challenger {row.challenger_version}{earlier}")
    if counts:
        drop = counts.get("drop_rate")
        click.echo(f"  requests: {counts.get('champion_requests')} champion, "
                   f"{counts.get('challenger_rows')} challenger answers, "
                   f"{counts.get('pairs')} pairs, {counts.get('labelled_pairs')} labelled; "
                   "shadow drop rate "
                   + ("n/a (no serving counters yet)" if drop is None else f"{100 * drop:.2f}%"))
    if rec.get("test"):
        p = {k: _num(rec.get(k), ".3g") for k in ("p_value", "p_better", "p_worse")}
        click.echo(f"  test: {rec['test']} (statistic {_num(rec.get('statistic'))}), "
                   f"p = {p['p_value']} (better {p['p_better']}, worse {p['p_worse']})")
        conf = rec.get("confidence")
        ci = {k: _num(rec.get(k), "+.4g") for k in ("delta", "ci_low", "ci_high")}
        click.echo(f"  {rec.get('metric')}: champion {_num(rec.get('champion_value'))} -> "
                   f"challenger {_num(rec.get('challenger_value'))}, delta {ci['delta']} "
                   f"({_num(None if conf is None else 100 * conf, '.0f')}% CI "
                   f"{ci['ci_low']} to {ci['ci_high']})")
        click.echo(f"  look {rec.get('look')} at information fraction "
                   f"{_num(rec.get('information_fraction'), '.3f')}: nominal alpha "
                   f"{_num(rec.get('nominal_alpha'), '.3g')}"
                   + (" (final look)" if rec.get("final") else ""))
    else:
        click.echo(f"  test: none ran ({row.n_paired} labelled pairs)")
    click.echo("  guardrails:")
    for line in _guardrails(rec):
        click.echo(line)
    click.echo(f"  decision: {row.decision.upper()}: {rec.get('reason')}")
    if row.decision == CONTINUE:
        needed = rec.get("pairs_needed")
        click.echo("  labelled pairs still needed: "
                   + (f"about {needed}" if needed is not None
                      else "unknown (the observed effect does not favour the challenger)"))
    click.echo(f"  action: {run.action}")


@click.group("shadow")
def shadow_group() -> None:
    """Shadow evaluation of a model's challenger (docs/promotion.md)."""


@shadow_group.command("evaluate")
@click.argument("model")
@click.option("--no-act", is_flag=True,
              help="Only evaluate and record; do not promote or reject whatever the decision.")
@click.option("--actor", default=None, help="Who acts on the decision (default: the OS user).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.pass_context
def evaluate_cmd(ctx: click.Context, model: str, no_act: bool, actor: str | None,
                 as_json: bool) -> None:
    """Compare MODEL's challenger with its champion on every labelled request both answered
    since the challenger was registered; record the evaluation and act on it as the
    scheduled job does ([models.MODEL.promotion]).

    Exit 0 promote, 1 reject, 3 continue, 2 error.
    """
    from lifecycle.jobs.outcome import EmptyWindow
    from lifecycle.jobs.shadow import run_shadow_evaluation
    from lifecycle.storage.types import utcnow

    settings = get_settings(ctx)
    engine = open_engine(settings)
    try:
        now = utcnow()
        run = run_shadow_evaluation(engine, settings, model, None, now,
                                    registry=open_registry(settings), now=now, act=not no_act,
                                    actor=actor or default_actor())
    finally:
        engine.dispose()
    if isinstance(run, EmptyWindow):
        raise NoChallengerError(f"{run.reason}; retrain "
                                f"it (`lifecycle retrain {model}`) or register one with "
                                f"`lifecycle register {model} ... --alias challenger`")
    if as_json:
        click.echo(json.dumps({**run.to_dict(), "record": run.evaluation.record,
                               "counts": run.evaluation.details.get("counts")}, default=str))
    else:
        print_evaluation(run)
    if run.action.startswith("failed"):
        raise click.ClickException(f"the decision was recorded but acting on it failed "
                                   f"({run.action}); the next evaluation retries it")
    ctx.exit(EXIT_CODES[run.decision])


@shadow_group.command("history")
@click.argument("model")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
def history_cmd(ctx: click.Context, model: str, limit: int) -> None:
    """Stored shadow evaluations of MODEL, newest first."""
    from sqlalchemy.orm import Session

    from lifecycle.storage.models_repo import get_model
    from lifecycle.storage.shadow_repo import evaluations

    settings = get_settings(ctx)
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            get_model(session, model)  # unknown: exit 2 naming close matches
        rows = evaluations(engine, model, limit=limit)[::-1]
    finally:
        engine.dispose()
    if not rows:
        click.echo(f"no shadow evaluations of {model}")
        return
    echo_table(
        ("id", "at", "champion", "challenger", "pairs", "decision", "test", "p",
         "nominal_alpha", "delta", "ci_low", "ci_high", "needed"),
        [(r.id, r.created_at, r.champion_version, r.challenger_version, r.n_paired,
          r.decision, r.test or None, r.p_value, r.nominal_alpha, r.metric_delta, r.ci_low,
          r.ci_high, r.record.get("pairs_needed")) for r in rows])


def register(main: click.Group) -> None:
    main.add_command(shadow_group)

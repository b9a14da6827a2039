"""``lifecycle drift check MODEL``: drift of a window of logged traffic against the reference.

Prints one table per report (data, prediction, label drift), stores the reports, and exits
**0** no drift (or only warnings), **1** drift in any report, **2** error or insufficient
data - so it composes in shell pipelines (``lifecycle drift check churn || retrain``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine, parse_window

EXIT_OK, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def print_report(report: Any) -> None:
    """The readable per-feature table of one report."""
    click.echo(f"{report.kind} drift: {report.verdict.upper()}  "
               f"({report.n_drifted}/{report.n_features} features drifted, "
               f"{report.n_current} current vs {report.n_reference} reference rows)")
    rows = []
    ranked = report.ranked_features  # drifting, then warning features, largest effect first
    ranked_ids = {id(f) for f in ranked}
    rest = [f for f in report.features if id(f) not in ranked_ids]
    for f in (*ranked, *rest):
        psi = f.stat("psi").effect if "psi" in {s.name for s in f.statistics} else None
        gate = f.stat("ks" if f.kind == "numeric" else "chi_square")
        top = (f"{f.top_statistic} {f.stat(f.top_statistic).effect:.3g} ({f.severity:.2g}x)"
               if f.top_statistic else "")
        rows.append((
            f.feature, f.kind, f.verdict, top, f.importance, psi,
            gate.effect if gate.computed else None,
            gate.p_adjusted, f"{f.missing_share_reference:.1%} -> {f.missing_share_current:.1%}",
            f.out_of_range_share, (f.reasons[0] if f.reasons else ""),
        ))
    echo_table(["feature", "kind", "verdict", "effect (x drift thr)", "importance", "psi",
                "ks/V", "p adj", "missing", "out of range", "reason"], rows)
    for f in report.features:
        if f.unseen_categories:
            shown = ", ".join(f"{c} ({k})" for c, k in f.unseen_categories[:5])
            more = len(f.unseen_categories) - 5
            click.echo(f"new categories in {f.feature}: {shown}"
                       + (f" and {more} more" if more > 0 else "")
                       + f" - {f.unseen_share:.1%} of values")


@click.group("drift")
def drift() -> None:
    """Data, prediction and label drift checks."""


@drift.command("check")
@click.argument("model")
@click.option("--since", default="-24h", show_default=True,
              help="Window start: ISO-8601, 'now' or relative (-24h, -7d).")
@click.option("--until", default="now", show_default=True, help="Window end (exclusive).")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.pass_context
def check(ctx: click.Context, model: str, since: str, until: str, as_json: bool) -> None:
    """Check MODEL's logged window against its reference profile and store the report."""
    from lifecycle.jobs.drift import run_drift_check_all

    settings = get_settings(ctx)
    start, end = parse_window(since, until)
    engine = open_engine(settings)
    try:
        result = run_drift_check_all(engine, settings, model, start, end)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps({k: r.to_dict() for k, r in result.reports.items()}, indent=1))
    else:
        click.echo(f"model {model}  window {start:%Y-%m-%d %H:%M}Z .. {end:%Y-%m-%d %H:%M}Z")
        for kind, report in result.reports.items():
            click.echo("")
            print_report(report)
            click.echo(f"stored as drift report #{result.report_ids[kind]}")
        for kind, why in result.skipped.items():
            click.echo(f"{kind} drift not checked: {why}")
    verdicts = [r.verdict for r in result.reports.values()]
    if "drift" in verdicts:
        ctx.exit(EXIT_DRIFT)
    if result.reports["data"].verdict == "insufficient_data":
        ctx.exit(EXIT_ERROR)
    ctx.exit(EXIT_OK)


def register(main: click.Group) -> None:
    main.add_command(drift)

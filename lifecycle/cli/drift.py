"""``lifecycle drift check MODEL``: drift of a window of logged traffic against the reference.

Prints one table per report (data and prediction drift; label drift is the performance
check's, since labels arrive late), stores the reports, and exits **0** no drift (or only
warnings), **1** drift in any report, **2** error, insufficient data or a window without
traffic (nothing to check, nothing stored) - so it composes in shell pipelines
(``lifecycle drift check churn || retrain``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from lifecycle.cli._common import EXIT_ERROR, echo_table, get_settings, open_engine, parse_window

EXIT_OK, EXIT_DRIFT = 0, 1


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
    """Data and prediction drift checks (label drift: ``lifecycle performance``)."""


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
    if result.empty_reason is not None:
        click.echo(f"{result.empty_reason}: nothing to check, nothing stored; choose a "
                   "window with traffic (--since/--until)", err=True)
        ctx.exit(EXIT_ERROR)
    if as_json:
        doc = {k: r.to_dict() for k, r in result.reports.items()}
        doc["data"]["non_numeric"] = result.non_numeric
        click.echo(json.dumps(doc, indent=1))
    else:
        click.echo(f"model {model}  window {start:%Y-%m-%d %H:%M}Z .. {end:%Y-%m-%d %H:%M}Z")
        for kind, report in result.reports.items():
            click.echo("")
            print_report(report)
            click.echo(f"stored as drift report #{result.report_ids[kind]}")
        for kind, why in result.skipped.items():
            click.echo(f"{kind} drift not checked: {why}")
        n_rows = result.reports["data"].n_current
        for feature, n in result.non_numeric.items():
            click.echo(f"non-numeric values in numeric feature {feature}: {n} of {n_rows} "
                       "rows (text, booleans or dates; counted as missing)")
    verdicts = [r.verdict for r in result.reports.values()]
    if "drift" in verdicts:
        ctx.exit(EXIT_DRIFT)
    if result.reports["data"].verdict == "insufficient_data":
        ctx.exit(EXIT_ERROR)
    ctx.exit(EXIT_OK)


def register(main: click.Group) -> None:
    main.add_command(drift)

"""``lifecycle performance MODEL``: performance of a window against the reference period.

Exit codes: 0 fine, 1 degraded, 2 error or no verdict (no data, no labels, too few labels).
A window without labels still prints the label-free estimate (classifiers logging
probabilities). Label drift is computed here (labels arrive late) and stored as the window's
``label`` drift report; prediction drift is ``lifecycle drift check``'s. The output names the
run that computed the stored report (``manual`` here; ``initial`` or a re-run such as ``+3d``
for the scheduler's) and the label coverage each run of the window saw.
"""

from __future__ import annotations

import json
from typing import Any

import click

from lifecycle.cli._common import echo_table, get_settings, open_engine, parse_window
from lifecycle.windows import format_elapsed


@click.command("performance")
@click.argument("model")
@click.option("--since", default="-7d", show_default=True,
              help="Window start: ISO-8601, 'now' or relative (-24h, -7d).")
@click.option("--until", default="now", show_default=True, help="Window end (exclusive).")
@click.option("--no-save", is_flag=True, help="Print the result without storing a report.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def performance(
    ctx: click.Context, model: str, since: str, until: str, no_save: bool, as_json: bool
) -> None:
    """Model performance (with label coverage) of a window against the reference period."""
    from lifecycle.jobs.performance import PerformanceCheckResult, run_performance_check

    settings = get_settings(ctx)
    start, end = parse_window(since, until)
    engine = open_engine(settings)
    try:
        result = run_performance_check(engine, settings, model, start, end, persist=not no_save)
    finally:
        engine.dispose()
    assert isinstance(result, PerformanceCheckResult)  # only a scheduled re-run is "unchanged"
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1))
        ctx.exit(result.exit_code)
    cov = result.coverage
    click.echo(f"model {model}  window {start:%Y-%m-%d %H:%M}Z .. {end:%Y-%m-%d %H:%M}Z  "
               f"task {result.task or '-'}")
    ref = result.reference
    click.echo(f"reference {ref['since']:%Y-%m-%d %H:%M}Z .. {ref['until']:%Y-%m-%d %H:%M}Z "
               f"({ref['source']}, {ref.get('n_labelled', '-')} labelled)")
    coverage = "-" if cov["coverage"] is None else f"{cov['coverage']:.1%}"
    click.echo(f"labels {cov['n_labelled']} of {cov['n_predictions']} predictions "
               f"(coverage {coverage}), delay median {format_elapsed(cov['delay_median_s'])}, "
               f"p90 {format_elapsed(cov['delay_p90_s'])}; revised {cov['n_revised']}, "
               + _orphans_text(cov))
    click.echo(f"run {result.run}" + (f" (reference performance {ref['baseline']})"
                                      if ref.get("baseline") else ""))
    if result.history:
        click.echo("coverage by run: " + "; ".join(_run_text(h) for h in result.history))
    if result.comparison is not None:
        comp = result.comparison
        click.echo("")
        rows = [
            (m.name, m.value, f"[{m.ci_low:.4g}, {m.ci_high:.4g}]", m.reference, m.difference,
             m.p_adjusted, "WORSE" if m.worse else ("ok" if m.p_value is not None else "-"))
            for m in comp.metrics
        ]
        echo_table(["metric", "value", f"{comp.confidence:.0%} CI", "reference", "change",
                    "p (Holm)", "verdict"], rows)
    est = result.estimate
    if est is not None:
        click.echo("")
        click.echo(f"estimated without labels over {est.n} predictions "
                   f"({est.calibration} calibration): accuracy {est.accuracy:.4g} "
                   f"[{est.accuracy_ci_low:.4g}, {est.accuracy_ci_high:.4g}]"
                   + (f", F1 {est.f1:.4g} [{est.f1_ci_low:.4g}, {est.f1_ci_high:.4g}]"
                      if est.f1 is not None and est.f1_ci_low is not None
                      and est.f1_ci_high is not None else "")
                   + f" -> {result.estimate_verdict}")
        click.echo(f"  {est.assumption}")
    if result.change_points:
        click.echo("")
        click.echo("change points: " + ", ".join(
            f"{c.detector} at {c.ts:%Y-%m-%d %H:%M:%S}Z (labelled #{c.stream_index})"
            for c in result.change_points))
    info = result.drift.get("label")
    if info:
        drifted = f" ({', '.join(info['drifted'])})" if info.get("drifted") else ""
        stored = f", drift report #{info['report_id']}" if info.get("report_id") else ""
        why = f": {info['reason']}" if info.get("reason") else ""
        click.echo(f"label drift: {info['verdict']}{drifted}{why}"
                   + (f" (against {info['reference']}{stored})" if info.get("reference")
                      else ""))
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"verdict: {result.verdict.upper()}"
               + (f" (report #{result.report_id})" if result.report_id else ""))
    ctx.exit(result.exit_code)


def _orphans_text(cov: dict[str, Any]) -> str:
    """Labels whose key matches no logged prediction; with an archive, only the hot key table
    is searched, so say so (labels of archived predictions count here too)."""
    archived = cov.get("orphans_archived_until")
    if archived:
        return (f"labels for keys not in the hot log {cov['n_orphan_outcomes']} (predictions "
                f"archived up to {str(archived)[:16]}Z are not searched)")
    return f"labels for unknown keys {cov['n_orphan_outcomes']}"


def _run_text(entry: dict[str, object]) -> str:
    """``+1d 2026-03-03 00:00Z: 412/2000 (20.6%) fine``: one run of a window's history."""
    coverage = entry.get("coverage")
    share = f"{coverage:.1%}" if isinstance(coverage, float | int) else "-"
    when = str(entry.get("computed_at") or "")[:16].replace("T", " ")
    return (f"{entry.get('run')} {when}Z: {entry.get('n_labelled')}/"
            f"{entry.get('n_predictions')} ({share}) {entry.get('verdict')}")


def register(main: click.Group) -> None:
    """Add ``lifecycle performance`` to the command group."""
    main.add_command(performance)

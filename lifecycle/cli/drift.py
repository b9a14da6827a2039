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


def _path_line(path: dict[str, Any]) -> str:
    """How the window was computed: exactly from its rows, or from its hourly rollups."""
    if path.get("path") == "rollup":
        line = (f"computed from {path.get('hours')} hourly rollups (rank error "
                f"{float(path.get('rank_error') or 0.0):.4f}; {path.get('path_reason')}); "
                "each statistic's bound is in --json")
        missing = path.get("missing_hours") or []
        if missing:
            line += (f"\nWARNING: {len(missing)} hour(s) with traffic have no usable rollup "
                     f"(first {missing[0]}): {path.get('rows_counted')} of "
                     f"{path.get('rows_served')} served rows checked; rerun, or run "
                     "`lifecycle rollup run` over them")
        return line
    return f"computed exactly from the logged rows ({path.get('path_reason', 'open window')})"


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
        doc["data"]["computed"] = result.path
        click.echo(json.dumps(doc, indent=1))
    else:
        click.echo(f"model {model}  window {start:%Y-%m-%d %H:%M}Z .. {end:%Y-%m-%d %H:%M}Z")
        click.echo(_path_line(result.path))
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


@drift.command("recompute")
@click.argument("model")
@click.option("--since", default="-24h", show_default=True,
              help="Window start: ISO-8601, 'now' or relative (-24h, -7d).")
@click.option("--until", default="now", show_default=True, help="Window end (exclusive).")
@click.option("--kind", type=click.Choice(["data", "prediction"]), default="data",
              show_default=True, help="Which reference profile to count against.")
@click.pass_context
def recompute(ctx: click.Context, model: str, since: str, until: str, kind: str) -> None:
    """Exact per-feature counts of a large window against the reference, partitioned on the
    Dask cluster of [compute] dask_scheduler or on local threads (docs/scale.md), and the drift
    verdicts they give. Stores nothing; prints where it ran, the partitions, rows and seconds;
    exits like `drift check` (1 drift, 0 otherwise)."""
    from lifecycle.compute.counts import NumericCounts
    from lifecycle.compute.exact import exact_window_counts
    from lifecycle.drift.engine import check_summaries

    settings = get_settings(ctx)
    start, end = parse_window(since, until)
    engine = open_engine(settings)
    try:
        result = exact_window_counts(engine, settings, model, start, end, kind=kind)
    finally:
        engine.dispose()
    click.echo(f"model {model}  window {start:%Y-%m-%d %H:%M}Z .. {end:%Y-%m-%d %H:%M}Z  "
               f"ran on {result.where}: {result.n_partitions} partition(s), "
               f"{result.n_stored_rows} stored rows read, {result.n_rows} served rows "
               f"counted in {result.seconds:.2f} s")
    ks = result.ks()
    rows: list[tuple[Any, ...]] = []
    for name, c in result.features.items():
        prof = result.reference.features[name]
        if isinstance(c, NumericCounts):
            exact = getattr(prof, "exact", False)
            bound = "exact" if exact else f"+/- {getattr(prof, 'ks_error_bound', 0.0):.2g}"
            rows.append((name, "numeric", c.n, c.n_missing, c.n_non_numeric,
                         c.n_below + c.n_above, ks.get(name), bound, c.mean))
        else:
            rows.append((name, "categorical", c.n, c.n_missing, None, None, None, None, None))
    echo_table(["feature", "kind", "values", "missing", "non-numeric", "out of range", "ks",
                "ks bound", "mean"], rows)
    if result.n_rows == 0:
        click.echo("no served row in the window: no verdict", err=True)
        ctx.exit(EXIT_ERROR)
    report = check_summaries(result.reference, result.summaries(),
                             settings.model(model).drift.to_policy(), kind=kind)
    click.echo("")
    print_report(report)
    click.echo("(recomputed exactly from counts; nothing stored: `lifecycle drift check` "
               "stores a report)")
    ctx.exit(EXIT_DRIFT if report.verdict == "drift" else EXIT_OK)


def register(main: click.Group) -> None:
    main.add_command(drift)


#: Drifting feature names shown per report in ``lifecycle drift reports`` (then "+N more").
MAX_FEATURES_SHOWN = 6


@drift.command("reports")
@click.argument("model")
@click.option("--since", default=None,
              help="Only windows ending after this time: ISO-8601, 'now' or relative "
              "(-30s, -24h, -7d). [default: no limit]")
@click.option("--until", default=None,
              help="Only windows starting before this time. [default: no limit]")
@click.option("--kind", type=click.Choice(["data", "prediction", "label"]), default=None,
              help="Only this kind of report. [default: every kind]")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="At most this many reports, newest window first.")
@click.pass_context
def reports_cmd(ctx: click.Context, model: str, since: str | None, until: str | None,
                kind: str | None, limit: int) -> None:
    """List MODEL's stored drift verdicts: window, kind, verdict, drifting features."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from lifecycle.cli._common import parse_time
    from lifecycle.storage.models_repo import get_model
    from lifecycle.storage.tables import DriftFeatureResult, DriftReportRow

    start = parse_time(since, name="--since")
    end = parse_time(until, name="--until")
    if start is not None and end is not None and start >= end:
        raise click.BadParameter(f"--since ({since}) must be before --until ({until})")
    engine = open_engine(get_settings(ctx))
    try:
        with Session(engine) as session:
            model_id = get_model(session, model).id
            stmt = (select(DriftReportRow.id, DriftReportRow.window_start,
                           DriftReportRow.window_end,
                           DriftReportRow.kind, DriftReportRow.verdict, DriftReportRow.n_drifted,
                           DriftReportRow.n_features)
                    .where(DriftReportRow.model_id == model_id)
                    .order_by(DriftReportRow.window_end.desc(), DriftReportRow.kind)
                    .limit(limit))
            if start is not None:
                stmt = stmt.where(DriftReportRow.window_end > start)
            if end is not None:
                stmt = stmt.where(DriftReportRow.window_start < end)
            if kind is not None:
                stmt = stmt.where(DriftReportRow.kind == kind)
            reports = session.execute(stmt).all()
            drifting: dict[int, list[str]] = {}
            ids = [r[0] for r in reports]
            for i in range(0, len(ids), 500):  # bound the IN list
                for report_id, feature in session.execute(
                    select(DriftFeatureResult.report_id, DriftFeatureResult.feature)
                    .where(DriftFeatureResult.report_id.in_(ids[i:i + 500]),
                           DriftFeatureResult.verdict == "drift")
                    .distinct().order_by(DriftFeatureResult.report_id,
                                         DriftFeatureResult.feature)
                ):
                    drifting.setdefault(report_id, []).append(feature)
    finally:
        engine.dispose()
    if not reports:
        click.echo(f"no stored drift report for {model}"
                   + (" in this range" if since or until or kind else "")
                   + f"; run `lifecycle drift check {model}` or let `lifecycle scheduler run` "
                   "do it")
        return
    rows = []
    for report_id, w_start, w_end, k, verdict, n_drifted, n_features in reports:
        names = drifting.get(report_id, [])
        shown = ", ".join(names[:MAX_FEATURES_SHOWN])
        if len(names) > MAX_FEATURES_SHOWN:
            shown += f" +{len(names) - MAX_FEATURES_SHOWN} more"
        rows.append((report_id, w_start, w_end, k, verdict, f"{n_drifted}/{n_features}",
                     shown or "-"))
    echo_table(("id", "window start", "window end", "kind", "verdict", "drifted",
                "drifting features"), rows)

"""The lifecycle half of the demo's summary: versions, decisions, the champion's performance
before the concept change, after it and after the promotion, and the champion's lineage.

Everything is read back from what the jobs wrote (``performance_reports`` and their metrics,
``shadow_evaluations``, ``promotion_events``) and from the registry through
:func:`lifecycle.jobs.lineage.version_lineage`, the function behind ``lifecycle lineage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lifecycle.demo.observe import sim_label
from lifecycle.demo.summary import format_delay
from lifecycle.jobs.lineage import VersionLineage, version_lineage
from lifecycle.registry.base import Registry
from lifecycle.states import CONTINUE, DONE
from lifecycle.storage.tables import ModelRow, PerformanceMetric, PerformanceReport

__all__ = ["LoopSummary", "Period", "format_loop", "lineage_complete", "summarise_loop"]


@dataclass(frozen=True)
class Period:
    """Mean realised metrics of the daily performance reports whose windows fall in a period."""

    label: str
    n_reports: int
    roc_auc: float | None
    accuracy: float | None


@dataclass(frozen=True)
class LoopSummary:
    """What became of every version, and how the champion did around the change."""

    lineages: tuple[VersionLineage, ...]
    champion: str | None
    periods: tuple[Period, ...]
    concept_at: datetime
    promoted_at: datetime | None
    retrained_at: datetime | None
    detected_at: datetime | None


def lineage_complete(lineage: VersionLineage) -> bool:
    """Every link from the report that raised the alert to the promotion is present."""
    return (bool(lineage.reports) and lineage.alert is not None
            and lineage.retrain is not None and lineage.run is not None
            and bool(lineage.evaluations)
            and any(m.action == "promote" and m.status == DONE for m in lineage.moves))


def _periods(engine: Engine, model: str, concept_at: datetime,
             promoted_at: datetime | None) -> tuple[Period, ...]:
    with Session(engine) as session:
        mid = session.scalar(select(ModelRow.id).where(ModelRow.name == model))
        rows = session.execute(
            select(PerformanceReport.window_start, PerformanceReport.window_end,
                   PerformanceMetric.metric, PerformanceMetric.value)
            .join(PerformanceMetric, PerformanceMetric.report_id == PerformanceReport.id)
            .where(PerformanceReport.model_id == mid, PerformanceMetric.kind == "realised",
                   PerformanceMetric.metric.in_(["roc_auc", "accuracy"]))).all()
    spans = [("before the concept change", None, concept_at),
             ("after it, before the promotion", concept_at, promoted_at),
             ("after the promotion", promoted_at, None)]
    out = []
    for label, lo, hi in spans:
        if label != spans[0][0] and lo is None:
            continue
        picked: dict[str, list[float]] = {"roc_auc": [], "accuracy": []}
        windows = set()
        for start, end, metric, value in rows:
            if (lo is None or start >= lo) and (hi is None or end <= hi) and value is not None:
                picked[metric].append(float(value))
                windows.add(start)
        out.append(Period(label, len(windows),
                          *(sum(v) / len(v) if v else None
                            for v in (picked["roc_auc"], picked["accuracy"]))))
    return tuple(out)


def summarise_loop(engine: Engine, registry: Registry, model: str, *, start: datetime,
                   concept_day: int) -> LoopSummary:
    """Read the lifecycle outcome back (see the module docstring)."""
    concept_at = start + timedelta(days=concept_day)
    lineages = tuple(version_lineage(engine, registry, model, v.version)
                     for v in sorted(registry.versions(model), key=lambda v: int(v.version)))
    champion = next((x.version.version for x in lineages if "champion" in x.version.aliases),
                    None)
    promotions = [m for x in lineages for m in x.moves
                  if m.action == "promote" and m.status == DONE and m.created_at >= concept_at]
    promoted_at = min((m.completed_at or m.created_at for m in promotions), default=None)
    after = [x.retrain for x in lineages
             if x.retrain is not None and x.retrain.started_at >= concept_at]
    retrained_at = min((r.started_at for r in after), default=None)
    detected_at = min((x.alert.first_seen for x in lineages if x.alert is not None
                       and x.alert.first_seen >= concept_at), default=None)
    return LoopSummary(lineages, champion, _periods(engine, model, concept_at, promoted_at),
                       concept_at, promoted_at, retrained_at, detected_at)


def _version_line(x: VersionLineage, start: datetime) -> str:
    v = x.version
    if x.retrain is None:
        origin = "registered by lifecycle register (the first champion)"
    else:
        r = x.retrain
        why = (f"alert #{r.alert_id} ({x.alert.kind})" if r.alert_id is not None and x.alert
               else f"asked by {r.actor}")
        origin = (f"retrain #{r.id}, {why}, at {sim_label(r.started_at, start)}, MLflow run "
                  f"{str(r.mlflow_run_id)[:8]}, {r.n_rows or 0:,} rows of the logged window")
    verdict = ""
    final = [e for e in x.evaluations if e.decision != CONTINUE]
    if final:
        e = final[0]
        verdict = (f"; {e.decision.upper()} at {sim_label(e.created_at, start)} on "
                   f"{e.n_paired:,} labelled pairs, {e.record.get('metric', 'metric')} delta "
                   f"{(e.metric_delta or 0):+.3f} (CI {(e.ci_low or 0):+.3f} to "
                   f"{(e.ci_high or 0):+.3f}) after {len(x.evaluations)} evaluations")
    aliases = ", ".join(v.aliases) or "no alias"
    return (f"  v{v.version}: {origin}{verdict}; now {aliases}"
            f"{', lifecycle.status = ' + v.status if v.status else ''}")


def _chain(x: VersionLineage, start: datetime) -> str:
    links = [f"{r.kind} report #{r.id} (window {sim_label(r.window_start, start)[:-6]}, "
             f"{r.verdict})" for r in x.reports]
    if x.alert is not None:
        links.append(f"alert #{x.alert.id} ({x.alert.kind})")
    if x.retrain is not None:
        links.append(f"retrain #{x.retrain.id} (request #{x.retrain.request_id})")
    if x.run is not None:
        auc = x.run.metrics.get("holdout_roc_auc")
        links.append(f"MLflow run {x.run.run_id[:8]} ({x.run.status}"
                     f"{f', holdout ROC AUC {auc:.3f}' if auc is not None else ''})")
    links.append(f"version {x.version.version} ({', '.join(x.version.aliases) or 'no alias'})")
    if x.evaluations:
        last = x.evaluations[-1]
        links.append(f"{len(x.evaluations)} shadow evaluations (last #{last.id}: "
                     f"{last.decision.upper()})")
    links += [f"{m.action} v{m.from_version} -> v{m.to_version} ({m.status})" for m in x.moves
              if m.to_version == x.version.version]
    return " -> ".join(links)


def format_loop(summary: LoopSummary, start: datetime) -> list[str]:
    """The lifecycle summary as printable lines."""
    lines = ["versions (MLflow registry):"]
    lines += [_version_line(x, start) for x in summary.lineages]
    lines.append("champion ROC AUC / accuracy, mean of the daily performance reports:")
    for p in summary.periods:
        auc = "n/a" if p.roc_auc is None else f"{p.roc_auc:.3f}"
        acc = "n/a" if p.accuracy is None else f"{p.accuracy:.3f}"
        lines.append(f"  {p.label}: {auc} / {acc} ({p.n_reports} days)")
    since = summary.concept_at
    steps = [(what, when) for what, when in (("alert", summary.detected_at),
                                             ("retrain", summary.retrained_at),
                                             ("promotion", summary.promoted_at))]
    lines.append("from the concept change to: " + ", ".join(
        f"{what} {format_delay(None if when is None else when - since)}"
        for what, when in steps))
    champion = next((x for x in summary.lineages if x.version.version == summary.champion),
                    None)
    if champion is not None:
        complete = "complete" if lineage_complete(champion) else "INCOMPLETE"
        lines.append(f"lineage of the champion v{champion.version.version} ({complete}; "
                     f"`lifecycle lineage {champion.model}`): {_chain(champion, start)}")
    return lines

"""Cached, read-only queries behind every dashboard page.

Rules (see ``docs/dashboard.md``):

* one engine per database URL, made by :func:`lifecycle.storage.engine.make_engine` and kept
  with ``st.cache_resource``; nothing connects at import time;
* every query is a ``st.cache_data`` function with a TTL whose first argument is the database
  URL (so two databases never share a cache entry) and whose other arguments are bound
  parameters, never formatted into SQL;
* queries read stored reports and per-hour aggregates only (``traffic_hourly``,
  ``drift_reports``, ``performance_reports``...), never the raw ``predictions`` /
  ``prediction_batches`` log;
* time arguments are floored (:func:`floor_time`) by the pages so cache keys repeat.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, String, case, func, select, type_coerce
from sqlalchemy.orm import Session

from lifecycle.states import INSUFFICIENT_LABELS as INSUFFICIENT
from lifecycle.states import NO_DATA, NO_LABELS
from lifecycle.storage.tables import (
    Alert,
    ChangePoint,
    DriftFeatureResult,
    DriftReportRow,
    ModelRow,
    Outcome,
    PerformanceMetric,
    PerformanceReport,
    TrafficHourly,
)

#: Seconds a query result is reused before the database is asked again.
TTL_S = 60
#: Live panels (status table, open alerts) refresh this often.
REFRESH_S = 60
#: Performance verdicts that say "not enough labels yet" rather than fine or degraded.
NOT_ASSESSED = (INSUFFICIENT, NO_LABELS, NO_DATA)


#: Environment variable fixing the dashboard's clock (ISO-8601, UTC if no offset). Tests set
#: it so every range and number is exact; unset (the normal case) means the wall clock.
NOW_ENV = "LIFECYCLE_DASHBOARD_NOW"


def now() -> datetime:
    """The dashboard's "now": ``$LIFECYCLE_DASHBOARD_NOW`` when set, else the wall clock.

    Read on every call (each page run), so a test can set it before running a page. A value
    that is not a time is an error naming the variable, not a silent fall back to the clock.
    """
    fixed = os.environ.get(NOW_ENV, "").strip()
    if not fixed:
        return datetime.now(UTC)
    try:
        ts = datetime.fromisoformat(fixed)
    except ValueError:
        raise ValueError(f"{NOW_ENV}={fixed!r} is not an ISO-8601 time (e.g. "
                         "2026-03-02T12:00:00Z); unset it to use the wall clock") from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def floor_time(ts: datetime, minutes: int = 5) -> datetime:
    """``ts`` floored to ``minutes`` so time-range arguments repeat and hit the cache."""
    ts = ts.astimezone(UTC)
    return ts.replace(minute=ts.minute - ts.minute % minutes, second=0, microsecond=0)


def since(days: float, at: datetime | None = None) -> datetime:
    """The start of a ``days``-long range ending ``at`` (default :func:`now`), floored for
    caching."""
    return floor_time((at or now()) - timedelta(days=days))


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """The one engine for ``url`` (pooled, shared by every session of the app)."""
    from lifecycle.storage.engine import make_engine

    return make_engine(url)


@st.cache_data(ttl=30, show_spinner=False)
def schema_problem(url: str) -> str | None:
    """None when the schema is at head, else a one-line explanation naming the fix."""
    from lifecycle.errors import LifecycleError
    from lifecycle.storage.migrate import ensure_schema_current

    try:
        ensure_schema_current(engine(url))
    except LifecycleError as exc:
        return str(exc)
    return None


def version_label(role: str, version: str | None) -> str:
    """``champion v2`` for a bare number, ``champion v1.3``, ``champion v2`` for ``v2`` (not
    ``vv2``), ``champion prod-2024`` for any other name; just the role without a version."""
    text = (version or "").strip()
    if not text:
        return role
    if text[0].isdigit():
        return f"{role} v{text}"
    if text[0] in "vV" and text[1:2].isdigit():
        return f"{role} v{text[1:]}"
    return f"{role} {text}"


#: Roles first in this order in the versions column; others follow alphabetically.
ROLE_ORDER = ("champion", "challenger", "unmanaged")


def versions_text(pairs: set[tuple[str, str | None]]) -> str:
    """``champion v1, v2; challenger v3``: the versions seen per role (served role first),
    each version as :func:`version_label` spells it."""
    by_role: dict[str, list[str]] = {}
    for role, version in pairs:
        label = version_label(role, version)[len(role):].strip()
        by_role.setdefault(role, [])
        if label:
            by_role[role].append(label)
    order = sorted(by_role, key=lambda r: (ROLE_ORDER.index(r) if r in ROLE_ORDER
                                           else len(ROLE_ORDER), r))
    parts = []
    for role in order:
        labels = sorted(by_role[role], key=lambda v: [int(p) if p.isdigit() else p
                                                      for p in re.split(r"(\d+)", v)])
        parts.append(f"{role} {', '.join(labels)}" if labels else role)
    return "; ".join(parts)


def _frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def fetch(url: str, stmt: Any, columns: list[str]) -> pd.DataFrame:
    with Session(engine(url)) as session:
        return _frame(session.execute(stmt).all(), columns)


# --------------------------------------------------------------------------- models


@st.cache_data(ttl=TTL_S, show_spinner=False)
def models(url: str) -> pd.DataFrame:
    """Every monitored model: id, name, task, description."""
    stmt = (select(ModelRow.id, ModelRow.name, ModelRow.task, ModelRow.description)
            .order_by(ModelRow.name))
    return fetch(url, stmt, ["id", "name", "task", "description"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def traffic(url: str, start: datetime, model_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Hourly volume, calls and latency per model, role and version since ``start``."""
    stmt = (
        select(TrafficHourly.model_id, ModelRow.name, TrafficHourly.bucket_start,
               TrafficHourly.role, TrafficHourly.model_version, TrafficHourly.n_predictions,
               TrafficHourly.latency_sum_ms, TrafficHourly.latency_max_ms,
               TrafficHourly.n_calls, TrafficHourly.call_latency_sum_ms)
        .join(ModelRow, ModelRow.id == TrafficHourly.model_id)
        .where(TrafficHourly.bucket_start >= start)
        .order_by(TrafficHourly.bucket_start)
    )
    if model_ids is not None:
        stmt = stmt.where(TrafficHourly.model_id.in_(model_ids))
    return fetch(url, stmt, ["model_id", "model", "bucket_start", "role", "version",
                              "n_predictions", "latency_sum_ms", "latency_max_ms", "n_calls",
                              "call_latency_sum_ms"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def overview(url: str, start: datetime) -> pd.DataFrame:
    """One row per model: versions, volume, latency, label coverage, drift/performance
    status and live alerts (aggregates and latest reports only).

    Latency comes two ways, both from the calls counted in ``traffic_hourly`` (revision
    0004; hours written before it are left out of both): ``latency_call_ms``, the mean
    latency of a call (``call_latency_sum_ms / n_calls``), and ``latency_row_ms``, model time
    per prediction (``call_latency_sum_ms / n_predictions``). Averaging the per-row latency
    instead would weight each call by its rows, so one 200,000-row batch call would drown
    thousands of single predictions."""
    with Session(engine(url)) as session:
        model_rows = session.execute(
            select(ModelRow.id, ModelRow.name, ModelRow.task).order_by(ModelRow.name)).all()
        out: list[dict[str, Any]] = []
        counted = TrafficHourly.n_calls > 0  # buckets written since calls are counted (0004)
        tr = session.execute(
            select(TrafficHourly.model_id, TrafficHourly.role, TrafficHourly.model_version,
                   func.sum(TrafficHourly.n_predictions), func.sum(TrafficHourly.n_calls),
                   func.sum(TrafficHourly.call_latency_sum_ms),
                   func.sum(case((counted, TrafficHourly.n_predictions), else_=0)))
            .where(TrafficHourly.bucket_start >= start)
            .group_by(TrafficHourly.model_id, TrafficHourly.role, TrafficHourly.model_version)
        ).all()
        cov = dict(
            (r[0], (r[1], r[2])) for r in session.execute(
                select(PerformanceReport.model_id, func.sum(PerformanceReport.n_labelled),
                       func.sum(PerformanceReport.n_predictions))
                .where(PerformanceReport.window_end >= start)
                .group_by(PerformanceReport.model_id)
            ).all()
        )
        alerts = session.execute(
            select(Alert.model_id, Alert.status, func.count())
            .where(Alert.status != "resolved").group_by(Alert.model_id, Alert.status)
        ).all()
        for model_id, name, task in model_rows:
            row: dict[str, Any] = {"model_id": model_id, "model": name, "task": task}
            mine = [t for t in tr if t[0] == model_id]
            n = sum(int(t[3] or 0) for t in mine)
            row["versions"] = versions_text({(t[1], t[2]) for t in mine if t[3]})
            row["predictions"] = n
            calls = sum(int(t[4] or 0) for t in mine)
            call_ms = sum(float(t[5] or 0) for t in mine)
            counted_rows = sum(int(t[6] or 0) for t in mine)
            row["latency_call_ms"] = call_ms / calls if calls else None
            row["latency_row_ms"] = call_ms / counted_rows if counted_rows else None
            lab, pred = cov.get(model_id, (None, None))
            row["label_coverage"] = float(lab or 0) / float(pred) if pred else None
            for kind in ("data", "prediction"):
                latest = session.execute(
                    select(DriftReportRow.verdict, DriftReportRow.window_end,
                           DriftReportRow.n_drifted,
                           DriftReportRow.n_features)
                    .where(DriftReportRow.model_id == model_id, DriftReportRow.kind == kind)
                    .order_by(DriftReportRow.window_end.desc()).limit(1)
                ).first()
                row[f"{kind}_drift"] = latest[0] if latest else None
                if kind == "data":
                    row["drift_checked"] = latest[1] if latest else None
                    row["drifted_features"] = (f"{latest[2]}/{latest[3]}" if latest else None)
            perf = session.execute(
                select(PerformanceReport.verdict, PerformanceReport.window_end)
                .where(PerformanceReport.model_id == model_id,
                       PerformanceReport.verdict.not_in(NOT_ASSESSED))
                .order_by(PerformanceReport.window_end.desc()).limit(1)
            ).first()
            row["performance"] = perf[0] if perf else None
            row["open_alerts"] = sum(int(a[2]) for a in alerts
                                     if a[0] == model_id and a[1] == "open")
            row["acknowledged_alerts"] = sum(int(a[2]) for a in alerts
                                             if a[0] == model_id and a[1] == "acknowledged")
            out.append(row)
    return pd.DataFrame(out, columns=[
        "model_id", "model", "task", "versions", "predictions", "latency_call_ms",
        "latency_row_ms",
        "label_coverage", "data_drift", "drift_checked", "drifted_features",
        "prediction_drift", "performance", "open_alerts", "acknowledged_alerts"])


# --------------------------------------------------------------------------- drift


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_reports(url: str, model_id: int, kind: str, start: datetime) -> pd.DataFrame:
    """Drift reports of one model and kind whose window ends after ``start``, newest first."""
    stmt = (
        select(DriftReportRow.id, DriftReportRow.window_start, DriftReportRow.window_end,
               DriftReportRow.verdict, DriftReportRow.n_reference, DriftReportRow.n_current,
               DriftReportRow.n_features, DriftReportRow.n_drifted, DriftReportRow.drift_share)
        .where(DriftReportRow.model_id == model_id, DriftReportRow.kind == kind,
               DriftReportRow.window_end >= start)
        .order_by(DriftReportRow.window_end.desc())
    )
    return fetch(url, stmt, ["report_id", "window_start", "window_end", "verdict",
                              "n_reference", "n_current", "n_features", "n_drifted",
                              "drift_share"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_path(url: str, report_id: int) -> dict[str, Any]:
    """How one report was computed: ``path`` (exact | rollup), why, and for rollups the hours
    merged and the rank error (keys of the report's summary; empty for older reports)."""
    with Session(engine(url)) as session:
        summary = session.scalar(select(DriftReportRow.summary)
                                 .where(DriftReportRow.id == report_id))
    keys = ("path", "path_reason", "hours", "rank_error", "exact_bins")
    return {k: summary[k] for k in keys if isinstance(summary, dict) and k in summary}


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_kinds(url: str, model_id: int) -> list[str]:
    """The report kinds (data, prediction, label...) stored for a model."""
    with Session(engine(url)) as session:
        kinds = session.scalars(
            select(DriftReportRow.kind).where(DriftReportRow.model_id == model_id).distinct()
        ).all()
    order = {"data": 0, "prediction": 1, "label": 2}
    return sorted(kinds, key=lambda k: (order.get(k, 9), k))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_statistics(url: str, model_id: int, kind: str) -> list[str]:
    """Statistic names stored in the latest report of a model and kind."""
    with Session(engine(url)) as session:
        latest = session.scalar(
            select(DriftReportRow.id).where(DriftReportRow.model_id == model_id,
                                         DriftReportRow.kind == kind)
            .order_by(DriftReportRow.window_end.desc()).limit(1))
        if latest is None:
            return []
        names = session.scalars(
            select(DriftFeatureResult.statistic_name)
            .where(DriftFeatureResult.report_id == latest).distinct()).all()
    return sorted(names)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_matrix(url: str, model_id: int, kind: str, start: datetime,
                 statistic: str) -> pd.DataFrame:
    """Per (window, feature): one statistic's value and the feature's verdict (no
    ``details``). The window end is read as its raw database value and parsed in one
    vectorised step: converting 40,000 timestamps one by one costs over a second."""
    stmt = (
        select(type_coerce(DriftReportRow.window_end, String()), DriftFeatureResult.feature,
               DriftFeatureResult.statistic, DriftFeatureResult.verdict)
        .join(DriftFeatureResult, DriftFeatureResult.report_id == DriftReportRow.id)
        .where(DriftReportRow.model_id == model_id, DriftReportRow.kind == kind,
               DriftReportRow.window_end >= start,
               DriftFeatureResult.statistic_name == statistic)
        .order_by(DriftReportRow.window_end)
    )
    with engine(url).connect() as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame.from_records(rows, columns=["window_end", "feature", "statistic",
                                                  "verdict"])
    df["window_end"] = pd.to_datetime(df["window_end"], utc=True, format="ISO8601")
    df["statistic_name"] = statistic
    return df


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_matrix_daily(url: str, model_id: int, kind: str, start: datetime,
                       statistic: str) -> pd.DataFrame:
    """Like :func:`drift_matrix`, merged per UTC day in SQL (maximum statistic, worst
    verdict, and ``assessed``: the maximum over the day's windows that were not
    ``insufficient_data``, NULL when none was): a year of hourly windows comes back as 365
    rows per feature, not 8,760."""
    eng = engine(url)
    if eng.dialect.name == "postgresql":
        day: Any = func.date_trunc("day", func.timezone("UTC", DriftReportRow.window_end))
    else:  # SQLite stores naive UTC ISO text: the first 10 characters are the day
        day = func.substr(type_coerce(DriftReportRow.window_end, String()), 1, 10)
    v = DriftFeatureResult.verdict
    rank = case((v == "drift", 3), (v == "insufficient_data", 2), (v == "warning", 1),
                else_=0)
    assessed = case((v != "insufficient_data", DriftFeatureResult.statistic), else_=None)
    stmt = (
        select(type_coerce(day, String()).label("day"), DriftFeatureResult.feature,
               func.max(DriftFeatureResult.statistic), func.max(rank), func.max(assessed))
        .join(DriftFeatureResult, DriftFeatureResult.report_id == DriftReportRow.id)
        .where(DriftReportRow.model_id == model_id, DriftReportRow.kind == kind,
               DriftReportRow.window_end >= start,
               DriftFeatureResult.statistic_name == statistic)
        .group_by(day, DriftFeatureResult.feature)
    )
    with eng.connect() as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame.from_records(rows, columns=["window_end", "feature", "statistic",
                                                  "rank", "assessed"])
    df["assessed"] = df["assessed"].astype(float)
    df["window_end"] = (pd.to_datetime(df["window_end"], utc=True, format="ISO8601")
                        + pd.Timedelta(days=1))
    df["verdict"] = df["rank"].map({3: "drift", 2: "insufficient_data", 1: "warning",
                                    0: "no_drift"})
    df["statistic_name"] = statistic
    return df.drop(columns=["rank"]).sort_values("window_end", ignore_index=True)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_feature(url: str, report_id: int, feature: str) -> pd.DataFrame:
    """Every statistic of one feature in one report, with its ``details`` JSON."""
    c = DriftFeatureResult
    stmt = (
        select(c.statistic_name, c.feature_type, c.statistic, c.p_value, c.p_adjusted,
               c.threshold, c.verdict, c.missing_share_reference, c.missing_share_current,
               c.out_of_range_share, c.unseen_share, c.details)
        .where(c.report_id == report_id, c.feature == feature)
        .order_by(c.statistic_name)
    )
    return fetch(url, stmt, ["statistic_name", "feature_type", "statistic", "p_value",
                              "p_adjusted", "threshold", "verdict", "missing_share_reference",
                              "missing_share_current", "out_of_range_share", "unseen_share",
                              "details"])


# --------------------------------------------------------------------------- performance


@st.cache_data(ttl=TTL_S, show_spinner=False)
def performance(url: str, model_id: int, start: datetime) -> pd.DataFrame:
    """Metric values (realised and estimated) with intervals, per report window."""
    m, r = PerformanceMetric, PerformanceReport
    stmt = (
        select(r.window_end, m.metric, m.kind, m.value, m.ci_low, m.ci_high,
               m.reference_value, m.verdict)
        .join(r, r.id == m.report_id)
        .where(r.model_id == model_id, r.window_end >= start)
        .order_by(r.window_end)
    )
    return fetch(url, stmt, ["window_end", "metric", "kind", "value", "ci_low", "ci_high",
                              "reference_value", "verdict"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def estimate_assumption(url: str, model_id: int) -> str | None:
    """The assumption stored with the latest label-free estimate, if any."""
    m, r = PerformanceMetric, PerformanceReport
    with Session(engine(url)) as session:
        details = session.scalar(
            select(m.details).join(r, r.id == m.report_id)
            .where(r.model_id == model_id, m.kind == "estimated")
            .order_by(r.window_end.desc()).limit(1))
    text = details.get("assumption") if isinstance(details, dict) else None
    return str(text) if text else None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def coverage(url: str, model_id: int, start: datetime) -> pd.DataFrame:
    """Label coverage and delay per performance window."""
    r = PerformanceReport
    stmt = (
        select(r.window_start, r.window_end, r.n_predictions, r.n_labelled, r.label_coverage,
               r.label_delay_median_s, r.verdict)
        .where(r.model_id == model_id, r.window_end >= start).order_by(r.window_end)
    )
    return fetch(url, stmt, ["window_start", "window_end", "n_predictions", "n_labelled",
                              "label_coverage", "label_delay_median_s", "verdict"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def coverage_runs(url: str, model_id: int, start: datetime, windows: int = 10) -> pd.DataFrame:
    """The coverage each run of the latest re-run windows saw (``summary.runs`` of a report:
    the initial run, then re-runs as labels arrived); only the history is read, not the
    whole summary."""
    r = PerformanceReport
    stmt = (select(r.window_start, r.summary["runs"]).where(
        r.model_id == model_id, r.window_end >= start).order_by(r.window_end.desc())
        .limit(200))
    rows: list[tuple[Any, ...]] = []
    with Session(engine(url)) as session:
        for window_start, runs in session.execute(stmt):
            if not isinstance(runs, list) or len(runs) < 2:
                continue
            rows.extend((window_start, e.get("run"), str(e.get("computed_at") or "")[:16]
                         .replace("T", " "), e.get("n_labelled"),
                         e.get("n_predictions"), e.get("coverage"), e.get("verdict"))
                        for e in runs if isinstance(e, dict))
            if len({row[0] for row in rows}) >= windows:
                break
    return _frame(rows, ["window_start", "run", "computed_at", "n_labelled", "n_predictions",
                         "coverage", "verdict"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def has_labels(url: str, model_id: int) -> bool:
    """Whether any label (outcome) was logged for the model: one indexed row looked up, the
    labels themselves are not read."""
    with Session(engine(url)) as session:
        return session.scalar(
            select(Outcome.model_id).where(Outcome.model_id == model_id).limit(1)) is not None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def change_points(url: str, model_id: int, start: datetime) -> pd.DataFrame:
    """Error-stream change points of one model since ``start``."""
    stmt = (
        select(ChangePoint.ts, ChangePoint.detector, ChangePoint.stream_index)
        .where(ChangePoint.model_id == model_id, ChangePoint.ts >= start)
        .order_by(ChangePoint.ts)
    )
    return fetch(url, stmt, ["ts", "detector", "stream_index"])


def clear() -> None:
    """Forget every cached query result (after an action changed the database)."""
    st.cache_data.clear()

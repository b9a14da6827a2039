"""Drift: per-feature drift over time, and the numbers behind one verdict."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from lifecycle.dashboard import charts, data, tables, ui

KIND_TITLES = {"data": "Data drift", "prediction": "Prediction drift", "label": "Label drift"}

NO_REPORT = (
    "No {kind} drift report for **{model}** in this range. Set a reference first: "
    "`lifecycle reference set {model} --since ... --until ...`, then run "
    "`lifecycle drift check {model}` (or let `lifecycle scheduler run` do it)."
)


def path_caption(path: Mapping[str, Any]) -> str:
    """One line on how the window was computed (docs/scale.md)."""
    if path.get("path") == "rollup":
        return (f"Computed from {path.get('hours')} hourly rollups (quantile sketches, rank "
                f"error {float(path.get('rank_error') or 0.0):.2%}): each number's error bound "
                "is in the table; a feature is flagged only when its value minus the bound "
                "clears the threshold.")
    if path.get("path") == "exact":
        return f"Computed exactly from the logged rows ({path.get('path_reason', '')})."
    return "Computed exactly from the logged rows."


def _detail(url: str, reports: pd.DataFrame, features: list[str], key: str) -> None:
    """Reference vs current distribution and the exact numbers for a feature and window."""
    c1, c2 = st.columns(2)
    feature = c1.selectbox("Feature", features, key=f"{key}_feature")
    windows = reports.head(500).set_index("report_id", drop=False)
    labels = {int(r.report_id): f"{ui.fmt_time(r.window_start)} → "
              f"{ui.fmt_time(r.window_end)}  ({r.verdict})" for r in windows.itertuples()}
    choice = c2.selectbox("Window", list(labels), format_func=labels.__getitem__,
                          key=f"{key}_window")
    report = windows.loc[int(choice if choice is not None else next(iter(labels)))]
    rows = data.drift_feature(url, int(report["report_id"]), str(feature))
    if rows.empty:
        st.info(f"Feature {feature!r} has no result in this window.")
        return
    first = rows.iloc[0]
    verdict = charts.worst(rows["verdict"].tolist())
    m1, m2, m3, m4, m5 = st.columns(5)
    ui.verdict(m1, "Verdict", verdict)
    miss_ref, miss_cur = first["missing_share_reference"], first["missing_share_current"]
    delta = None
    if pd.notna(miss_ref) and pd.notna(miss_cur) and abs(miss_cur - miss_ref) >= 0.0005:
        delta = f"{(float(miss_cur) - float(miss_ref)) * 100:+.1f} pp vs reference"
    m2.metric("Missing values", ui.fmt_share(miss_cur), delta=delta, delta_color="inverse",
              help=f"reference: {ui.fmt_share(miss_ref)}")
    m3.metric("Out of range", ui.fmt_share(first["out_of_range_share"]),
              help="share of current values outside the reference range")
    m4.metric("Unseen categories", ui.fmt_share(first["unseen_share"]),
              help="share of current values in categories the reference never had")
    m5.metric("Rows (current)", f"{int(report['n_current']):,}",
              help=f"reference: {int(report['n_reference']):,}")
    st.caption(path_caption(data.drift_path(url, int(report["report_id"]))))
    dist = None
    bins_details: Mapping[str, Any] = {}
    for d in charts.details_by_preference(rows):
        dist = charts.distribution_frame(d if isinstance(d, dict) else None)
        if dist is not None:
            bins_details = d
            break
    if dist is not None:
        st.altair_chart(charts.distribution_chart(dist), width="stretch")
    else:
        st.caption("This result stores no bins or counts, so only the numbers are shown.")
    st.markdown("**The numbers behind the verdict**")
    st.dataframe(tables.verdict_numbers(rows), hide_index=True, width="stretch")
    if dist is not None:
        with st.expander("Bins and counts"):
            table = dist.pivot(index=["order", "bucket"], columns="side", values="count")
            st.dataframe(table.reset_index().drop(columns=["order"]), hide_index=True)
            extra = {k: v for k, v in bins_details.items()
                     if k in ("bin_edges", "smoothing", "log_base", "variant", "error_bound")}
            st.json(extra)


def _section(url: str, model_id: int, model: str, kind: str, start: datetime,
             range_label: str) -> None:
    reports = data.drift_reports(url, model_id, kind, start)
    if reports.empty:
        st.info(NO_REPORT.format(kind=kind, model=model))
        return
    latest = reports.iloc[0]
    c1, c2, c3, c4 = st.columns(4)
    ui.verdict(c1, "Latest verdict", latest["verdict"])
    c2.metric("Drifted features", f"{int(latest['n_drifted'])} / {int(latest['n_features'])}")
    c3.metric("Windows in range", len(reports))
    c4.metric("Windows with drift", int((reports["verdict"] == "drift").sum()))
    names = data.drift_statistics(url, model_id, kind)
    default = charts.heatmap_statistic(names)
    statistic = st.selectbox("Heatmap statistic", names,
                             index=names.index(default) if default in names else 0,
                             key=f"drift_{kind}_stat")
    if len(reports) > charts.MAX_HEATMAP_WINDOWS:
        matrix = data.drift_matrix_daily(url, model_id, kind, start, str(statistic))
    else:
        matrix = data.drift_matrix(url, model_id, kind, start, str(statistic))
    frame = charts.heatmap_frame(matrix, str(statistic))
    st.altair_chart(charts.drift_heatmap(frame, str(statistic)), width="stretch")
    st.caption(f"Colour: {statistic} per window over the last {range_label}; red dots: drift "
               "(significant after Benjamini-Hochberg and above the effect threshold), orange: "
               "warning. More than 400 windows are merged per UTC day (max value, worst verdict).")
    features = charts.features_by_severity(matrix)
    _detail(url, reports, features, key=f"drift_{kind}")


_SEEN = "lc_drift_model_shown"


def _forget_other_model(model: str) -> None:
    """When the model changed since the last run, drop the feature and window selections:
    they belonged to the other model (a kept window selection showed its label)."""
    if st.session_state.get(_SEEN) not in (None, model):
        for key in [k for k in st.session_state if isinstance(k, str)
                    and k.startswith("drift_") and k.endswith(("_feature", "_window"))]:
            del st.session_state[key]
    st.session_state[_SEEN] = model


def render() -> None:
    page = ui.open_page("Drift")
    if page is None:
        return
    ctx, models = page
    c1, c2 = st.columns(2)
    with c1:
        model_id, model = ui.pick_model(models, "drift_model")
    _forget_other_model(model)
    with c2:
        range_label, _, start = ui.pick_range("drift_range")
    kinds = data.drift_kinds(ctx.url, model_id)
    if not kinds:
        st.info(NO_REPORT.format(kind="data", model=model).replace(" in this range", ""))
        return
    tabs = st.tabs([KIND_TITLES.get(k, f"{k} drift") for k in kinds])
    for tab, kind in zip(tabs, kinds, strict=True):
        with tab:
            _section(ctx.url, model_id, model, kind, start, range_label)

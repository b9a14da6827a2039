"""Overview: every monitored model, its versions, traffic, latency, coverage, status, alerts."""

from __future__ import annotations

import streamlit as st

from lifecycle.dashboard import (
    charts,
    data,
    data_loop,
    data_ops,
    loop_tables,
    registry_view,
    tables,
    ui,
)


@st.fragment(run_every=data.REFRESH_S)
def _live_status(url: str, tracking_uri: str, days: float) -> None:
    """Status tables and open alerts; refreshes on its own every ``REFRESH_S`` seconds."""
    start = data.since(days)
    df = data.overview(url, start)
    loop = data_loop.loop_status(url, data.floor_time(data.now(), 1))
    view = registry_view.registry_view(tracking_uri, tuple(df["model"]))
    aliases = registry_view.aliases_of(view, df["model"].tolist())
    lifecycle_why = {r["model"]: loop_tables.attention(
        r, None if aliases is None else aliases.get(r["model"]))
        for r in loop.to_dict("records")}
    reasons = []
    for _, r in df.iterrows():
        why = [w for w, on in (("data drift", r["data_drift"] == "drift"),
                               ("performance degraded", r["performance"] == "degraded"),
                               (f"{r['open_alerts']} open alert(s)", r["open_alerts"] > 0))
               if on] + lifecycle_why.get(r["model"], [])
        if why:
            reasons.append(f"**{r['model']}**: {', '.join(why)}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Models", len(df))
    c2.metric("Predictions", f"{int(df['predictions'].sum()):,}")
    c3.metric("Open alerts", int(df["open_alerts"].sum()))
    c4.metric("Need attention", len(reasons))
    if reasons:
        st.error("Needs a person — " + "; ".join(reasons))
    else:
        st.success(f"All {len(df)} models look healthy: no drift, no degraded performance, "
                   "no open alert, nothing waiting in the lifecycle.")
    st.dataframe(
        charts.style_status(tables.overview_table(df)), hide_index=True, width="stretch",
        column_config={
            "labelled": st.column_config.NumberColumn(
                "labelled", format="%.0f%%",
                help="label coverage: share of the range's predictions with a label"),
            "predictions": st.column_config.NumberColumn("predictions", format="localized"),
            "ms/call": st.column_config.NumberColumn(
                "ms/call", format="%.1f",
                help="mean latency of a call (a batch call counts once)"),
            "ms/pred": st.column_config.NumberColumn(
                "ms/pred", format="%.3f",
                help="model time per prediction: call latency summed over calls, divided "
                     "by the predictions they returned"),
            "data drift": st.column_config.TextColumn(
                "data drift", help="latest data-drift verdict and drifted / all features"),
            "pred. drift": st.column_config.TextColumn(
                "pred. drift", help="latest prediction-drift verdict"),
            "perf.": st.column_config.TextColumn(
                "perf.", help="latest assessed performance verdict"),
            "alerts": st.column_config.TextColumn(
                "alerts", help="open alerts (need a person) and acknowledged ones"),
        },
    )
    st.subheader("Lifecycle")
    registry_view.notice(view)
    st.dataframe(
        charts.style_status(loop_tables.lifecycle_table(loop, aliases)), hide_index=True,
        width="stretch",
        column_config={
            "since": st.column_config.TextColumn(
                "since", help="when the champion was last promoted to (or rolled back to) "
                              "this version, UTC; its registration time otherwise"),
            "shadow decision": st.column_config.TextColumn(
                "shadow decision", help="the latest shadow evaluation of this challenger: "
                                        "decision, labelled pairs, pairs still needed"),
            "needs a person": st.column_config.TextColumn(
                "needs a person", help="a failed retrain, a REJECT waiting for review, a "
                                       "promotion intent not completed"),
        })
    st.caption("Champion and challenger as the registry has them now (aliases); decisions, "
               "retrains and promotions on the Retraining and Shadow & promotions pages.")
    open_alerts = data_ops.alerts(url, ("open",), limit=10)
    st.subheader("Open alerts")
    if open_alerts.empty:
        st.caption("No open alert.")
    else:
        st.dataframe(charts.style_status(
            tables.alerts_table(open_alerts).drop(columns=["acknowledged by"])),
                     hide_index=True, width="stretch")
    st.caption(f"Refreshes every {data.REFRESH_S} s. Alerts are acknowledged on the "
               "Jobs & alerts page.")


def render() -> None:
    page = ui.open_page("Overview")
    if page is None:
        return
    ctx, models = page
    label, days, start = ui.pick_range("overview_range")
    _live_status(ctx.url, ctx.settings.mlflow_tracking_uri, days)

    st.subheader("Traffic and latency")
    traffic = data.traffic(ctx.url, start)
    if traffic.empty:
        st.info(f"No prediction logged in the last {label}. Predictions appear here once "
                "`@lifecycle.monitor` has logged some (the writer flushes every 0.5 s).")
        return
    frame = charts.traffic_frame(traffic, charts.choose_freq(days * 24))
    left, right = st.columns(2)
    left.altair_chart(charts.volume_chart(frame), width="stretch")
    right.altair_chart(charts.latency_chart(frame), width="stretch")
    st.caption("Served traffic (champion and unmanaged roles; shadow challenger traffic is "
               "left out) from the hourly aggregates in `traffic_hourly`, daily beyond 14 days. "
               "Latency is per call (a batch call counts once, however many rows it "
               "returned); the table also gives the model time per prediction (ms/pred). "
               "The table's predictions count every logged prediction, shadow included.")

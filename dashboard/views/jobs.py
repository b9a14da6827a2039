"""Jobs & alerts: recent runs, failures with their errors, alerts with acknowledge."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from lifecycle.dashboard import actions, charts, data, data_ops, forms, tables, ui


def _actions(ctx: ui.Context, open_alerts: pd.DataFrame, models: list[str]) -> None:
    st.subheader("Actions")
    if not forms.actions_allowed(ctx):
        return
    left, right = st.columns(2)
    with left, st.form("ack_form"):
        st.markdown("**Acknowledge an alert**")
        ids = open_alerts["id"].astype(int).tolist()
        text = {int(r.id): f"#{r.id} {r.model}: {r.message}" for r in open_alerts.itertuples()}
        alert_id = st.selectbox("Open alert", ids, format_func=lambda i: text.get(i, str(i)),
                                key="ack_alert", placeholder="no open alert")
        actor, token, confirmed = forms.admin_inputs("ack")
        if st.form_submit_button("Acknowledge", disabled=not ids):
            forms.perform(lambda: actions.acknowledge_alert(
                data.engine(ctx.url), int(alert_id or 0), actor=actor, token=token,
                admin_token=ctx.settings.admin_token, confirmed=confirmed))
    with right:
        with st.form("check_form"):
            st.markdown("**Run a drift check now**")
            model = st.selectbox("Model", models, key="check_model")
            actor, token, confirmed = forms.admin_inputs("check")
            if st.form_submit_button("Run check"):
                forms.perform(lambda: actions.run_check_now(
                    data.engine(ctx.url), ctx.settings, str(model), actor=actor,
                    token=token, admin_token=ctx.settings.admin_token, confirmed=confirmed))


def _alerts(url: str) -> pd.DataFrame:
    st.subheader("Alerts")
    df = data_ops.alerts(url, ("open", "acknowledged", "resolved"))
    open_alerts = df[df["status"] == "open"]
    tabs = st.tabs([f"Open ({len(open_alerts)})",
                    f"Acknowledged ({int((df['status'] == 'acknowledged').sum())})",
                    f"Resolved ({int((df['status'] == 'resolved').sum())})"])
    for tab, status in zip(tabs, ("open", "acknowledged", "resolved"), strict=True):
        with tab:
            part = df[df["status"] == status]
            if part.empty:
                st.caption(f"No {status} alert.")
            else:
                st.dataframe(charts.style_status(tables.alerts_table(part)), hide_index=True,
                             width="stretch")
    return open_alerts


def _jobs(url: str, start: datetime, range_label: str) -> None:
    st.subheader("Job runs")
    summary = data_ops.job_summary(url, start)
    if summary.empty:
        st.info(f"No job ran in the last {range_label}. Start the scheduler with "
                "`lifecycle scheduler run`, or run a job by hand (`lifecycle drift check "
                "MODEL`).")
        return
    failed = int(summary.loc[summary["status"] == "failed", "runs"].sum())
    k1, k2, k3 = st.columns(3)
    k1.metric("Runs", f"{int(summary['runs'].sum()):,}")
    k2.metric("Failed", failed)
    k3.metric("Mean duration (s)",
              f"{(summary['mean_duration_s'] * summary['runs']).sum() / summary['runs'].sum():.2f}")
    seconds = {c: st.column_config.NumberColumn(c, format="%.2f")
               for c in ("mean duration (s)", "max duration (s)", "duration (s)")}
    st.dataframe(charts.style_status(tables.display_frame(summary.assign(
        status=[charts.status_label(s) for s in summary["status"]]).rename(columns={
            "mean_duration_s": "mean duration (s)", "max_duration_s": "max duration (s)",
            "last_started": "last started"}))),
        hide_index=True, width="stretch", column_config=seconds)
    runs = data_ops.job_runs(url, start)
    st.markdown(f"**Latest {len(runs)} runs**")
    st.dataframe(charts.style_status(tables.runs_table(runs)), hide_index=True,
                 width="stretch", height=300, column_config=seconds)
    failures = data_ops.job_failures(url, start)
    st.markdown("**Failures**")
    if failures.empty:
        st.caption("No failure in this range.")
    for r in failures.itertuples():
        with st.expander(f"{r.job} · {r.model} · {ui.fmt_time(r.started_at)} · {r.error}"):
            st.code(r.traceback or r.error or "(no traceback recorded)", language="text")


def render() -> None:
    st.title("Jobs & alerts")
    ctx = ui.context()
    if ctx is None:
        return
    forms.flash()
    forms.clear_admin_inputs()
    models = data.models(ctx.url)
    range_label, _, start = ui.pick_range("jobs_range", "24 hours")
    open_alerts = _alerts(ctx.url)
    _actions(ctx, open_alerts, models["name"].tolist())
    _jobs(ctx.url, start, range_label)
    st.subheader("Audit log")
    audit = data_ops.audit_events(ctx.url)
    if audit.empty:
        st.caption("No audited action yet.")
    else:
        st.dataframe(tables.display_frame(audit), hide_index=True, width="stretch")

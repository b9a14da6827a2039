"""Retraining: runs over time (trigger, status, rows, duration), each run's holdout metrics
next to the champion's, the error and traceback of a failed run, the MLflow run; ask for a
retrain."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lifecycle.dashboard import (
    actions_loop,
    charts,
    data,
    data_loop,
    forms,
    loop_charts,
    loop_tables,
    registry_view,
    ui,
)
from lifecycle.states import DONE, FAILED, SKIPPED

NO_RUNS = (
    "No retrain of **{model}** in the last {range}. A retrain runs when an alert of a kind "
    "in `[models.{model}.alerts] retrain_on` fires, or when someone asks (`lifecycle retrain "
    "{model}`, or the form below); it needs `[models.{model}.retrain] trainer` "
    "(docs/retraining.md)."
)


def _version(value: object) -> str:
    return "-" if value is None or pd.isna(value) else f"v{value}"


def _run_detail(ctx: ui.Context, run: pd.Series, view: registry_view.RegistryView) -> None:
    st.markdown(f"**Run #{run['id']}** · {run['model']} · {charts.status_badge(run['status'])}"
                f" · started {ui.fmt_time(run['started_at'])} · "
                f"{ui.fmt_duration(run['duration_s'])}")
    k1, k2, k3, k4 = st.columns(4)
    k1.metric("Trigger", f"{run['trigger']} ({run['actor']})")
    k2.metric("Training rows", "-" if pd.isna(run["n_rows"]) else f"{int(run['n_rows']):,}")
    k3.metric("Registered", _version(run["registered_version"]))
    k4.metric("Challenged", _version(run["champion_version"]))
    if run["reason"]:
        st.caption(f"Reason given: {run['reason']}")
    lineage = [f"{what} #{int(run[key])}" for what, key in
               (("alert", "trigger_alert_id"), ("drift report", "drift_report_id"),
                ("performance report", "performance_report_id"), ("request", "request_id"))
               if run[key] is not None and not pd.isna(run[key])]
    if lineage:
        st.caption("Asked for by " + ", ".join(lineage) + " (Drift and Jobs & alerts pages).")
    link = registry_view.run_link(ctx.settings.mlflow_tracking_uri,
                                  view.experiments.get(str(run["model"])), run["mlflow_run_id"])
    if link is None:
        st.caption("No MLflow run: the retrain stopped before opening one.")
    elif registry_view.is_url(link):
        st.markdown(f"MLflow run: [{run['mlflow_run_id']}]({link})")
    else:
        st.caption(f"MLflow {link}")
    if run["status"] == DONE:
        st.markdown("**Holdout metrics** (the new model and the champion on the same holdout)")
        st.dataframe(loop_tables.holdout_table(run["metrics"]), hide_index=True,
                     width="stretch")
        details = run["details"] if isinstance(run["details"], dict) else {}
        seconds = details.get("seconds") or {}
        if seconds:
            st.caption("Time spent: " + ", ".join(f"{k} {float(v):.1f} s"
                                                  for k, v in seconds.items()))
        window = details.get("window") or {}
        if window:
            st.caption(f"Training window {window.get('since', '?')} to "
                       f"{window.get('until', '?')}; dataset hash `{run['dataset_hash']}`")
    elif run["status"] in (FAILED, SKIPPED) or run["error"]:
        st.error(run["error"] or "(no error recorded)")
        details = run["details"] if isinstance(run["details"], dict) else {}
        if details.get("traceback"):
            with st.expander("Traceback", expanded=run["status"] == FAILED):
                st.code(details["traceback"], language="text")


def _retrain_form(ctx: ui.Context, model: str) -> None:
    st.subheader("Ask for a retrain")
    if not forms.actions_allowed(ctx):
        return
    with st.form("retrain_form"):
        st.markdown(f"**Retrain {model}** (queued for a scheduler process; the cooldown "
                    "shared with alerts applies unless forced)")
        reason = st.text_input("Reason (stored with the run)", key="retrain_reason")
        force = st.checkbox("Skip the cooldown", key="retrain_force")
        actor, token, confirmed = forms.admin_inputs("retrain")
        if st.form_submit_button("Queue retrain"):
            forms.perform(lambda: actions_loop.request_retrain(
                data.engine(ctx.url), ctx.settings, model, reason=reason, force=force,
                actor=actor, token=token, admin_token=ctx.settings.admin_token,
                confirmed=confirmed))


def render() -> None:
    page = ui.open_page("Retraining")
    if page is None:
        return
    ctx, models = page
    forms.flash()
    forms.clear_admin_inputs()
    c1, c2 = st.columns(2)
    with c1:
        model_id, model = ui.pick_model(models, "retrain_model")
    with c2:
        range_label, _, start = ui.pick_range("retrain_range", "30 days")
    runs = data_loop.retrain_runs(ctx.url, start, model_id)
    if runs.empty:
        st.info(NO_RUNS.format(model=model, range=range_label))
    else:
        counts = runs["status"].value_counts()
        k1, k2, k3, k4 = st.columns(4)
        k1.metric("Retrain runs", len(runs))
        k2.metric("Done", int(counts.get(DONE, 0)))
        k3.metric("Failed", int(counts.get(FAILED, 0)))
        k4.metric("Skipped", int(counts.get(SKIPPED, 0)))
        st.altair_chart(loop_charts.retrain_chart(runs), width="stretch")
        st.dataframe(charts.style_status(loop_tables.retrain_table(runs)), hide_index=True,
                     width="stretch", height=min(400, 38 + 35 * len(runs)))
        ids = runs["id"].astype(int).tolist()
        label = {int(r.id): f"#{r.id} · {ui.fmt_time(r.started_at)} · {r.status}"
                 for r in runs.itertuples()}
        chosen = st.selectbox("Run", ids, format_func=lambda i: label.get(i, str(i)),
                              key="retrain_run")
        view = registry_view.registry_view(ctx.settings.mlflow_tracking_uri,
                                           tuple(models["name"]))
        _run_detail(ctx, runs[runs["id"] == chosen].iloc[0], view)
    _retrain_form(ctx, model)

"""Performance: realised and estimated metrics over time, label coverage, change points."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lifecycle.dashboard import charts, data, tables, ui

ASSUMPTION = (
    "**Estimated** values are computed without labels from the model's own confidence on the "
    "current inputs. They assume **no concept shift** (the relationship between inputs and "
    "the label is unchanged) and account only for **covariate shift** (the inputs moved); "
    "a concept shift shows up only in the **realised** metric, once labels arrive."
)

NO_REPORT = (
    "No performance report for **{model}** in this range. Log ground truth with "
    "`lifecycle.log_outcomes(\"{model}\", ids, labels)`; the scheduler's performance check "
    "then writes one report per window."
)

#: Shown instead of NO_REPORT when labels were logged: asking for them would mislead.
NO_METRIC_WITH_LABELS = (
    "No performance metric for **{model}** in this range yet, although labels are logged "
    "({labelled}). The scheduler's performance check (or `lifecycle performance "
    "{model}`) writes one report per window once a window has enough labelled predictions "
    "(`min_labels`); until then its verdict is `insufficient labels`."
)


def _no_metric(url: str, model_id: int, model: str, cov: pd.DataFrame) -> str:
    """What to do next when no metric is shown: log labels only if none exists."""
    labelled = int(cov["n_labelled"].sum()) if not cov.empty else 0
    if labelled:
        return NO_METRIC_WITH_LABELS.format(model=model,
                                            labelled=f"{labelled:,} labelled predictions")
    if data.has_labels(url, model_id):
        return NO_METRIC_WITH_LABELS.format(
            model=model, labelled="none of them in this range's windows yet")
    return NO_REPORT.format(model=model)


def render() -> None:
    page = ui.open_page("Performance")
    if page is None:
        return
    ctx, models = page
    c1, c2, c3 = st.columns(3)
    with c1:
        model_id, model = ui.pick_model(models, "perf_model")
    with c2:
        range_label, _, start = ui.pick_range("perf_range")
    perf = data.performance(ctx.url, model_id, start)
    cov = data.coverage(ctx.url, model_id, start)
    if perf.empty and cov.empty:
        st.info(_no_metric(ctx.url, model_id, model, cov))
        return
    points = data.change_points(ctx.url, model_id, start)
    if not perf.empty:
        metrics = list(dict.fromkeys(perf["metric"].tolist()))
        with c3:
            metric = st.selectbox("Metric", metrics, key="perf_metric")
        chosen = perf[perf["metric"] == metric]
        realised = chosen[(chosen["kind"] == "realised") & chosen["value"].notna()]
        estimated = chosen[(chosen["kind"] == "estimated") & chosen["value"].notna()]
        m1, m2, m3, m4 = st.columns(4)
        ref = chosen["reference_value"].dropna()
        m1.metric("Reference", f"{ref.iloc[-1]:.4f}" if len(ref) else "-")
        if len(realised):
            last = realised.iloc[-1]
            m2.metric(f"Realised {metric} (latest labelled window)", f"{last['value']:.4f}",
                      help=f"95% CI {last['ci_low']:.4f} to {last['ci_high']:.4f}")
        else:
            m2.metric(f"Realised {metric}", "-", help="no window has enough labels yet")
        if len(estimated):
            last_e = estimated.iloc[-1]
            m3.metric(f"Estimated {metric} (latest window)", f"{last_e['value']:.4f}")
        else:
            m3.metric(f"Estimated {metric}", "-")
        verdicts = realised["verdict"].tolist()
        ui.verdict(m4, "Latest verdict (realised)", verdicts[-1] if verdicts else None)
        st.altair_chart(charts.metric_chart(perf, points, str(metric)), width="stretch")
        st.caption("Solid: realised (labelled rows); dashed: label-free estimate; shaded: 95% "
                   "confidence band; grey dashed rule: reference value; red rules: "
                   "error-stream change points.")
        st.info(ASSUMPTION)
        stored = data.estimate_assumption(ctx.url, model_id)
        if stored:
            st.caption(f"Stored with the latest estimate: {stored}")
    else:
        st.info(_no_metric(ctx.url, model_id, model, cov))

    st.subheader("Label coverage and delay")
    if cov.empty:
        st.caption("No performance window yet.")
    else:
        total_pred = int(cov["n_predictions"].sum())
        total_lab = int(cov["n_labelled"].sum())
        delay = cov["label_delay_median_s"].dropna()
        k1, k2, k3 = st.columns(3)
        k1.metric(f"Label coverage ({range_label})",
                  ui.fmt_share(total_lab / total_pred if total_pred else None))
        k2.metric("Labelled predictions", f"{total_lab:,} / {total_pred:,}")
        k3.metric("Median label delay",
                  ui.fmt_duration(float(delay.median())) if len(delay) else "-")
        st.altair_chart(charts.coverage_chart(cov), width="stretch")
        st.caption("Recent windows have lower coverage while their labels are still arriving.")
        runs = data.coverage_runs(ctx.url, model_id, start)
        if not runs.empty:
            st.markdown("**Coverage by run** (windows recomputed as labels arrived: "
                        "`rerun_after`)")
            st.dataframe(tables.display_frame(runs), hide_index=True, width="stretch")

    st.subheader("Change points in the error stream")
    if points.empty:
        st.caption("No change point detected in this range.")
    else:
        st.dataframe(tables.display_frame(points),
                     hide_index=True, width="stretch")

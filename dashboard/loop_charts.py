"""Pure Altair builders of the lifecycle pages (no ``st.*``): the shadow evaluation's
interval narrowing as labelled pairs accumulate, agreement and drop rates, the latency of
champion and challenger, and retrain runs over time."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lifecycle.dashboard.charts import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    RED,
    TIME_AXIS,
    TIME_FORMAT,
)
from lifecycle.dashboard.charts import base_chart as _chart
from lifecycle.states import (
    CHALLENGER,
    CHAMPION,
    CONTINUE,
    DONE,
    FAILED,
    LOST,
    PROMOTE,
    REJECT,
    RUNNING,
    SKIPPED,
)

DECISION_SCALE = alt.Scale(domain=[PROMOTE, CONTINUE, REJECT], range=[GREEN, GREY, ORANGE])
RETRAIN_SCALE = alt.Scale(domain=[DONE, SKIPPED, FAILED, LOST, RUNNING],
                          range=[GREEN, GREY, RED, RED, BLUE])
ROLE_SCALE = alt.Scale(domain=[CHAMPION, CHALLENGER], range=[BLUE, ORANGE])


def delta_chart(evals: pd.DataFrame, metric: str) -> alt.LayerChart:
    """The challenger-minus-champion delta of ``metric`` per evaluation with the gate's
    interval (two-sided at 1 - 2 alpha: 90 % by default) as a band (it narrows as labels
    arrive), zero as a rule, and each look coloured
    by its decision."""
    frame = evals[["created_at", "delta", "ci_low", "ci_high", "n_paired", "decision",
                   "p_value"]].dropna(subset=["delta"])
    base = _chart(frame)
    x = alt.X("created_at:T", title=None, axis=TIME_AXIS)
    band = base.mark_area(opacity=0.2, color=BLUE).encode(
        x=x, y=alt.Y("ci_low:Q", title=f"challenger - champion ({metric})"), y2="ci_high:Q")
    line = base.mark_line(color=BLUE).encode(x=x, y="delta:Q")
    points = base.mark_point(filled=True, size=60).encode(
        x=x, y="delta:Q", color=alt.Color("decision:N", scale=DECISION_SCALE, title="decision"),
        tooltip=[alt.Tooltip("created_at:T", format=TIME_FORMAT, title="at"),
                 alt.Tooltip("n_paired:Q", title="labelled pairs", format=","),
                 alt.Tooltip("delta:Q", format="+.4f"),
                 alt.Tooltip("ci_low:Q", format="+.4f", title="CI low"),
                 alt.Tooltip("ci_high:Q", format="+.4f", title="CI high"),
                 alt.Tooltip("p_value:Q", format=".3g"), "decision:N"])
    zero = _chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4], color=GREY) \
        .encode(y="zero:Q")
    return alt.LayerChart(layer=[band, line, points, zero]).properties(height=280)


def rates_frame(evals: pd.DataFrame) -> pd.DataFrame:
    """Agreement and shadow drop rate per evaluation, long format (missing rates left out)."""
    cols = {"agreement_rate": "agreement", "drop_rate": "shadow drop rate"}
    frame = evals[["created_at", *cols]].rename(columns=cols).melt(
        id_vars="created_at", var_name="rate", value_name="value").dropna(subset=["value"])
    return frame.reset_index(drop=True)


def rates_chart(frame: pd.DataFrame) -> alt.Chart:
    return _chart(frame).mark_line(point=True).encode(
        x=alt.X("created_at:T", title=None, axis=TIME_AXIS),
        y=alt.Y("value:Q", title="share", axis=alt.Axis(format="%")),
        color=alt.Color("rate:N", title=None,
                        scale=alt.Scale(domain=["agreement", "shadow drop rate"],
                                        range=[GREEN, RED])),
        tooltip=[alt.Tooltip("created_at:T", format=TIME_FORMAT), "rate:N",
                 alt.Tooltip("value:Q", format=".2%")],
    ).properties(height=220)


def shadow_latency_frame(traffic: pd.DataFrame) -> pd.DataFrame:
    """Mean latency per prediction per hour of champion and challenger rows (hours the
    challenger shadowed), from ``traffic_hourly``. Per prediction, not per call: the shadow
    path scores micro-batches, so its "calls" are not the caller's."""
    cols = ["bucket", "role", "latency_ms", "n_predictions"]
    df = traffic[traffic["role"].isin([CHAMPION, CHALLENGER])
                 & (traffic["n_predictions"] > 0)]
    if df.empty:
        return pd.DataFrame(columns=cols)
    shadowed = df.loc[df["role"] == CHALLENGER, "bucket_start"]
    if shadowed.empty:
        return pd.DataFrame(columns=cols)
    df = df[df["bucket_start"] >= shadowed.min()]
    g = df.groupby(["bucket_start", "role"], as_index=False)[
        ["n_predictions", "latency_sum_ms"]].sum()
    g["latency_ms"] = g["latency_sum_ms"] / g["n_predictions"]
    return g.rename(columns={"bucket_start": "bucket"})[cols]


def shadow_latency_chart(frame: pd.DataFrame) -> alt.Chart:
    return _chart(frame).mark_line().encode(
        x=alt.X("bucket:T", title=None, axis=TIME_AXIS),
        y=alt.Y("latency_ms:Q", title="mean latency per prediction (ms)"),
        color=alt.Color("role:N", scale=ROLE_SCALE, title=None),
        tooltip=["role:N", alt.Tooltip("bucket:T", format=TIME_FORMAT),
                 alt.Tooltip("latency_ms:Q", format=".1f", title="ms / prediction"),
                 alt.Tooltip("n_predictions:Q", format=",")],
    ).properties(height=220)


def retrain_chart(runs: pd.DataFrame) -> alt.Chart:
    """Retrain runs over time: duration by start, coloured by status, shaped by trigger."""
    frame = runs[["id", "model", "started_at", "duration_s", "status", "trigger", "n_rows"]]
    return _chart(frame).mark_point(filled=True, size=90).encode(
        x=alt.X("started_at:T", title=None, axis=TIME_AXIS),
        y=alt.Y("duration_s:Q", title="duration (s)"),
        color=alt.Color("status:N", scale=RETRAIN_SCALE, title="status"),
        shape=alt.Shape("trigger:N", title="trigger"),
        tooltip=["id:Q", "model:N", alt.Tooltip("started_at:T", format=TIME_FORMAT),
                 "status:N", "trigger:N", alt.Tooltip("n_rows:Q", format=","),
                 alt.Tooltip("duration_s:Q", format=".1f")],
    ).properties(height=220)

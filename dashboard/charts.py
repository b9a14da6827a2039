"""Pure chart and table builders: data frames in, Altair specs or display frames out.

No ``st.*`` call lives here, so every builder is unit-testable without a running app.
Colour rule: red only where a person is needed (drift, degraded performance, failed job,
unacknowledged alert); warnings are orange; everything else is neutral or green.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from lifecycle.states import DONE, FAILED, LOST, PENDING, PROMOTE, REJECT, SERVED_ROLES


def _utc_naive(frame: pd.DataFrame) -> pd.DataFrame:
    """Time columns as naive UTC: every axis is labelled UTC, and handing tz-aware columns to
    Altair/Streamlit goes through a conversion pandas 3.1 deprecates (Series.values)."""
    aware = [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    if not aware:
        return frame
    out = frame.copy()
    for column in aware:
        out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _chart(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(_utc_naive(frame))


#: The chart every builder starts from (time columns as naive UTC), for sibling modules.
base_chart = _chart

RED, ORANGE, GREEN, GREY, BLUE = "#d62728", "#ff7f0e", "#2ca02c", "#9e9e9e", "#1f77b4"

# Job-run statuses are the runner's own words (lifecycle.jobs.leases / lifecycle.jobs.runner).
_BAD = {"drift", "degraded", FAILED, LOST, "critical", "open"}
# A REJECT is the gate working (orange); red only when it waits for a person (Overview).
_WARN = {"warning", "acknowledged", REJECT, PENDING}
_GOOD = {"no_drift", "ok", "fine", DONE, "resolved", PROMOTE}
_RANK = {"drift": 3, "degraded": 3, "insufficient_data": 2, "warning": 1, "no_drift": 0, "ok": 0,
         "fine": 0}
_RANK_NAME = {3: "drift", 2: "insufficient_data", 1: "warning", 0: "no_drift"}

#: Time axes: 24-hour clock, day first (Vega's default multi-format shows "03 PM" or "06").
TIME_AXIS_FORMAT = "%m-%d %H:%M"
TIME_FORMAT = "%Y-%m-%d %H:%M"
_TIME_AXIS = alt.Axis(format=TIME_AXIS_FORMAT, labelAngle=0)
TIME_AXIS = _TIME_AXIS


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting ``x2`` before ``x10`` (digit runs compare as numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold())
                 for part in re.split(r"(\d+)", str(name)) if part)


def natural_sorted(names: Iterable[str]) -> list[str]:
    """``names`` in natural order: ``x0, x1, x2, ..., x10``."""
    return sorted(names, key=natural_key)


#: Statistics preferred for the heatmap colour (first present wins).
HEATMAP_PREFERENCE = ("psi", "jensen_shannon", "wasserstein", "ks", "chi_square")


def status_level(verdict: str | None) -> str:
    """``bad`` (needs a person), ``warn``, ``ok`` or ``none`` for any verdict/status."""
    if verdict is None or (isinstance(verdict, float) and math.isnan(verdict)):
        return "none"
    v = str(verdict)
    if v in _BAD:
        return "bad"
    if v in _WARN:
        return "warn"
    if v in _GOOD:
        return "ok"
    return "none"


#: Streamlit colour names per level (``st.badge`` / ``:color-badge[...]``).
LEVEL_COLOURS = {"bad": "red", "warn": "orange", "ok": "green", "none": "gray"}
_CSS = {"bad": RED, "warn": ORANGE, "ok": GREEN, "none": GREY}


def status_text(verdict: str | None) -> str:
    """A verdict in words (``no drift``, ``insufficient data``) or ``none yet``."""
    if verdict is None or (isinstance(verdict, float) and math.isnan(verdict)):
        return "none yet"
    return str(verdict).replace("_", " ")


def status_label(verdict: str | None) -> str:
    """A verdict with a dot for tables: ``● drift``; ``– none yet`` when missing."""
    text = status_text(verdict)
    return "– none yet" if text == "none yet" else f"● {text}"


def status_badge(verdict: str | None) -> str:
    """Streamlit markdown for a coloured badge, e.g. ``:red-badge[drift]``."""
    return f":{LEVEL_COLOURS[status_level(verdict)]}-badge[{status_text(verdict)}]"


def _label_css(value: object) -> str:
    """The colour of a ``● verdict`` cell; a count before (``● 2 open``) or after
    (``● drift 2/5``, ``● 2 open, 1 ack'd``) the verdict is ignored."""
    text = str(value)
    if not text.startswith("● "):
        return ""
    verdict = re.split(r"[\d,]", text[2:].lstrip("0123456789 "))[0].strip().replace(" ", "_")
    return f"color: {_CSS[status_level(verdict)]}; font-weight: 600"


def style_status(frame: pd.DataFrame) -> Any:
    """A pandas Styler colouring every ``● verdict`` cell by its level (red only for
    states that need a person)."""
    return frame.style.map(_label_css).format(precision=2, na_rep="")


def worst(verdicts: Sequence[str]) -> str:
    """The most severe verdict of a group (drift > insufficient data > warning > ok)."""
    return max(verdicts, key=lambda v: _RANK.get(v, 0)) if len(verdicts) else "no_drift"


def choose_freq(n_hours: float) -> str:
    """Hourly points up to 14 days, daily beyond (keeps charts under ~400 points/series)."""
    return "h" if n_hours <= 14 * 24 else "D"


#: Roles whose predictions are served to callers (challenger traffic is shadow traffic).


def traffic_frame(df: pd.DataFrame, freq: str = "h",
                  roles: Sequence[str] | None = SERVED_ROLES) -> pd.DataFrame:
    """Volume and latency per model and time bucket, versions summed, over ``roles``
    (default: served traffic only; None: every role). ``latency_call_ms`` is the mean
    latency of a call, ``latency_row_ms`` the model time per prediction, both from the calls
    counted in ``traffic_hourly`` (hours written before revision 0004 count no call and are
    left out of both)."""
    cols = ["bucket", "model", "n_predictions", "n_calls", "latency_call_ms", "latency_row_ms"]
    if roles is not None and not df.empty and "role" in df.columns:
        df = df[df["role"].isin(roles)]
    if df.empty:
        return pd.DataFrame(columns=cols)
    frame = df.assign(bucket=pd.to_datetime(df["bucket_start"], utc=True).dt.floor(freq),
                      counted_rows=df["n_predictions"].where(df["n_calls"] > 0, 0))
    g = frame.groupby(["bucket", "model"], as_index=False)[
        ["n_predictions", "n_calls", "call_latency_sum_ms", "counted_rows"]].sum()
    g["latency_call_ms"] = g["call_latency_sum_ms"] / g["n_calls"].where(g["n_calls"] > 0)
    g["latency_row_ms"] = g["call_latency_sum_ms"] / g["counted_rows"].where(
        g["counted_rows"] > 0)
    return g[cols]


def volume_chart(frame: pd.DataFrame) -> alt.Chart:
    """Predictions per bucket, one line per model."""
    return _chart(frame).mark_line(interpolate="monotone").encode(
        x=alt.X("bucket:T", title=None, axis=_TIME_AXIS),
        y=alt.Y("n_predictions:Q", title="predictions"),
        color=alt.Color("model:N", title="model"),
        tooltip=["model:N", alt.Tooltip("bucket:T", format=TIME_FORMAT),
                 "n_predictions:Q"],
    ).properties(height=220)


def latency_chart(frame: pd.DataFrame) -> alt.Chart:
    """Mean latency per call per bucket, one line per model (a batch call counts once, not
    once per row); the tooltip adds the model time per prediction."""
    return _chart(frame).mark_line(interpolate="monotone").encode(
        x=alt.X("bucket:T", title=None, axis=_TIME_AXIS),
        y=alt.Y("latency_call_ms:Q", title="mean latency per call (ms)"),
        color=alt.Color("model:N", title="model"),
        tooltip=["model:N", alt.Tooltip("bucket:T", format=TIME_FORMAT),
                 alt.Tooltip("latency_call_ms:Q", format=".1f", title="ms / call"),
                 alt.Tooltip("latency_row_ms:Q", format=".3f", title="ms / prediction"),
                 alt.Tooltip("n_calls:Q", title="calls")],
    ).properties(height=220)


# --------------------------------------------------------------------------- drift


def heatmap_statistic(names: Sequence[str]) -> str | None:
    """The statistic shown in the heatmap by default."""
    present = list(dict.fromkeys(names))
    for name in HEATMAP_PREFERENCE:
        if name in present:
            return name
    return present[0] if present else None


#: Beyond this many windows the drift heatmap shows one cell per day.
MAX_HEATMAP_WINDOWS = 400


def heatmap_frame(matrix: pd.DataFrame, statistic: str,
                  max_windows: int = MAX_HEATMAP_WINDOWS) -> pd.DataFrame:
    """One cell per (window, feature): the chosen statistic (``value``), the same over the
    windows that were assessed (``shade``: NaN for ``insufficient_data``, whose statistic
    from a handful of rows says nothing and must not set the colour scale) and the worst
    verdict.

    When there are more than ``max_windows`` windows, windows are merged into daily cells
    (maximum statistic, worst verdict) so the chart stays readable and light. A matrix
    already merged per day in SQL brings its own ``assessed`` column (the maximum over the
    day's assessed windows).
    """
    cols = ["window_start", "window_end", "feature", "value", "shade", "verdict"]
    if matrix.empty:
        return pd.DataFrame(columns=cols)
    m = matrix[matrix["statistic_name"] == statistic] if "statistic_name" in matrix else matrix
    assessed = (m["assessed"] if "assessed" in m
                else m["statistic"].where(m["verdict"] != "insufficient_data"))
    m = m.assign(window_end=pd.to_datetime(m["window_end"], utc=True),
                 rank=m["verdict"].map(_RANK).fillna(0).astype(int),
                 assessed=assessed.astype(float))
    cell = m.groupby(["window_end", "feature"], as_index=False).agg(
        value=("statistic", "max"), shade=("assessed", "max"), rank=("rank", "max"))
    windows = cell["window_end"].unique()
    if len(windows) > max_windows:
        cell["window_end"] = cell["window_end"].dt.ceil("D")
        cell = cell.groupby(["window_end", "feature"], as_index=False).agg(
            value=("value", "max"), shade=("shade", "max"), rank=("rank", "max"))
        width = pd.Timedelta(days=1)
    else:
        steps = pd.Series(sorted(windows)).diff().dropna()
        width = steps.min() if len(steps) else pd.Timedelta(hours=1)
    cell["verdict"] = cell["rank"].map(_RANK_NAME)
    cell["window_start"] = cell["window_end"] - width
    return cell[cols]


#: Height of one heatmap row in pixels: every feature gets a labelled row. The chart's
#: height also holds the time axis and its title (Streamlit fits the whole chart into it).
HEATMAP_ROW_PX = 26
HEATMAP_AXIS_PX = 80


def heatmap_domain(frame: pd.DataFrame) -> list[float]:
    """The colour scale's domain: 0 to the largest ``shade`` (statistic over assessed
    windows). ``insufficient_data`` windows (a 1-row window can give a huge statistic) never
    set it."""
    shade = frame["shade"].astype(float) if "shade" in frame else pd.Series(dtype=float)
    top = float(shade.max()) if shade.notna().any() else 0.0
    return [0.0, top if top > 0 else 1.0]


def drift_heatmap(frame: pd.DataFrame, statistic: str) -> alt.LayerChart:
    """Effect size by window (blue scale over assessed windows only) with drift marked red,
    warnings orange, and cells with no assessed window (``insufficient_data``) light grey.
    Features are in natural order (x2 before x10), each with its own labelled row; times on
    a 24-hour UTC clock."""
    order = natural_sorted(frame["feature"].unique().tolist()) if not frame.empty else []
    y = alt.Y("feature:N", title=None, sort=order,
              axis=alt.Axis(labelOverlap=False, labelLimit=240))
    x = alt.X("window_start:T", title="window (UTC)",
              axis=_TIME_AXIS)
    tooltip = ["feature:N", alt.Tooltip("window_start:T", format=TIME_FORMAT, title="from"),
               alt.Tooltip("window_end:T", format=TIME_FORMAT, title="to"),
               alt.Tooltip("value:Q", format=".4f", title=statistic), "verdict:N"]
    base = _chart(frame)
    assessed = base.transform_filter(
        "isValid(datum.shade)"
    ).mark_rect().encode(
        x=x, x2="window_end:T", y=y,
        color=alt.Color("shade:Q", title=statistic,
                        scale=alt.Scale(scheme="blues", domain=heatmap_domain(frame),
                                        clamp=True)),
        tooltip=tooltip,
    )
    insufficient = base.transform_filter(
        "!isValid(datum.shade)"
    ).mark_rect(color="#e0e0e0").encode(x=x, x2="window_end:T", y=y, tooltip=tooltip)
    marks = base.transform_filter(
        alt.FieldOneOfPredicate(field="verdict", oneOf=["drift", "warning"])
    ).transform_calculate(
        mid="(toDate(datum.window_start) + toDate(datum.window_end)) / 2"
    ).mark_point(filled=True, size=28).encode(
        x=alt.X("mid:T", axis=_TIME_AXIS), y=y,
        color=alt.Color("verdict:N", scale=alt.Scale(domain=["drift", "warning"],
                                                     range=[RED, ORANGE]), legend=None),
        tooltip=["feature:N", "verdict:N"],
    )
    n_features = max(1, len(order))
    return alt.layer(assessed, insufficient, marks).resolve_scale(
        color="independent").properties(height=HEATMAP_ROW_PX * n_features + HEATMAP_AXIS_PX)


def features_by_severity(matrix: pd.DataFrame) -> list[str]:
    """Features ordered by their verdict in the latest window (worst first), then in natural
    order (x2 before x10)."""
    if matrix.empty:
        return []
    latest = matrix[matrix["window_end"] == matrix["window_end"].max()]
    rank = latest.groupby("feature")["verdict"].agg(lambda s: _RANK.get(worst(list(s)), 0))
    names = natural_sorted(matrix["feature"].unique().tolist())
    return sorted(names, key=lambda f: (-int(rank.get(f, 0)), natural_key(f)))


def _bucket_labels(edges: Sequence[float], n_counts: int) -> list[str]:
    fmt = [f"{e:.4g}" for e in edges]
    labels = [f"< {fmt[0]}"] if fmt else []
    labels += [f"[{a}, {b})" for a, b in zip(fmt, fmt[1:], strict=False)]
    labels += [f"≥ {fmt[-1]}"] if fmt else []
    if n_counts == len(labels) + 1:
        labels.append("missing")
    return labels


def distribution_frame(details: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """Reference vs current shares per bucket from a stored result's ``details``.

    Understands the :class:`lifecycle.drift.report.StatResult` keys (``bin_edges``,
    ``categories``, ``reference_counts``, ``current_counts``); returns None when the
    details hold no counts (the page then shows only the numbers).
    """
    if not details:
        return None
    ref = details.get("reference_counts")
    cur = details.get("current_counts")
    if not isinstance(ref, list | tuple) or not isinstance(cur, list | tuple) or not ref:
        return None
    if len(ref) != len(cur):
        return None
    cats = details.get("categories") or []
    edges = details.get("bin_edges") or []
    if len(cats) == len(ref):
        labels = [str(c) for c in cats]
    else:
        labels = _bucket_labels(edges, len(ref))
        if len(labels) != len(ref):
            labels = [f"bin {i}" for i in range(len(ref))]
    labels = [{"__missing__": "missing", "__unseen__": "unseen"}.get(x, x) for x in labels]
    ref_total = float(sum(float(x or 0) for x in ref)) or 1.0
    cur_total = float(sum(float(x or 0) for x in cur)) or 1.0
    rows = []
    for i, (label, r, c) in enumerate(zip(labels, ref, cur, strict=True)):
        rows.append({"order": i, "bucket": label, "side": "reference", "count": int(r or 0),
                     "share": float(r or 0) / ref_total})
        rows.append({"order": i, "bucket": label, "side": "current", "count": int(c or 0),
                     "share": float(c or 0) / cur_total})
    return pd.DataFrame(rows)


def distribution_chart(frame: pd.DataFrame) -> alt.Chart:
    """Side-by-side bars of reference and current shares per bin or category."""
    order = list(dict.fromkeys(frame.sort_values("order")["bucket"]))
    return _chart(frame).mark_bar().encode(
        x=alt.X("bucket:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
        xOffset=alt.XOffset("side:N", sort=["reference", "current"]),
        y=alt.Y("share:Q", title="share of rows", axis=alt.Axis(format="%")),
        color=alt.Color("side:N", scale=alt.Scale(domain=["reference", "current"],
                                                  range=[GREY, BLUE]), title=None),
        tooltip=["bucket:N", "side:N", "count:Q", alt.Tooltip("share:Q", format=".2%")],
    ).properties(height=260)


def details_by_preference(rows: pd.DataFrame) -> list[Mapping[str, Any]]:
    """The ``details`` of a feature's statistics, the heatmap's preferred statistic first
    (PSI's buckets are the ones to plot)."""
    order = {name: i for i, name in enumerate(HEATMAP_PREFERENCE)}
    ranked = sorted(zip(rows["statistic_name"], rows["details"], strict=True),
                    key=lambda pair: order.get(str(pair[0]), len(order)))
    return [d for _, d in ranked if isinstance(d, Mapping)]


# --------------------------------------------------------------------------- performance


def metric_chart(perf: pd.DataFrame, change_points: pd.DataFrame,
                 metric: str) -> alt.LayerChart:
    """Realised and estimated ``metric`` over time with confidence bands, the reference
    value as a dashed rule and change points as vertical rules."""
    frame = perf[perf["metric"] == metric].copy()
    frame["window_end"] = pd.to_datetime(frame["window_end"], utc=True)
    kinds = alt.Scale(domain=["realised", "estimated"], range=[BLUE, "#9467bd"])
    base = _chart(frame)
    band = base.mark_area(opacity=0.18).encode(
        x=alt.X("window_end:T", title=None, axis=_TIME_AXIS), y=alt.Y("ci_low:Q", title=metric),
        y2="ci_high:Q", color=alt.Color("kind:N", scale=kinds, title=None))
    line = base.mark_line().encode(
        x="window_end:T", y=alt.Y("value:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("kind:N", scale=kinds, title=None),
        strokeDash=alt.StrokeDash("kind:N", sort=["realised", "estimated"], legend=None),
        tooltip=["kind:N", alt.Tooltip("window_end:T", format=TIME_FORMAT),
                 alt.Tooltip("value:Q", format=".4f"), alt.Tooltip("ci_low:Q", format=".4f"),
                 alt.Tooltip("ci_high:Q", format=".4f"), "verdict:N"])
    layers: list[Any] = [band, line]
    ref = frame["reference_value"].dropna()
    if len(ref):
        layers.append(_chart(pd.DataFrame({"reference": [float(ref.iloc[-1])]}))
                      .mark_rule(strokeDash=[4, 4], color=GREY)
                      .encode(y="reference:Q", tooltip=["reference:Q"]))
    if not change_points.empty:
        cp = change_points.assign(ts=pd.to_datetime(change_points["ts"], utc=True))
        layers.append(_chart(cp).mark_rule(color=RED, strokeWidth=2).encode(
            x="ts:T", tooltip=["detector:N", alt.Tooltip("ts:T", format=TIME_FORMAT),
                               "stream_index:Q"]))
    return alt.LayerChart(layer=layers).properties(height=300)


def coverage_chart(cov: pd.DataFrame) -> alt.Chart:
    """Label coverage per window (share of predictions with a label so far)."""
    frame = cov.assign(window_end=pd.to_datetime(cov["window_end"], utc=True))
    return _chart(frame).mark_area(opacity=0.5, color=GREEN).encode(
        x=alt.X("window_end:T", title=None, axis=_TIME_AXIS),
        y=alt.Y("label_coverage:Q", title="label coverage",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("window_end:T", format=TIME_FORMAT),
                 alt.Tooltip("label_coverage:Q", format=".1%"), "n_labelled:Q",
                 "n_predictions:Q"],
    ).properties(height=180)

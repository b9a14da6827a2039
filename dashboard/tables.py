"""Pure table builders: query results in, display-ready frames out (no ``st.*`` calls).

Timestamps become ``YYYY-MM-DD HH:MM`` UTC text and verdicts ``● verdict`` labels that
:func:`dashboard.charts.style_status` colours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from lifecycle.dashboard.charts import status_label


def overview_table(df: pd.DataFrame) -> pd.DataFrame:
    """The overview's status table, one row per model, ready to display. Narrow enough for a
    1400 px window next to the sidebar: short headers (the page's column help spells them
    out), the drifted-feature count in the data drift cell and acknowledged alerts in the
    alerts cell."""
    drifted = df["drifted_features"]
    out = pd.DataFrame({
        "model": df["model"],
        "versions": df["versions"].replace("", "-"),
        "predictions": df["predictions"].astype("int64"),
        "ms/call": df["latency_call_ms"].astype(float),
        "ms/pred": df["latency_row_ms"].astype(float),
        "labelled": (df["label_coverage"].astype(float) * 100).round(1),  # percent
        "data drift": [status_label(v) + (f" {n}" if isinstance(n, str) and v else "")
                       for v, n in zip(df["data_drift"], drifted, strict=True)],
        "pred. drift": [status_label(v) for v in df["prediction_drift"]],
        "perf.": [status_label(v) for v in df["performance"]],
        "alerts": [_alerts_cell(int(o), int(a)) for o, a in
                   zip(df["open_alerts"], df["acknowledged_alerts"], strict=True)],
    })
    return out


def _alerts_cell(n_open: int, n_acknowledged: int) -> str:
    """``● 2 open, 1 ack'd`` (red: a person is needed), ``1 ack'd``, or ``0``."""
    ack = f"{n_acknowledged} ack'd" if n_acknowledged else ""
    if n_open:
        return f"● {n_open} open" + (f", {ack}" if ack else "")
    return ack or "0"


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ``YYYY-MM-DD HH:MM`` UTC text (tables show UTC, and Arrow does not have
    to convert timezone-aware columns)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype) or (
            out[col].dtype == object and len(out[col].dropna())
            and isinstance(out[col].dropna().iloc[0], pd.Timestamp | datetime)
        ):
            out[col] = [
                "" if v is None or pd.isna(v)
                else pd.Timestamp(v).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
                for v in out[col]
            ]
    return out


def sig(value: object, digits: int = 4) -> str:
    """A number to ``digits`` significant digits (``6.1e-42``, ``0.7175``); ``-`` if missing."""
    if value is None or isinstance(value, str):
        return "-" if value is None else value
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return "-" if pd.isna(number) else f"{number:.{digits}g}"


def verdict_numbers(rows: pd.DataFrame) -> pd.DataFrame:
    """The exact numbers behind a feature's verdict, one row per statistic."""
    out = []
    for _, r in rows.iterrows():
        d = r["details"] if isinstance(r["details"], Mapping) else {}
        out.append({
            "statistic": r["statistic_name"],
            "value": sig(r["statistic"]),
            "effect": sig(d.get("effect")),
            "p-value": sig(r["p_value"]),
            "adjusted p-value": sig(r["p_adjusted"]),
            "threshold": r["threshold"],
            "warning threshold": d.get("warning_threshold"),
            "drift threshold": d.get("drift_threshold"),
            "verdict": r["verdict"],
            # how far the value may be from the exact one (a sketched reference or a window
            # checked from its hourly rollups; 0 when exact): the decision uses value - bound
            "error bound": sig(d.get("error_bound")),
            "n reference": d.get("n_reference"),
            "n current": d.get("n_current"),
            "variant": d.get("variant"),
        })
    return pd.DataFrame(out)


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Recent job runs with a status dot and duration in seconds."""
    return display_frame(pd.DataFrame({
        "started": runs["started_at"], "job": runs["job"], "model": runs["model"].fillna("-"),
        "status": [status_label(s) for s in runs["status"]],
        "duration (s)": runs["duration_s"].astype(float).round(2),
        "attempt": runs["attempt"], "window end": runs["window_end"],
        "error": runs["error"].fillna(""),
    }))


def alerts_table(df: pd.DataFrame) -> pd.DataFrame:
    """Alerts for display; only unacknowledged open alerts are red."""
    return display_frame(pd.DataFrame({
        "id": df["id"], "model": df["model"], "kind": df["kind"],
        "feature": df["feature"].fillna("-"),
        "severity": df["severity"],
        "status": [status_label(s) for s in df["status"]],
        "message": df["message"], "first seen": df["first_seen"], "last seen": df["last_seen"],
        "occurrences": df["occurrences"],
        "acknowledged by": df["acknowledged_by"].fillna(""),
    }))

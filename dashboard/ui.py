"""Shared Streamlit building blocks of the pages: settings, schema gate, pickers, empty states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from lifecycle.config import Settings
from lifecycle.dashboard import charts, data
from lifecycle.windows import format_elapsed

RANGES: dict[str, float] = {
    "24 hours": 1, "7 days": 7, "30 days": 30, "90 days": 90, "365 days": 365,
}

NO_MODELS = (
    "No monitored model yet. Wrap your predictor with `@lifecycle.monitor(\"my_model\")` "
    "and log a few predictions, or run `lifecycle demo` to see a seeded example."
)


@dataclass(frozen=True)
class Context:
    """What every page needs: validated settings and the database URL (schema checked)."""

    settings: Settings
    url: str


def context() -> Context | None:
    """Settings and a schema-checked database, or a friendly message and None."""
    from lifecycle.config import load_settings
    from lifecycle.errors import LifecycleError

    try:
        settings = load_settings()
    except LifecycleError as exc:
        st.error(f"The settings are invalid: {exc}")
        return None
    problem = data.schema_problem(settings.database_url)
    if problem is not None:
        st.warning(
            "The database is not ready for the dashboard.\n\n"
            f"{problem}\n\nRun `lifecycle db upgrade`, then reload this page."
        )
        return None
    return Context(settings=settings, url=settings.database_url)


def models_or_empty(ctx: Context) -> pd.DataFrame | None:
    """The monitored models, or an empty state saying what to do next."""
    df = data.models(ctx.url)
    if df.empty:
        st.info(NO_MODELS)
        return None
    return df


def open_page(title: str) -> tuple[Context, pd.DataFrame] | None:
    """Title, settings, schema check and the model list for a page about models; None (after
    showing what to do next) when the page has nothing to render."""
    st.title(title)
    ctx = context()
    if ctx is None:
        return None
    models = models_or_empty(ctx)
    if models is None:
        return None
    return ctx, models


def pick_model(df: pd.DataFrame, key: str) -> tuple[int, str]:
    """A model selector remembered across pages; returns (id, name)."""
    names = df["name"].tolist()
    remembered = st.session_state.get("lc_model")
    index = names.index(remembered) if remembered in names else 0
    name = st.selectbox("Model", names, index=index, key=key)
    st.session_state["lc_model"] = name
    model_id = int(df.loc[df["name"] == name, "id"].iloc[0])
    return model_id, str(name)


def pick_range(key: str, default: str = "7 days") -> tuple[str, float, datetime]:
    """A time-range selector; returns (label, days, floored start)."""
    labels = list(RANGES)
    label = st.selectbox("Range", labels, index=labels.index(default), key=key)
    days = RANGES[str(label)]
    return str(label), days, data.since(days)


def fmt_share(value: object) -> str:
    """``0.1234`` -> ``12.3%``; missing -> ``-``."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{float(value):.1%}"  # type: ignore[arg-type]


def fmt_duration(seconds: object) -> str:
    """A duration in its natural unit (:func:`lifecycle.windows.format_elapsed`); missing or
    NaN -> ``-``."""
    if seconds is None or (isinstance(seconds, float) and pd.isna(seconds)):
        return "-"
    return format_elapsed(float(seconds))  # type: ignore[arg-type]


def fmt_time(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def verdict(container: Any, label: str, value: str | None) -> None:
    """A labelled coloured verdict badge (red only when a person is needed)."""
    container.caption(label)
    container.markdown(f"### {charts.status_badge(value)}")

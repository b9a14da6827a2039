"""The lifecycle dashboard: ``lifecycle dashboard`` (or ``streamlit run dashboard/app.py``).

A multipage app wired with ``st.navigation``; each area is a module in ``dashboard/views``
exposing ``render()``. Later areas (retraining, shadow and promotion) add a module and a line
to :func:`pages`.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by streamlit: make ``dashboard`` importable
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)

import streamlit as st  # noqa: E402

from dashboard.views import drift, jobs, overview, performance  # noqa: E402


def pages() -> dict[str, list[st.Page]]:
    """The navigation: one section per part of the lifecycle."""
    return {
        "Monitoring": [
            st.Page(overview.render, title="Overview", icon=":material/monitor_heart:",
                    url_path="overview", default=True),
            st.Page(drift.render, title="Drift", icon=":material/query_stats:",
                    url_path="drift"),
            st.Page(performance.render, title="Performance", icon=":material/target:",
                    url_path="performance"),
            st.Page(jobs.render, title="Jobs & alerts", icon=":material/notifications:",
                    url_path="jobs"),
        ],
    }


def sidebar() -> None:
    from lifecycle.config import load_settings
    from lifecycle.errors import LifecycleError
    from lifecycle.storage.engine import redact_url

    try:
        settings = load_settings()
    except LifecycleError:
        return  # the page itself explains the settings error
    st.sidebar.caption(f"Database: `{redact_url(settings.database_url)}`")
    st.sidebar.caption("Actions enabled (admin token configured)" if settings.admin_token
                       else "Read-only: no admin token configured")


def main() -> None:
    st.set_page_config(page_title="lifecycle", page_icon=":material/monitor_heart:", layout="wide")
    page = st.navigation(pages())
    sidebar()
    page.run()


main()

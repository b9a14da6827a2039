"""The lifecycle dashboard: ``lifecycle dashboard`` runs this script with Streamlit.

The repository folder ``dashboard/`` installs as the package ``lifecycle.dashboard`` (never as
a top-level ``dashboard``, which would shadow or be shadowed by a user's own module), so the
pages are imported from there. A multipage app wired with ``st.navigation``; each area is a
module in ``lifecycle.dashboard.views`` exposing ``render()``, one ``st.Page`` line in
:func:`pages`.
"""

from __future__ import annotations

import streamlit as st

from lifecycle.dashboard.views import (
    drift,
    jobs,
    lineage,
    overview,
    performance,
    retraining,
    shadow,
)


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
        "Lifecycle": [
            st.Page(retraining.render, title="Retraining", icon=":material/model_training:",
                    url_path="retraining"),
            st.Page(shadow.render, title="Shadow & promotions", icon=":material/compare_arrows:",
                    url_path="shadow"),
            st.Page(lineage.render, title="Lineage", icon=":material/account_tree:",
                    url_path="lineage"),
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

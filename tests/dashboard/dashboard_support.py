"""Helpers of the dashboard tests (importable as ``dashboard_support``; fixtures live in
``conftest.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lifecycle.seed import DEFAULT_MODELS, SeedSummary, seed_database

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
#: The dashboard's clock in these tests (``LIFECYCLE_DASHBOARD_NOW``, set for every test by
#: conftest.py) and the end of the seeded history: ranges and numbers are exact, not
#: dependent on when the tests run.
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
PAGES = ("overview", "drift", "performance", "jobs", "retraining", "shadow", "lineage")
#: The seeded registry's MLflow store, beside the seeded database.
MLFLOW_DB = "mlflow.db"
#: AppTest timeout per run: generous, the machine is shared and timings are noisy.
TIMEOUT = 60


def seed(url: str, **kwargs: object) -> SeedSummary:
    """Three models, three days of hourly reports, a few thousand logged predictions."""
    from lifecycle.storage.engine import make_engine

    engine = make_engine(url)
    try:
        options: dict[str, object] = {"models": DEFAULT_MODELS[:3], "days": 3,
                                       "predictions": 3_000, "seed": 7,
                                       "now": NOW}
        options.update(kwargs)
        return seed_database(engine, **options)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def page_test(page: str) -> AppTest:
    """An AppTest running one page's ``render()`` (pages are callables in st.navigation)."""
    script = f"from lifecycle.dashboard.views import {page}\n{page}.render()\n"
    return AppTest.from_string(script, default_timeout=TIMEOUT)


def run_page(page: str) -> AppTest:
    at = page_test(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; metrics: {[m.label for m in at.metric]}"
    return str(found[0])


def texts(at: AppTest) -> str:
    """Every message, markdown and caption of a run, joined (for 'says so' checks)."""
    parts = []
    for kind in ("error", "warning", "info", "success", "markdown", "caption"):
        parts.extend(str(el.value) for el in getattr(at, kind))
    return "\n".join(parts)

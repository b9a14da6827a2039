"""AppTest: the drift page says how a window was computed (exactly, or from hourly rollups
with their rank error) and shows each number's error bound."""

from __future__ import annotations

from dashboard_support import run_page, texts
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.dashboard.views.drift import path_caption
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import DriftReportRow, ModelRow


def _latest_churn_report(url: str, summary: dict[str, object]) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        churn = session.scalar(select(ModelRow.id).where(ModelRow.name == "churn"))
        row = session.scalars(select(DriftReportRow).where(
            DriftReportRow.model_id == churn, DriftReportRow.kind == "data")
            .order_by(DriftReportRow.window_end.desc()).limit(1)).one()
        row.summary = {**row.summary, **summary}
    engine.dispose()


def test_a_rollup_report_says_so_with_its_rank_error(seeded_sqlite: str) -> None:
    _latest_churn_report(seeded_sqlite, {"path": "rollup", "hours": 24,
                                         "rank_error": 0.0039, "path_reason": "x"})
    at = run_page("drift")
    shown = texts(at)
    assert "Computed from 24 hourly rollups" in shown and "rank error 0.39%" in shown
    assert "error bound" in at.dataframe[0].value.columns


def test_an_exact_report_says_why(seeded_sqlite: str) -> None:
    _latest_churn_report(seeded_sqlite, {"path": "exact",
                                         "path_reason": "8,000 served rows <= rollup_min_rows"})
    at = run_page("drift")
    assert "Computed exactly from the logged rows (8,000 served rows" in texts(at)


def test_reports_stored_before_the_path_was_recorded_read_as_exact() -> None:
    assert path_caption({}) == "Computed exactly from the logged rows."

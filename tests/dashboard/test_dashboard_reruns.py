"""AppTest: the performance page shows the coverage each run of a re-run window saw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from dashboard_support import NOW, run_page, texts
from sqlalchemy.orm import Session

from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import ModelRow, PerformanceReport


def _report(model_id: int, hours: int, runs: list[dict]) -> PerformanceReport:
    return PerformanceReport(
        model_id=model_id, window_start=NOW - timedelta(hours=hours + 1),
        window_end=NOW - timedelta(hours=hours), task="classification", n_predictions=400,
        n_labelled=runs[-1]["n_labelled"], label_coverage=runs[-1]["coverage"],
        label_delay_median_s=60.0, verdict=runs[-1]["verdict"], summary={"runs": runs})


def test_coverage_by_run_lists_the_reruns(sqlite_url: str,
                                          use_db: Callable[[str], None]) -> None:
    at0 = (NOW - timedelta(hours=3)).isoformat()
    at1 = (NOW - timedelta(hours=2)).isoformat()
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        model = ModelRow(name="late", task="classification", details={})
        session.add(model)
        session.flush()
        session.add_all([
            _report(model.id, 5, [  # recomputed as labels arrived
                {"run": "initial", "computed_at": at0, "n_labelled": 80,
                 "n_predictions": 400, "coverage": 0.2, "verdict": "fine"},
                {"run": "+1d", "computed_at": at1, "n_labelled": 360,
                 "n_predictions": 400, "coverage": 0.9, "verdict": "degraded"}]),
            _report(model.id, 1, [  # computed once: not listed
                {"run": "initial", "computed_at": at1, "n_labelled": 40,
                 "n_predictions": 400, "coverage": 0.1, "verdict": "fine"}]),
        ])
    engine.dispose()
    use_db(sqlite_url)
    at = run_page("performance")
    assert "Coverage by run" in texts(at)
    table = next(df.value for df in at.dataframe if "run" in df.value.columns)
    assert table["run"].tolist() == ["initial", "+1d"]
    assert table["n_labelled"].tolist() == [80, 360]
    assert table["coverage"].tolist() == [0.2, 0.9]
    assert table["verdict"].tolist() == ["fine", "degraded"]
    assert table["computed_at"].tolist() == [at0[:16].replace("T", " "),
                                             at1[:16].replace("T", " ")]

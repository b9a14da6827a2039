"""The seeding helper writes consistent history on SQLite and PostgreSQL."""

from __future__ import annotations

from dashboard_support import seed
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifecycle.storage.capture_repo import logged_keys
from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import (
    DriftFeatureResult,
    DriftReportRow,
    PredictionBatch,
    TrafficHourly,
)
from lifecycle.storage.window import load_window


def test_seed_is_consistent(db_url: str) -> None:
    summary = seed(db_url, days=1, predictions=1_500)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            traffic = session.scalar(select(func.sum(TrafficHourly.n_predictions)))
            # the seed writes through the capture repository: keys are stored as ranges
            logged = len(logged_keys(session.connection()))
            batched = session.scalar(select(func.sum(PredictionBatch.n_rows)))
            assert traffic == logged == batched == summary.rows["predictions"]
            assert 750 < logged < 2_500  # about the requested number
            # every stored distribution is self-consistent (what the drift page plots)
            rows = session.execute(
                select(DriftFeatureResult.details, DriftFeatureResult.feature_type)
                .where(DriftFeatureResult.statistic_name == "psi").limit(200)).all()
            for details, kind in rows:
                assert len(details["reference_counts"]) == len(details["current_counts"])
                if kind == "numeric":
                    assert len(details["reference_counts"]) == len(details["bin_edges"]) + 2
                else:
                    assert len(details["categories"]) == len(details["reference_counts"])
            kinds = set(session.scalars(select(DriftReportRow.kind).distinct()))
            assert kinds == {"data", "prediction", "label"}
        window = load_window(engine, "churn")
        assert len(window) > 0 and "monthly_charges" in window.inputs.columns
    finally:
        engine.dispose()


def test_only_the_capture_repository_inserts_prediction_batches() -> None:
    """The seed writes its batches through ``capture_repo.write_batches``, like the writer."""
    import ast
    from pathlib import Path

    import lifecycle

    package = Path(lifecycle.__file__).resolve().parent
    writers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "insert"
                    and node.args and getattr(node.args[0], "id", None) == "PredictionBatch"):
                writers.add(path.relative_to(package).as_posix())
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "insert"
                    and node.args and getattr(node.args[0], "id", None) == "prediction_keys"):
                writers.add(path.relative_to(package).as_posix())
    assert writers == {"storage/capture_repo.py"}, writers

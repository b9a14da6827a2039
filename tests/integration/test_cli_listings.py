"""Listing commands say what is true: `lifecycle models` (configured task, first and last
prediction), `lifecycle alerts --model` (an unknown model is an error), `lifecycle drift
reports` (stored verdicts), and relative times in every unit durations accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.cli import main
from lifecycle.cli._common import parse_time
from lifecycle.seed import DEFAULT_MODELS, seed_database
from lifecycle.storage.capture_repo import model_id_for, write_batch
from lifecycle.storage.engine import make_engine
from lifecycle.storage.models_repo import get_or_create_model, unknown_model_message
from lifecycle.storage.tables import DriftFeatureResult, DriftReportRow, ModelRow

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def run(args: list[str], url: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env={"LIFECYCLE_DATABASE_URL": url},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_models_shows_configured_task_and_prediction_times(
        sqlite_url: str, tmp_home: Path) -> None:
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        get_or_create_model(session, "churn")  # registered without a task
    spec = CaptureSpec(name="churn")
    first, last = NOW - timedelta(hours=5), NOW - timedelta(hours=1)
    batch = encode(build_batch(
        [(spec, np.zeros((2, 1)), np.zeros(2), first.timestamp(), 0.001, 1, "call", None),
         (spec, np.zeros((1, 1)), np.zeros(1), last.timestamp(), 0.001, 2, "call", None)],
        lambda k, m: None))
    with engine.begin() as conn:
        assert write_batch(conn, model_id_for(conn, "churn"), batch)
    engine.dispose()
    conf = tmp_home / "lifecycle.toml"
    conf.write_text('[models.churn]\ntask = "classification"\n'
                    '[models.fraud]\ntask = "regression"\n')
    code, out, _ = run(["--config", str(conf), "models"], sqlite_url)
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[0].split() == ["model", "task", "predictions", "labels", "first",
                                "prediction", "last", "prediction"]
    assert lines[1].split() == ["churn", "classification", "3", "0",
                                "2026-05-01", "07:00:00Z", "2026-05-01", "11:00:00Z"]
    assert lines[2].split() == ["fraud", "regression", "0", "0", "-", "-"]


def test_alerts_for_an_unknown_model_is_an_error(sqlite_url: str, tmp_home: Path) -> None:
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        get_or_create_model(session, "churn")
    engine.dispose()
    code, out, err = run(["alerts", "--model", "chrun"], sqlite_url)
    assert code == 2 and out == ""
    assert "unknown model 'chrun' (it does not exist; did you mean 'churn'?" in err
    code, out, err = run(["alerts", "--model", "nosuch"], sqlite_url)
    assert code == 2 and "unknown model 'nosuch' (it does not exist; known models: churn" in err
    code, out, _ = run(["alerts", "--model", "churn"], sqlite_url)
    assert (code, out.strip()) == (0, "no alerts")
    # a model configured in lifecycle.toml that has not logged anything yet: no alerts
    conf = tmp_home / "lifecycle.toml"
    conf.write_text('[models.fraud]\ntask = "classification"\n')
    code, out, _ = run(["--config", str(conf), "alerts", "--model", "fraud"], sqlite_url)
    assert (code, out.strip()) == (0, "no alerts")


def test_unknown_model_message_lists_close_then_known_names() -> None:
    many = [f"m{i:02d}" for i in range(25)]
    text = unknown_model_message("m7", many)
    guess = text.split("did you mean ")[1].split("?")[0]
    assert "'m07'" in guess and guess.count("'") <= 6  # at most three close names
    assert text.endswith("m19 and 5 more); wrap a predictor with @lifecycle.monitor('m7') "
                         "or check the spelling")
    assert "no model has logged data yet" in unknown_model_message("x", [])


@pytest.mark.parametrize(("text", "delta"), [
    ("-30s", timedelta(seconds=30)), ("-90m", timedelta(minutes=90)),
    ("-24h", timedelta(hours=24)), ("-7d", timedelta(days=7)), ("-2w", timedelta(weeks=2)),
    ("-1.5h", timedelta(minutes=90)),
])
def test_relative_times_accept_every_duration_unit(text: str, delta: timedelta) -> None:
    assert parse_time(text, name="--since", now=NOW) == NOW - delta


def test_a_bad_relative_time_names_the_forms() -> None:
    for text in ("-30x", "--5h", "-h"):
        with pytest.raises(click.BadParameter, match="-30s, -30m, -24h, -7d, -2w"):
            parse_time(text, name="--since", now=NOW)


def _seeded(url: str) -> None:
    engine = make_engine(url)
    try:
        seed_database(engine, models=DEFAULT_MODELS[:1], days=1, now=NOW, seed=3)
    finally:
        engine.dispose()


def _expected(url: str, kind: str) -> list[tuple[int, str, list[str]]]:
    engine = make_engine(url)
    with Session(engine) as session:
        reports = session.execute(
            select(DriftReportRow.id, DriftReportRow.verdict).join(ModelRow)
            .where(ModelRow.name == "churn", DriftReportRow.kind == kind)
            .order_by(DriftReportRow.window_end.desc())).all()
        out = []
        for report_id, verdict in reports:
            features = session.scalars(
                select(DriftFeatureResult.feature).distinct()
                .where(DriftFeatureResult.report_id == report_id,
                       DriftFeatureResult.verdict == "drift")
                .order_by(DriftFeatureResult.feature)).all()
            out.append((report_id, verdict, list(features)))
    engine.dispose()
    return out


def test_drift_reports_lists_stored_verdicts(sqlite_url: str, tmp_home: Path) -> None:
    _seeded(sqlite_url)
    expected = _expected(sqlite_url, "data")
    assert any(features for _, _, features in expected)  # the seed drifts
    code, out, _ = run(["drift", "reports", "churn", "--kind", "data", "--limit", "5"],
                       sqlite_url)
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[0].split()[:6] == ["id", "window", "start", "window", "end", "kind"]
    assert len(lines) == 1 + 5
    for line, (report_id, verdict, features) in zip(lines[1:], expected[:5], strict=True):
        cells = line.split(None, 8)
        assert int(cells[0]) == report_id and cells[5] == "data" and cells[6] == verdict
        shown = cells[8] if len(cells) > 8 else "-"
        assert shown == (", ".join(features[:6]) if features else "-")
    # every kind by default; a range keeps only overlapping windows
    code, out, _ = run(["drift", "reports", "churn", "--limit", "1000"], sqlite_url)
    n_all = len(out.strip().splitlines()) - 1
    assert n_all == sum(len(_expected(sqlite_url, k)) for k in ("data", "prediction", "label"))
    code, out, _ = run(["drift", "reports", "churn", "--kind", "data", "--since",
                        "2026-05-01T10:00:00Z", "--until", "2026-05-01T12:00:00Z"], sqlite_url)
    assert code == 0 and len(out.strip().splitlines()) == 1 + 2
    code, out, _ = run(["drift", "reports", "churn", "--since", "-30s"], sqlite_url)
    assert code == 0 and "no stored drift report for churn in this range" in out


def test_drift_reports_of_an_unknown_model(sqlite_url: str, tmp_home: Path) -> None:
    code, out, err = run(["drift", "reports", "nosuch"], sqlite_url)
    assert code == 2 and "unknown model 'nosuch'" in err

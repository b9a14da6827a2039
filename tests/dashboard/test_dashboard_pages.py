"""AppTest: every page renders on a seeded database, an empty one, and an unmigrated one,
and shows the numbers that are in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from dashboard_support import APP, NOW, PAGES, TIMEOUT, metric, run_page, seed, texts
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from lifecycle.storage.engine import make_engine
from lifecycle.storage.tables import (
    Alert,
    DriftReportRow,
    JobRun,
    ModelRow,
    PerformanceReport,
    TrafficHourly,
)


def _since(days: float) -> datetime:
    from lifecycle.dashboard.data import since

    return since(days)


def _scalar(url: str, stmt: object) -> object:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.execute(stmt).scalar()  # type: ignore[call-overload]
    finally:
        engine.dispose()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_seeded_database(seeded_sqlite: str, page: str) -> None:
    at = run_page(page)
    assert at.title[0].value
    # overview's red box is the attention banner; retraining shows the failed run's error;
    # any other error box is a defect
    expected = {"overview": "Needs a person", "retraining": "RegistryUnavailableError"}
    for box in at.error:
        assert page in expected and expected[page] in box.value, (page, box.value)


def test_overview_numbers_match_the_database(seeded_sqlite: str) -> None:
    at = run_page("overview")
    start = _since(7)
    n = _scalar(seeded_sqlite, select(func.sum(TrafficHourly.n_predictions))
                .where(TrafficHourly.bucket_start >= start))
    n_open = _scalar(seeded_sqlite, select(func.count()).select_from(Alert)
                     .where(Alert.status == "open"))
    assert metric(at, "Models") == "3"
    assert metric(at, "Predictions") == f"{int(n):,}"  # type: ignore[call-overload]
    assert metric(at, "Open alerts") == str(n_open)
    # churn and house_prices drift in the seed; fraud does not and must not be called out
    banner = at.error[0].value
    assert "churn" in banner and "house_prices" in banner and "fraud" not in banner
    table = at.dataframe[0].value
    assert list(table["model"]) == ["churn", "fraud", "house_prices"]
    fraud = _scalar(seeded_sqlite, select(DriftReportRow.n_features).join(ModelRow).where(
        ModelRow.name == "fraud", DriftReportRow.kind == "data").order_by(
        DriftReportRow.window_end.desc()).limit(1))
    assert table.loc[table["model"] == "fraud", "data drift"].item() == (
        f"● no drift 0/{fraud}")
    assert table.loc[table["model"] == "churn", "versions"].item() == (
        "champion v1, v2; challenger v3")
    # latency per call and per prediction, from the counted calls of the range
    churn = select(ModelRow.id).where(ModelRow.name == "churn").scalar_subquery()
    in_range = (TrafficHourly.model_id == churn, TrafficHourly.bucket_start >= start,
                TrafficHourly.n_calls > 0)
    call_ms = _scalar(seeded_sqlite, select(func.sum(TrafficHourly.call_latency_sum_ms))
                      .where(*in_range))
    calls = _scalar(seeded_sqlite, select(func.sum(TrafficHourly.n_calls)).where(*in_range))
    rows = _scalar(seeded_sqlite, select(func.sum(TrafficHourly.n_predictions))
                   .where(*in_range))
    row = table[table["model"] == "churn"].iloc[0]
    assert row["ms/call"] == pytest.approx(call_ms / calls)  # type: ignore[operator]
    assert row["ms/pred"] == pytest.approx(call_ms / rows)  # type: ignore[operator]
    assert len(at.get("vega_lite_chart")) == 2  # volume and latency


def test_drift_page_shows_latest_report_and_numbers(seeded_sqlite: str) -> None:
    at = run_page("drift")
    engine = make_engine(seeded_sqlite)
    with Session(engine) as session:
        churn = session.scalar(select(ModelRow.id).where(ModelRow.name == "churn"))
        latest = session.execute(
            select(DriftReportRow.n_drifted, DriftReportRow.n_features, DriftReportRow.verdict)
            .where(DriftReportRow.model_id == churn, DriftReportRow.kind == "data")
            .order_by(DriftReportRow.window_end.desc()).limit(1)).one()
    engine.dispose()
    assert at.selectbox(key="drift_model").value == "churn"
    assert metric(at, "Drifted features") == f"{latest[0]} / {latest[1]}"
    assert f"-badge[{latest[2].replace('_', ' ')}]" in texts(at)
    # three tabs: data, prediction and label drift
    assert [t.label for t in at.tabs] == ["Data drift", "Prediction drift", "Label drift"]
    # the feature detail shows the exact numbers behind the verdict
    numbers = at.dataframe[0].value
    assert list(numbers["statistic"]) == ["chi_square", "psi"]  # contract is categorical
    assert numbers["drift threshold"].dropna().iloc[0] == pytest.approx(0.2)
    # a drifting feature is offered first (with the fixed clock: contract)
    assert at.selectbox(key="drift_data_feature").value == "contract"


def test_drift_page_switches_model_and_feature(seeded_sqlite: str) -> None:
    at = run_page("drift")
    at.selectbox(key="drift_model").select("house_prices").run()
    assert not at.exception
    # the feature list is now house_prices' own: most severe first, then in natural order
    feature = at.selectbox(key="drift_data_feature")
    assert feature.options == ["sqft", "age_years", "bedrooms", "distance_km",
                               "neighborhood"]
    assert feature.value == "sqft"
    at.selectbox(key="drift_data_feature").select("neighborhood").run()
    assert not at.exception
    assert metric(at, "Unseen categories").endswith("%")


def test_drift_page_window_follows_the_model(seeded_sqlite: str) -> None:
    """A window picked for one model is not kept (with its label) for the next one: the new
    model opens on its own latest window."""
    at = run_page("drift")
    at.selectbox(key="drift_data_window").select_index(2).run()
    assert at.selectbox(key="drift_data_window").index == 2
    at.selectbox(key="drift_model").select("house_prices").run()
    assert not at.exception
    window = at.selectbox(key="drift_data_window")
    assert window.index == 0
    assert window.value == _report_ids(seeded_sqlite, "house_prices")[0]
    engine = make_engine(seeded_sqlite)
    with Session(engine) as session:
        report = session.get(DriftReportRow, window.value)
        assert report is not None
        label = (f"{report.window_start:%Y-%m-%d %H:%M} UTC → {report.window_end:%Y-%m-%d %H:%M}"
                 f" UTC  ({report.verdict})")
    engine.dispose()
    assert window.options[0] == label


def _report_ids(url: str, model: str) -> list[int]:
    engine = make_engine(url)
    with Session(engine) as session:
        ids = session.scalars(
            select(DriftReportRow.id).join(ModelRow, ModelRow.id == DriftReportRow.model_id)
            .where(ModelRow.name == model, DriftReportRow.kind == "data")
            .order_by(DriftReportRow.window_end.desc())).all()
    engine.dispose()
    return list(ids)


def test_performance_page_coverage_matches_reports(seeded_sqlite: str) -> None:
    at = run_page("performance")
    start = _since(7)
    engine = make_engine(seeded_sqlite)
    with Session(engine) as session:
        churn = session.scalar(select(ModelRow.id).where(ModelRow.name == "churn"))
        lab, pred = session.execute(
            select(func.sum(PerformanceReport.n_labelled),
                   func.sum(PerformanceReport.n_predictions))
            .where(PerformanceReport.model_id == churn,
                   PerformanceReport.window_end >= start)).one()
    engine.dispose()
    assert metric(at, "Labelled predictions") == f"{int(lab):,} / {int(pred):,}"
    assert metric(at, "Label coverage (7 days)") == f"{lab / pred:.1%}"
    assert metric(at, "Reference") == "0.8800"
    body = texts(at)
    assert "no concept shift" in body and "covariate shift" in body
    assert "Stored with the latest estimate: no concept shift" in body
    at.selectbox(key="perf_metric").select("roc_auc").run()
    assert not at.exception
    assert metric(at, "Reference") == "0.9100"


def test_jobs_page_counts_runs_and_shows_failures(seeded_sqlite: str) -> None:
    at = run_page("jobs")
    start = _since(1)
    runs = _scalar(seeded_sqlite, select(func.count()).select_from(JobRun)
                   .where(JobRun.started_at >= start))
    failed = _scalar(seeded_sqlite, select(func.count()).select_from(JobRun)
                     .where(JobRun.started_at >= start, JobRun.status == "failed"))
    assert metric(at, "Runs") == f"{runs:,}"
    assert metric(at, "Failed") == str(failed)
    assert failed and at.expander  # the seeded failure is listed with its error
    assert "database is locked" in at.expander[0].label
    assert "Read-only" in texts(at)  # no admin token configured in this test


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_empty_database(sqlite_url: str, use_db: Callable[[str], None],
                                              page: str) -> None:
    use_db(sqlite_url)
    at = run_page(page)
    body = texts(at)
    if page == "jobs":
        assert "No job ran" in body and "No open alert" in body
    else:
        assert "@lifecycle.monitor" in body and "lifecycle demo" in body


@pytest.mark.parametrize("page", PAGES)
def test_unmigrated_database_names_the_fix(empty_sqlite_url: str,
                                           use_db: Callable[[str], None], page: str) -> None:
    use_db(empty_sqlite_url)
    at = run_page(page)
    assert "lifecycle db upgrade" in at.warning[0].value


def test_model_without_reports_gets_next_steps(sqlite_url: str,
                                               use_db: Callable[[str], None]) -> None:
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        session.add(ModelRow(name="fresh", task="classification", details={}))
    engine.dispose()
    use_db(sqlite_url)
    drift = run_page("drift")
    assert "lifecycle reference set fresh" in texts(drift)
    perf = run_page("performance")
    assert "lifecycle.log_outcomes" in texts(perf)
    overview = run_page("overview")
    assert "No prediction logged" in texts(overview)
    assert overview.dataframe[0].value["data drift"].item() == "– none yet"


def test_app_navigation_opens_overview(seeded_sqlite: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Read-only" in "\n".join(str(c.value) for c in at.sidebar.caption)


def test_pages_render_on_postgresql(pg_url: str, use_db: Callable[[str], None]) -> None:
    seed(pg_url, days=1, predictions=300)
    use_db(pg_url)
    at = run_page("overview")
    assert metric(at, "Models") == "3"
    for page in ("drift", "performance", "jobs", "retraining", "shadow", "lineage"):
        run_page(page)


def test_old_windows_are_outside_the_default_range(sqlite_url: str,
                                                   use_db: Callable[[str], None]) -> None:
    """Data older than the range is not counted (and the range selector widens it)."""
    seed(sqlite_url, days=2, predictions=None, now=NOW - timedelta(days=20))
    use_db(sqlite_url)
    at = run_page("overview")
    assert metric(at, "Predictions") == "0"
    at.selectbox(key="overview_range").select("30 days").run()
    assert not at.exception
    assert metric(at, "Predictions") != "0"


def test_daily_heatmap_query_matches_hourly_rows(db_url: str) -> None:
    """The per-day SQL merge (wide ranges) equals merging the hourly rows in pandas, on
    SQLite (text timestamps) and PostgreSQL (timestamptz)."""
    import pandas as pd

    from lifecycle.dashboard import data

    seed(db_url, days=2, predictions=None)
    engine = make_engine(db_url)
    with Session(engine) as session:
        churn = session.scalar(select(ModelRow.id).where(ModelRow.name == "churn"))
    engine.dispose()
    start = _since(30)
    hourly = data.drift_matrix(db_url, churn, "data", start, "psi")
    daily = data.drift_matrix_daily(db_url, churn, "data", start, "psi")
    rank = {"drift": 3, "insufficient_data": 2, "warning": 1, "no_drift": 0}
    expected = hourly.assign(
        day=hourly["window_end"].dt.floor("D") + pd.Timedelta(days=1),
        rank=hourly["verdict"].map(rank),
        assessed=hourly["statistic"].where(hourly["verdict"] != "insufficient_data"),
    ).groupby(["day", "feature"]).agg(value=("statistic", "max"), rank=("rank", "max"),
                                      assessed=("assessed", "max"))
    got = daily.assign(rank=daily["verdict"].map(rank)).set_index(["window_end", "feature"])
    assert len(got) == len(expected) and len(got) >= 2 * 5
    for (day, feature), row in expected.iterrows():
        assert got.loc[(day, feature), "statistic"] == pytest.approx(row["value"])
        assert got.loc[(day, feature), "rank"] == row["rank"]
        assert got.loc[(day, feature), "assessed"] == pytest.approx(row["assessed"],
                                                                   nan_ok=True)


def test_performance_page_never_asks_for_labels_that_exist(
        sqlite_url: str, use_db: Callable[[str], None]) -> None:
    """Labels logged but no metric yet (too few labels in a window, or no report yet): the
    page says so instead of "log ground truth", and a label delay of 42 s reads "42 s"."""
    from lifecycle.storage.capture_repo import OutcomeRow, upsert_outcomes

    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        few = ModelRow(name="few_labels", task="classification", details={})
        early = ModelRow(name="early_labels", task="classification", details={})
        none = ModelRow(name="no_labels", task="classification", details={})
        session.add_all([few, early, none])
        session.flush()
        session.add(PerformanceReport(
            model_id=few.id, window_start=NOW - timedelta(hours=2),
            window_end=NOW - timedelta(hours=1), task="classification", n_predictions=40,
            n_labelled=5, label_coverage=0.125, label_delay_median_s=42.0,
            verdict="insufficient labels"))
        ids = {"few": few.id, "early": early.id}
    with engine.begin() as conn:
        for model_id in ids.values():
            upsert_outcomes(conn, model_id, [OutcomeRow("k1", "1", 1.0, NOW)])
    engine.dispose()
    use_db(sqlite_url)
    at = run_page("performance")
    pages = {}
    for name in ("early_labels", "few_labels", "no_labels"):
        at.selectbox(key="perf_model").select(name).run()
        assert not at.exception
        pages[name] = texts(at)
    assert "Log ground truth" not in pages["few_labels"]
    assert "although labels are logged (5 labelled predictions)" in pages["few_labels"]
    assert metric(at_few := _at_model("few_labels"), "Median label delay") == "42 s"
    assert metric(at_few, "Labelled predictions") == "5 / 40"
    assert "Log ground truth" not in pages["early_labels"]
    assert "none of them in this range's windows yet" in pages["early_labels"]
    assert "Log ground truth" in pages["no_labels"]


def _at_model(name: str) -> AppTest:
    at = run_page("performance")
    at.selectbox(key="perf_model").select(name).run()
    assert not at.exception
    return at

"""Late labels: a performance window is re-run as labels arrive (rerun_after), the re-run
replaces its report with the new coverage, an unchanged re-run is skipped, and the reference's
performance is computed once per reference. Real SQLite and PostgreSQL, the real scheduler
tick with an explicit clock."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
from _perf_data import (
    T0,
    classifier_data,
    make_settings,
    write_classifier,
    write_outcomes,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lifecycle.config import JobSchedule, Settings
from lifecycle.jobs.kinds import JOB_ALERTS, JOBS
from lifecycle.jobs.performance import run_performance_check
from lifecycle.jobs.plan import JobKind, PlannedJob
from lifecycle.jobs.reruns import run_due_reruns
from lifecycle.jobs.runner import RunContext
from lifecycle.jobs.tick import run_due
from lifecycle.reference import set_reference
from lifecycle.storage.tables import (
    Alert,
    JobLease,
    JobRun,
    Outcome,
    PerformanceBaseline,
    PerformanceReport,
)

DAY = timedelta(days=1)
W = (T0 + DAY, T0 + 2 * DAY)  # the window under test; T0's day is the reference


def _setup(engine: Engine, *, flip: bool = True, n: int = 1000) -> tuple[Settings, list[str],
                                                                          np.ndarray]:
    rng = np.random.default_rng(7)
    write_classifier(engine, "clf", T0, classifier_data(rng, 2000))
    data = classifier_data(rng, n, flip=flip)
    keys = write_classifier(engine, "clf", W[0], data, label_at=False)
    settings = make_settings(str(engine.url), "clf", "classification", n_boot=40)
    return settings, keys, data["y"]


def _job() -> PlannedJob:
    kind = JobKind("performance", JOBS["performance"], JOB_ALERTS["performance"], "test")
    return PlannedJob(kind, "clf", JobSchedule(kind="performance", window=DAY, every=DAY))


def _ctx(engine: Engine, settings: Settings, now: datetime, owner: str = "p1") -> RunContext:
    return RunContext(engine=engine, settings=settings, clock=lambda: now, owner=owner)


def _report(engine: Engine) -> PerformanceReport:
    with Session(engine) as s:
        return s.scalars(select(PerformanceReport).where(
            PerformanceReport.window_start == W[0])).one()


def _count(engine: Engine, table, *where) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def test_rerun_replaces_the_report_with_new_coverage_and_is_skipped_when_unchanged(
    engine: Engine,
) -> None:
    settings, keys, y = _setup(engine)
    job = _job()
    # 20 % of the labels have arrived one hour after the window closed
    write_outcomes(engine, "clf", keys[:200], y[:200].tolist(), W[1] + timedelta(hours=1))
    first = run_due(_ctx(engine, settings, W[1] + timedelta(hours=2)), job)
    assert [(r.window.start, r.rerun, r.status) for r in first] == [(W[0], None, "done")]
    assert first[0].result["reference"]["baseline"] == "computed"
    report = _report(engine)
    assert (report.n_labelled, report.label_coverage) == (200, 0.2)
    assert report.verdict == "degraded" and report.summary["run"] == "initial"
    assert [r["run"] for r in report.summary["runs"]] == ["initial"]
    assert _count(engine, Alert) == 1

    # the rest arrive; the +1d re-run (the tick one day later) replaces the report
    write_outcomes(engine, "clf", keys[200:], y[200:].tolist(), W[1] + timedelta(hours=20))
    second = run_due(_ctx(engine, settings, W[1] + DAY + timedelta(hours=1)), job)
    reruns = [r for r in second if r.rerun is not None]
    assert [(r.rerun, r.status) for r in reruns] == [("+1d", "done")]
    assert reruns[0].result["run"] == "+1d"
    assert reruns[0].result["reference"]["baseline"] == "cached"
    replaced = _report(engine)
    assert replaced.id == report.id
    assert (replaced.n_labelled, replaced.label_coverage) == (1000, 1.0)
    assert replaced.summary["run"] == "+1d"
    runs = replaced.summary["runs"]
    assert [(r["run"], r["n_labelled"], r["coverage"]) for r in runs] == [
        ("initial", 200, 0.2), ("+1d", 1000, 1.0)]
    assert runs[1]["computed_at"].startswith((W[1] + DAY).date().isoformat())
    assert _count(engine, PerformanceReport) == 1
    with Session(engine) as s:  # the replaced report went through the alert path: no 2nd alert
        alerts = s.scalars(select(Alert)).all()
    assert len(alerts) == 1 and alerts[0].status == "open"
    assert alerts[0].kind == "performance"

    # nothing new by +3d: the re-run is recorded as unchanged, the report is untouched
    third = run_due(_ctx(engine, settings, W[1] + 3 * DAY + timedelta(hours=1)), job)
    unchanged = [r for r in third if r.rerun is not None]
    assert [(r.rerun, r.status, r.result["outcome"]) for r in unchanged] == [
        ("+3d", "done", "unchanged")]
    assert len(_report(engine).summary["runs"]) == 2
    with Session(engine) as s:
        outcome = s.scalars(select(JobRun.result).where(JobRun.id == unchanged[0].run_id)).one()
    assert outcome["outcome"] == "unchanged" and outcome["run"] == "+3d"
    # the same tick again (another process, later the same hour): nothing to re-run
    again = run_due(_ctx(engine, settings, W[1] + 3 * DAY + timedelta(hours=2), "p2"), job)
    assert [r for r in again if r.rerun is not None] == []
    assert _count(engine, Alert) == 1


def test_insufficient_labels_at_first_and_catch_up_runs_only_the_latest_offset(
    engine: Engine,
) -> None:
    settings, keys, y = _setup(engine, flip=False)
    job = _job()
    write_outcomes(engine, "clf", keys[:10], y[:10].tolist(), W[1] + timedelta(hours=1))
    first = run_due(_ctx(engine, settings, W[1] + timedelta(hours=2)), job)
    assert first[0].result["verdict"] == "insufficient labels"
    assert _count(engine, PerformanceReport) == 0

    write_outcomes(engine, "clf", keys[10:600], y[10:600].tolist(), W[1] + 2 * DAY)
    # the scheduler was down for 8 days: +1d and +3d passed unseen; only +1w runs, once
    later = W[1] + 8 * DAY + timedelta(hours=1)
    results = run_due(_ctx(engine, settings, later), job)
    reruns = [r for r in results if r.rerun is not None]
    assert [(r.window.start, r.rerun, r.status) for r in reruns] == [(W[0], "+1w", "done")]
    report = _report(engine)
    assert report.n_labelled == 600 and report.verdict == "fine"
    assert [(r["run"], r["n_labelled"]) for r in report.summary["runs"]] == [("+1w", 600)]
    assert _count(engine, JobLease, JobLease.window_key.like("%+%")) == 1
    assert run_due(_ctx(engine, settings, later + timedelta(hours=1)), job) == []


def test_two_processes_racing_a_rerun_compute_it_once(engine: Engine) -> None:
    settings, keys, y = _setup(engine)
    job = _job()
    write_outcomes(engine, "clf", keys[:300], y[:300].tolist(), W[1] + timedelta(hours=1))
    run_due(_ctx(engine, settings, W[1] + timedelta(hours=2)), job)
    write_outcomes(engine, "clf", keys[300:], y[300:].tolist(), W[1] + timedelta(hours=5))
    now = W[1] + DAY + timedelta(hours=1)
    gate = threading.Barrier(2)
    found: dict[str, list] = {}

    def worker(owner: str) -> None:
        ctx = _ctx(engine, settings, now, owner)
        gate.wait()
        found[owner] = run_due_reruns(ctx, job)

    threads = [threading.Thread(target=worker, args=(o,)) for o in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = [r for results in found.values() for r in results]
    assert [(r.rerun, r.status) for r in ran] == [("+1d", "done")]
    assert _count(engine, JobRun, JobRun.result["run"].as_string() == "+1d") == 1
    assert _report(engine).n_labelled == 1000


def test_reference_performance_is_computed_once_per_reference(engine: Engine) -> None:
    settings, keys, y = _setup(engine, flip=False, n=400)
    settings = replace(settings, models={"clf": replace(
        settings.model("clf"), performance=replace(settings.model("clf").performance,
                                                   reference_since=None,
                                                   reference_until=None))})
    rng = np.random.default_rng(8)
    for day in (2, 3):
        write_classifier(engine, "clf", T0 + day * DAY, classifier_data(rng, 400))
    write_outcomes(engine, "clf", keys, y.tolist(), W[1] + timedelta(hours=3))
    set_reference(engine, settings.model("clf"), since=T0, until=T0 + DAY, kinds=("data",))

    seen = [run_performance_check(engine, settings, "clf", T0 + d * DAY, T0 + (d + 1) * DAY)
            for d in (1, 2, 3)]
    assert [r.reference["baseline"] for r in seen] == ["computed", "cached", "cached"]
    assert _count(engine, PerformanceBaseline) == 1
    # the cached reference gives the same comparison as the one computed from the data
    again = run_performance_check(engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)
    assert again.reference["baseline"] == "cached"
    assert again.comparison == seen[0].comparison

    # a new reference (lifecycle reference set): computed again, the old row replaced
    set_reference(engine, settings.model("clf"), since=T0, until=T0 + DAY, kinds=("data",))
    fresh = run_performance_check(engine, settings, "clf", T0 + DAY, T0 + 2 * DAY)
    assert fresh.reference["baseline"] == "computed"
    assert fresh.comparison == seen[0].comparison
    assert _count(engine, PerformanceBaseline) == 1

    # a label of a reference prediction is revised: stale, computed again
    with Session(engine) as s:
        ref_key = s.scalars(select(Outcome.join_key).order_by(Outcome.received_at)).first()
    assert ref_key is not None
    write_outcomes(engine, "clf", [ref_key], [2], T0 + 5 * DAY)
    after = [run_performance_check(engine, settings, "clf", T0 + d * DAY, T0 + (d + 1) * DAY)
             for d in (2, 3)]
    assert [r.reference["baseline"] for r in after] == ["computed", "cached"]

"""Queued requests on real SQLite and PostgreSQL: asking twice queues once, each request is
claimed by one process, a dead owner's request is taken over and given up after
MAX_ATTEMPTS, a check request runs its window through the runner (lease, job_runs row)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from lifecycle.config import Settings
from lifecycle.jobs.queue import (
    DONE,
    FAILED,
    MAX_ATTEMPTS,
    RETRAIN,
    claim_next,
    enqueue,
    finish,
)
from lifecycle.jobs.requests import process_pending
from lifecycle.jobs.runner import RunContext
from lifecycle.storage.tables import JobRequest, JobRun
from lifecycle.windows import Window
from tests.integration.scheduler import jobfns

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
W = Window(T0 - timedelta(hours=1), T0)
REC = '[scheduler.jobs]\nrec = "tests.integration.scheduler.jobfns:record"\n'


def test_asking_twice_queues_once_until_the_request_ends(db_url: str, engine: Engine) -> None:
    first = enqueue(engine, "rec", "a", requested_by="alice", now=T0, window=W)
    again = enqueue(engine, "rec", "a", requested_by="bob", now=T0, window=W)
    other_window = enqueue(engine, "rec", "a", requested_by="bob", now=T0,
                           window=Window(W.end, W.end + timedelta(hours=1)))
    assert first.created and not again.created and again.request_id == first.request_id
    assert other_window.created and other_window.request_id != first.request_id
    claimed = claim_next(engine, owner="p1", now=T0, lease_seconds=60)
    assert claimed is not None and claimed.id == first.request_id and claimed.window == W
    assert not enqueue(engine, "rec", "a", requested_by="carol", now=T0, window=W).created
    assert finish(engine, claimed, now=T0, status=DONE, result={"ok": 1})
    after = enqueue(engine, "rec", "a", requested_by="dave", now=T0, window=W)
    assert after.created and after.request_id not in (first.request_id,
                                                      other_window.request_id)


def test_concurrent_claimers_take_each_request_once(db_url: str, engine: Engine) -> None:
    ids = {enqueue(engine, RETRAIN, f"m{i}", requested_by="t", now=T0).request_id
           for i in range(30)}
    taken: dict[str, list[int]] = {"p1": [], "p2": [], "p3": []}
    start = threading.Barrier(len(taken))

    def worker(owner: str) -> None:
        start.wait()
        while (claimed := claim_next(engine, owner=owner, now=T0, lease_seconds=60)) is not None:
            taken[owner].append(claimed.id)

    threads = [threading.Thread(target=worker, args=(o,)) for o in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    every = [i for got in taken.values() for i in got]
    assert sorted(every) == sorted(ids)  # all claimed, none twice


def test_dead_owner_is_taken_over_then_given_up(db_url: str, engine: Engine) -> None:
    queued = enqueue(engine, RETRAIN, "m", requested_by="t", now=T0)
    now = T0
    owners = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = claim_next(engine, owner=f"p{attempt}", now=now, lease_seconds=60)
        assert claimed is not None and claimed.attempt == attempt
        assert claim_next(engine, owner="other", now=now, lease_seconds=60) is None  # held
        owners.append(claimed.owner)
        now += timedelta(seconds=61)  # the owner died: its lease expires
    assert claim_next(engine, owner="last", now=now, lease_seconds=60) is None
    with engine.connect() as conn:
        row = conn.execute(select(JobRequest.status, JobRequest.error, JobRequest.open_key)
                           .where(JobRequest.id == queued.request_id)).one()
    assert row.status == FAILED and "gave up" in row.error
    assert row.open_key is None  # a new request may be queued
    assert owners == ["p1", "p2", "p3"]


def test_check_request_runs_its_window_through_the_runner(
    db_url: str, engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    jobfns.create_table(engine)
    settings = make_settings(db_url, REC)
    enqueue(engine, "rec", "a", requested_by="dashboard:alice", now=T0, window=W)
    enqueue(engine, "rec", "broken", requested_by="dashboard:alice", now=T0, window=W)
    enqueue(engine, "rec", "elsewhere", requested_by="dashboard:alice", now=T0, window=W)
    ctx = RunContext(engine=engine, settings=settings, clock=lambda: T0, owner="sched")
    outcomes = process_pending(ctx, models=frozenset({"a", "broken"}))
    assert [(o.model, o.status) for o in outcomes] == [("a", DONE), ("broken", FAILED)]
    assert "boom for broken" in (outcomes[1].error or "")
    with engine.connect() as conn:
        runs = conn.execute(select(JobRun.model_name, JobRun.status, JobRun.window_start)
                            .order_by(JobRun.id)).all()
        left = conn.execute(select(JobRequest.model_name, JobRequest.status)
                            .where(JobRequest.status == "pending")).all()
    assert [tuple(r) for r in runs] == [("a", "done", W.start), ("broken", "failed", W.start)]
    assert outcomes[0].result["run_id"] is not None
    assert [tuple(r) for r in left] == [("elsewhere", "pending")]  # outside this scope

"""Leases on real SQLite and PostgreSQL: claim once, take over expired, retry with backoff."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from lifecycle.jobs.leases import (
    DONE,
    FAILED,
    acquire_cooldown,
    claim,
    release,
    renew,
)
from lifecycle.storage.tables import JobLease

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_claim_is_exclusive_until_expiry_then_taken_over(engine: Engine) -> None:
    a = claim(engine, "drift", "m", "w1", owner="A", now=T0, lease_seconds=60)
    assert a is not None and a.attempt == 1
    assert claim(engine, "drift", "m", "w1", owner="B", now=T0 + timedelta(seconds=59),
                 lease_seconds=60) is None
    assert renew(engine, a, now=T0 + timedelta(seconds=50), lease_seconds=60)
    # renewed: still held at +100s (expires at +110s)
    assert claim(engine, "drift", "m", "w1", owner="B", now=T0 + timedelta(seconds=100),
                 lease_seconds=60) is None
    b = claim(engine, "drift", "m", "w1", owner="B", now=T0 + timedelta(seconds=111),
              lease_seconds=60)
    assert b is not None and b.attempt == 2 and b.owner == "B"
    # A's late release and renew fail: it lost the lease
    assert not renew(engine, a, now=T0 + timedelta(seconds=112), lease_seconds=60)
    assert not release(engine, a, now=T0 + timedelta(seconds=112), status=DONE)
    assert release(engine, b, now=T0 + timedelta(seconds=113), status=DONE)
    assert claim(engine, "drift", "m", "w1", owner="C", now=T0 + timedelta(days=9),
                 lease_seconds=60) is None  # done is final


def test_failed_lease_is_retried_after_backoff_then_given_up(engine: Engine) -> None:
    a = claim(engine, "perf", "m", "w", owner="A", now=T0, lease_seconds=60)
    assert a is not None
    release(engine, a, now=T0, status=FAILED, error="boom", retry_at=T0 + timedelta(minutes=5))
    assert claim(engine, "perf", "m", "w", owner="B", now=T0 + timedelta(minutes=4),
                 lease_seconds=60) is None
    b = claim(engine, "perf", "m", "w", owner="B", now=T0 + timedelta(minutes=5),
              lease_seconds=60)
    assert b is not None and b.attempt == 2
    release(engine, b, now=T0, status=FAILED, error="boom again", retry_at=None)
    with engine.connect() as conn:
        row = conn.execute(select(JobLease.status, JobLease.last_error,
                                  JobLease.next_attempt_at)).one()
    assert tuple(row) == ("failed", "boom again", None)
    assert claim(engine, "perf", "m", "w", owner="C", now=T0 + timedelta(days=1),
                 lease_seconds=60) is None


def test_concurrent_claims_give_each_window_to_exactly_one_owner(
    db_url: str, engine_for: Callable[[str], Engine]
) -> None:
    winners: list[tuple[str, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def worker(name: str) -> None:
        engine = engine_for(db_url)
        barrier.wait()
        for i in range(15):
            lease = claim(engine, "drift", "m", f"w{i:02d}", owner=name, now=T0,
                          lease_seconds=60)
            if lease is not None:
                with lock:
                    winners.append((lease.window_key, name))

    threads = [threading.Thread(target=worker, args=(f"P{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = Counter(key for key, _ in winners)
    assert sorted(counts) == [f"w{i:02d}" for i in range(15)]
    assert set(counts.values()) == {1}


def test_cooldown_guard_passes_once_per_period(engine: Engine) -> None:
    cd = timedelta(hours=24)
    assert acquire_cooldown(engine, "retrain_trigger", "m", owner="A", now=T0, cooldown=cd)
    assert not acquire_cooldown(engine, "retrain_trigger", "m", owner="B",
                                now=T0 + timedelta(hours=23), cooldown=cd)
    assert acquire_cooldown(engine, "retrain_trigger", "other", owner="B", now=T0, cooldown=cd)
    assert acquire_cooldown(engine, "retrain_trigger", "m", owner="B",
                            now=T0 + timedelta(hours=24), cooldown=cd)

"""Operational history for :mod:`lifecycle.seed`: job runs, alerts and audit rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from lifecycle.alerts.policy import open_key
from lifecycle.jobs.leases import DONE, FAILED
from lifecycle.seed.models import SeedModel
from lifecycle.storage.tables import Alert, AuditEvent, JobRun


def write_ops(
    engine: Engine,
    models: Sequence[SeedModel],
    model_ids: dict[str, int],
    hours: list[datetime],
    rng: np.random.Generator,
    every: int,
) -> int:
    """Job runs (hourly drift and performance checks, a few failures), alerts, audit rows."""
    runs: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    n_hours = len(hours)
    for m in models:
        for h in range(0, n_hours, every):
            w_start, w_end = hours[h], hours[h] + timedelta(hours=every)
            for job in ("drift", "performance"):
                started = w_end + timedelta(minutes=2, seconds=float(rng.uniform(0, 50)))
                fail = rng.uniform() < 0.01 or (m.name == "fraud" and h == n_hours - every
                                                and job == "performance")
                dur = float(rng.gamma(2.0, 0.6 if job == "drift" else 0.3))
                runs.append({
                    "job_name": job, "model_name": m.name, "window_start": w_start,
                    "window_end": w_end, "status": FAILED if fail else DONE,
                    "owner": "scheduler@seed", "attempt": 1, "started_at": started,
                    "finished_at": started + timedelta(seconds=dur), "duration_s": dur,
                    "error": ("OperationalError: database is locked (retried next tick)"
                              if fail else None),
                    "traceback": ("Traceback (most recent call last):\n  ...\n"
                                  "sqlite3.OperationalError: database is locked"
                                  if fail else None),
                    "result": {} if fail else {"rows": int(rng.integers(50, 500))},
                })
        last = hours[-1]
        for feature in m.drifting:
            alerts.append(_alert(model_ids[m.name], "data_drift", feature, "warning", "open",
                                 f"{m.name}: feature {feature!r} drifted (PSI above 0.2)",
                                 last - timedelta(hours=n_hours * 0.25), last))
        if m.task == "classification" and m.drifting:
            alerts.append(_alert(model_ids[m.name], "performance", None, "critical",
                                 "acknowledged",
                                 f"{m.name}: accuracy below the reference (p < 0.01)",
                                 last - timedelta(hours=n_hours * 0.2), last,
                                 ack=("alice", last - timedelta(hours=2))))
        alerts.append(_alert(model_ids[m.name], "job_failure", None, "warning", "resolved",
                             f"{m.name}: the drift job failed twice in a row",
                             hours[0] + timedelta(hours=3), hours[0] + timedelta(hours=5),
                             resolved=hours[0] + timedelta(hours=6)))
        audits.append({"ts": hours[0], "actor": "seed", "action": "model.registered",
                       "model_id": model_ids[m.name], "target": m.name, "details": {}})
    with Session(engine) as session, session.begin():
        for i in range(0, len(runs), 20_000):
            session.execute(insert(JobRun), runs[i : i + 20_000])
        session.execute(insert(Alert), alerts)
        session.execute(insert(AuditEvent), audits)
    return len(runs)


def _alert(
    model_id: int, kind: str, feature: str | None, severity: str, status: str, message: str,
    first: datetime, last: datetime, *, ack: tuple[str, datetime] | None = None,
    resolved: datetime | None = None,
) -> dict[str, Any]:
    live = status in ("open", "acknowledged")
    return {
        "model_id": model_id, "kind": kind, "feature": feature, "severity": severity,
        "status": status,
        "open_key": open_key(model_id, kind, feature) if live else None,
        "message": message, "first_seen": first, "last_seen": last,
        "occurrences": max(1, int((last - first).total_seconds() // 3600)),
        "source_report_id": None,
        "acknowledged_by": ack[0] if ack else None,
        "acknowledged_at": ack[1] if ack else None,
        "resolved_at": resolved, "details": {},
    }

"""Job functions for the scheduler tests (stable import path: the scheduler subprocesses
import them as ``tests.integration.scheduler.jobfns:...``).

``record`` writes one row per (model, window) into ``sched_test_runs``, a table WITHOUT a
unique constraint, so a window computed twice shows up as two rows (with the writers' pids).
Behaviour by model name:

* ``broken*``: raises for every window;
* ``drifty*``: also writes a ``drift_reports`` row with verdict ``drift`` (alerts follow);
* when ``$LC_TEST_HANG_FLAG`` names an existing file, the first job to see it records its
  window in ``<flag>.hanging`` and sleeps (the test SIGKILLs the process there).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
)
from sqlalchemy.orm import Session

from lifecycle.storage.models_repo import get_or_create_model
from lifecycle.storage.tables import DriftReportRow
from lifecycle.windows import Window

metadata = MetaData()
runs = Table(
    "sched_test_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(100), nullable=False),
    Column("window_key", String(100), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("created", DateTime, nullable=False),
)


def create_table(engine: Engine) -> None:
    metadata.create_all(engine)


def _maybe_hang(model: str, key: str) -> None:
    flag = os.environ.get("LC_TEST_HANG_FLAG")
    if not flag or not os.path.exists(flag):
        return
    try:
        fd = os.open(flag + ".hanging", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, f"{model} {key} {os.getpid()}".encode())
    os.close(fd)
    time.sleep(120)


def record(engine: Engine, settings: Any, model: str, window_start: datetime,
           window_end: datetime) -> dict[str, Any]:
    key = Window(window_start, window_end).key
    if model.startswith("broken"):
        raise RuntimeError(f"boom for {model} {key}")
    _maybe_hang(model, key)
    with Session(engine) as session, session.begin():
        session.execute(insert(runs).values(model=model, window_key=key, pid=os.getpid(),
                                            created=datetime.now()))
        if model.startswith("drifty"):  # replace-on-rerun, like the real drift job
            row = get_or_create_model(session, model)
            session.execute(delete(DriftReportRow).where(
                DriftReportRow.model_id == row.id, DriftReportRow.kind == "data",
                DriftReportRow.window_start == window_start,
                DriftReportRow.window_end == window_end))
            session.add(DriftReportRow(model_id=row.id, kind="data", window_start=window_start,
                                    window_end=window_end, n_reference=100, n_current=100,
                                    verdict="drift", drift_share=0.5, n_features=2,
                                    n_drifted=1))
    return {"rows": 1}


def retrain_hook(engine: Engine, settings: Any, model: str, alert_id: int) -> str:
    CALLS.append((model, alert_id))
    return "started"


def failing_retrain_hook(engine: Engine, settings: Any, model: str, alert_id: int) -> str:
    raise RuntimeError("trainer exploded")


CALLS: list[tuple[str, int]] = []

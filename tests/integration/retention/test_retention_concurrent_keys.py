"""Key rows written by a capture process while the retention job retires a part: on
PostgreSQL (READ COMMITTED) a key row committed between the job's count of a join key's rows
and its delete of them must survive (it belongs to a hot batch)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _retention_log import DAY0, MODEL, NOW, _batch, key_multiset, make_log, settings_for
from sqlalchemy import Engine, event

from lifecycle.jobs.retention import run_retention
from lifecycle.storage.capture_repo import model_id_for, write_batches


@pytest.mark.postgres
def test_key_row_written_during_retirement_survives(pg_url: str,
                                                     engine_for: Callable[[str], Engine],
                                                     tmp_path: Path) -> None:
    engine, capture = engine_for(pg_url), engine_for(pg_url)
    make_log(engine)
    # batch 0 (day 0, archived) logged "shared-key" and "user-0-1".."user-0-59"; a capture
    # process logs "shared-key" and "user-0-1".."user-0-4" again, in a hot batch of day 5
    again = _batch(np.random.default_rng(1), "c" * 32, DAY0 + timedelta(days=5, hours=20),
                   5, 0)
    assert again.outputs().column("_join_key").to_pylist()[1] == "user-0-1"
    fired: list[bool] = []

    def concurrent_write(conn: Any, cursor: Any, statement: str, parameters: Any,
                         context: Any, executemany: bool) -> None:
        if (not fired and statement.startswith("DELETE FROM prediction_keys")
                and "user-0-1" in str(parameters)):
            fired.append(True)
            with capture.begin() as other:
                write_batches(other, [(model_id_for(other, MODEL), again)])

    event.listen(engine, "before_cursor_execute", concurrent_write)
    before = key_multiset(engine)
    run_retention(engine, settings_for(tmp_path, str(tmp_path / "archive")), MODEL,
                  NOW - timedelta(days=1), NOW, now=NOW)
    assert fired
    after = key_multiset(engine)
    for key in ("user-0-1", "user-0-2", "user-0-3", "user-0-4"):
        assert before.count(key) == 1
        assert after.count(key) == 1, key  # batch 0's row retired, the new batch's kept
    assert after.count("shared-key") == before.count("shared-key") == 2

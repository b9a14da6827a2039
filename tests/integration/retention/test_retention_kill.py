"""Crash safety: the retention job killed (SIGKILL) between any two of its steps, then run
again, loses no row and doubles none; readers see every row exactly once even between the
kill and the rerun. Also: a part whose file went missing is rewritten, and a batch replayed
hot after its day was archived is read once and retired without a second archive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from _retention_log import MODEL, NOW, fingerprint, hot_batches, key_multiset, make_log
from sqlalchemy import Engine, update

from lifecycle.jobs.retention import archive_model, run_retention
from lifecycle.storage.archive_repo import DELETED, VERIFIED, WRITTEN, parts
from lifecycle.storage.capture_repo import model_id_for, write_batches
from lifecycle.storage.tables import ArchivePart

_ROOT = Path(__file__).resolve().parents[3]
_CHILD = """
import sys, time
from pathlib import Path
from datetime import datetime
from lifecycle.storage.engine import make_engine
from lifecycle.jobs.retention import archive_model
url, archive, stage, marker = sys.argv[1:5]
def checkpoint(step):
    if step == stage:
        Path(marker).write_text(step)
        time.sleep(600)
archive_model(make_engine(url), "ret", datetime.fromisoformat(sys.argv[5]), archive,
              hot_days=3, checkpoint=checkpoint)
"""


def _kill_at(url: str, archive: str, stage: str, tmp_path: Path, cutoff: str) -> None:
    marker = tmp_path / f"reached-{stage}"
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url, archive, stage, str(marker),
                              cutoff], env=env)
    try:
        while not marker.exists():  # no time limit here: the test's own timeout applies
            if child.poll() is not None:
                raise AssertionError(f"the job ended (code {child.returncode}) before {stage}")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stage", ["written", "recorded", "verified", "retired"])
def test_kill_between_steps_loses_and_doubles_nothing(db_url: str, engine: Engine,
                                                      tmp_path: Path, stage: str) -> None:
    make_log(engine)
    before, keys = fingerprint(engine), key_multiset(engine)
    archive = str(tmp_path / "archive")
    cutoff = (NOW.replace(hour=0) - timedelta(days=3))
    _kill_at(db_url, archive, stage, tmp_path, cutoff.isoformat())

    with engine.connect() as conn:
        states = [p.state for p in parts(conn, None)]
    expected = {"written": [], "recorded": [WRITTEN], "verified": [VERIFIED],
                "retired": [DELETED]}[stage]
    assert states[:1] == expected  # the first part got exactly that far
    assert fingerprint(engine) == before  # readers see every row once, mid-crash

    result = archive_model(engine, MODEL, cutoff, archive, hot_days=3)
    assert result.rows_archived > 0
    with engine.connect() as conn:
        assert {p.state for p in parts(conn, None)} == {DELETED}
    assert fingerprint(engine) == before
    # the key rows left are those of the batches still hot
    assert len(key_multiset(engine)) < len(keys)
    assert hot_batches(engine) == 7
    tmp_left = [p for p in Path(archive).rglob("_tmp-*")]
    assert tmp_left == []


def test_missing_file_of_a_written_part_is_rewritten(engine: Engine, tmp_path: Path) -> None:
    make_log(engine)
    before = fingerprint(engine)
    archive = str(tmp_path / "archive")
    cutoff = NOW.replace(hour=0) - timedelta(days=3)

    def stop(step: str) -> None:
        if step == "recorded":
            raise KeyboardInterrupt  # stands for a crash right after the manifest insert

    with pytest.raises(KeyboardInterrupt):
        archive_model(engine, MODEL, cutoff, archive, hot_days=3, checkpoint=stop)
    with engine.connect() as conn:
        written = parts(conn, None, states=(WRITTEN,))
    assert written
    for part in written:
        Path(part.url).unlink()
    archive_model(engine, MODEL, cutoff, archive, hot_days=3)
    assert fingerprint(engine) == before
    for part in written:
        assert Path(part.url).exists()


def test_a_corrupt_part_is_never_retired(engine: Engine, tmp_path: Path) -> None:
    make_log(engine)
    archive = str(tmp_path / "archive")
    cutoff = NOW.replace(hour=0) - timedelta(days=3)

    def stop(step: str) -> None:
        if step == "recorded":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        archive_model(engine, MODEL, cutoff, archive, hot_days=3, checkpoint=stop)
    with engine.begin() as conn:  # the manifest disagrees with the file and the hot rows
        conn.execute(update(ArchivePart).values(content_sha256="0" * 64))
    hot = hot_batches(engine)
    with pytest.raises(Exception, match="no longer match"):
        archive_model(engine, MODEL, cutoff, archive, hot_days=3)
    assert hot_batches(engine) == hot


def test_a_batch_replayed_after_archiving_is_read_once(engine: Engine, tmp_path: Path) -> None:
    batches = make_log(engine)
    before = fingerprint(engine)
    settings_url = str(tmp_path / "archive")
    from _retention_log import settings_for

    settings = settings_for(tmp_path, settings_url)
    run_retention(engine, settings, MODEL, NOW, NOW, now=NOW)
    keys = key_multiset(engine)
    # the spill file replays day 0's first batch: it is hot again, and archived
    with engine.begin() as conn:
        assert write_batches(conn, [(model_id_for(conn, MODEL), batches[0])]) == [True]
    assert fingerprint(engine) == before
    result = run_retention(engine, settings, MODEL, NOW, NOW, now=NOW)
    assert result.replayed_batches_retired == 1
    assert result.parts_written == 0
    assert fingerprint(engine) == before
    assert key_multiset(engine) == keys

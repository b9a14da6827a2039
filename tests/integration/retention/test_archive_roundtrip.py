"""The archive round trip is exact: after the retention job archives and retires the old
days, every reader (load_window, the labelled join, the training window) returns exactly what
it returned with every row hot, over windows that span archived and hot days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas.testing as pdt
import pytest
from _retention_log import (
    DAY0,
    MODEL,
    NOW,
    fingerprint,
    hot_batches,
    key_multiset,
    make_log,
    settings_for,
)
from sqlalchemy import Engine

from lifecycle.config import ModelSettings
from lifecycle.config.retrain import RetrainSettings
from lifecycle.jobs.retention import archive_url_for, run_retention
from lifecycle.storage.archive_repo import DELETED, parts
from lifecycle.storage.labelled import load_labelled_window
from lifecycle.storage.window import load_window
from lifecycle.training.window import build_training_window

WINDOWS = [(None, None), (DAY0 + timedelta(days=1, hours=10), DAY0 + timedelta(days=4)),
           (DAY0 + timedelta(days=2, hours=23), DAY0 + timedelta(days=3, hours=1)),
           (DAY0, DAY0 + timedelta(days=2))]


def _windows(engine: Engine) -> list[object]:
    out: list[object] = []
    for since, until in WINDOWS:
        out.append(load_window(engine, MODEL, since, until, with_headline=True))
        out.append(load_window(engine, MODEL, since, until, role="champion",
                               with_inputs=False))
    return out


def _assert_same(before: list[object], after: list[object]) -> None:
    for a, b in zip(before, after, strict=True):
        for name in ("inputs", "outputs", "meta"):
            pdt.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("scheme", ["local", "memory"])
def test_archive_then_read_is_exact(engine: Engine, tmp_path: Path, scheme: str) -> None:
    batches = make_log(engine)
    url = str(tmp_path / "archive") if scheme == "local" else f"memory://{tmp_path.name}/a"
    settings = settings_for(tmp_path, url)
    before = _windows(engine)
    labelled = load_labelled_window(engine, MODEL, DAY0, DAY0 + timedelta(days=5),
                                    as_of=NOW)
    ms = ModelSettings(name=MODEL, features=("x", "k", "city"),
                       retrain=RetrainSettings(min_rows=10, target="label"))
    training = build_training_window(engine, ms, since=DAY0 + timedelta(days=1),
                                     until=DAY0 + timedelta(days=5), as_of=NOW)
    keys_before = key_multiset(engine)
    print_before = fingerprint(engine)

    result = run_retention(engine, settings, MODEL, NOW - timedelta(days=1), NOW, now=NOW)

    # days 0-2 ended before 2026-03-04 00:00 - 3 days... cutoff = March 4 (day 3)
    assert result.cutoff == DAY0 + timedelta(days=3)
    # the batch crossing midnight of day 2 ends on day 3: it stays hot
    archived = [b for b in batches if b.ts_max_us < int(result.cutoff.timestamp() * 1e6)]
    assert result.batches_archived == len(archived) == 6
    assert result.rows_archived == sum(b.n_rows for b in archived)
    assert hot_batches(engine) == len(batches) - len(archived)
    with engine.connect() as conn:
        found = parts(conn, None)
    assert {p.state for p in found} == {DELETED}
    # one part per day and schema (the log's batches differ in columns and types)
    assert {p.day for p in found} == {"2026-03-01", "2026-03-02", "2026-03-03"}
    assert sum(p.n_rows for p in found) == result.rows_archived
    # the key rows of archived batches are gone, the others untouched
    archived_keys = sorted(k for b in archived
                           for k in b.outputs().column("_join_key").to_pylist())
    remaining = list(keys_before)
    for key in archived_keys:
        remaining.remove(key)
    assert key_multiset(engine) == sorted(remaining)
    assert "shared-key" in key_multiset(engine)  # logged again on day 5, still hot

    _assert_same(before, _windows(engine))
    assert fingerprint(engine) == print_before
    after = load_labelled_window(engine, MODEL, DAY0, DAY0 + timedelta(days=5), as_of=NOW)
    pdt.assert_frame_equal(labelled.frame, after.frame, check_exact=True)
    assert after.n_labelled == labelled.n_labelled > 0
    again = build_training_window(engine, ms, since=DAY0 + timedelta(days=1),
                                  until=DAY0 + timedelta(days=5), as_of=NOW)
    pdt.assert_frame_equal(training.train, again.train, check_exact=True)
    pdt.assert_frame_equal(training.holdout, again.holdout, check_exact=True)
    assert training.content_hash == again.content_hash

    # a second run has nothing left to do and changes nothing
    second = run_retention(engine, settings, MODEL, NOW - timedelta(days=1), NOW, now=NOW)
    assert (second.batches_archived, second.parts_written) == (0, 0)
    assert fingerprint(engine) == print_before
    assert archive_url_for(settings) == url


def test_disabled_or_unknown_model_is_an_empty_window(engine: Engine, tmp_path: Path) -> None:
    from lifecycle.config.retention import RetentionSettings

    off = settings_for(tmp_path, str(tmp_path / "a"))
    off = type(off)(**{**off.__dict__, "retention": RetentionSettings(enabled=False)})
    assert run_retention(engine, off, MODEL, NOW, NOW, now=NOW).empty
    on = settings_for(tmp_path, str(tmp_path / "a"))
    assert run_retention(engine, on, "never-logged", NOW, NOW, now=NOW).empty

"""``lifecycle drift recompute``: where it ran, the partitions, the counts; the environment's
scheduler wins over the file; an unreachable scheduler is one clear line, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _compute_data import SINCE, UNTIL, write_known_window
from click.testing import CliRunner
from sqlalchemy import Engine

from lifecycle.cli import main
from lifecycle.compute.partitions import dispose_worker_engines

pytestmark = pytest.mark.slow
WINDOW = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    try:
        result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    finally:
        dispose_worker_engines()
    return result.exit_code, result.stdout, result.stderr


def test_recompute_on_the_cluster_named_by_the_environment(
        tmp_home: Path, sqlite_url: str, cluster: Any,
        engine_for: Callable[[str], Engine]) -> None:
    truth = write_known_window(engine_for(sqlite_url))
    config = tmp_home / "lifecycle.toml"
    config.write_text('[compute]\ndask_scheduler = "tcp://127.0.0.1:9"\n'
                      'rows_per_partition = 1000\n')
    env = {"LIFECYCLE_DATABASE_URL": sqlite_url, "LIFECYCLE_CONFIG": str(config),
           "LIFECYCLE_DASK_SCHEDULER": cluster.scheduler_address}
    code, out, err = _run(["drift", "recompute", "m", *WINDOW], env)
    assert code in (0, 1), err  # 1: the counts gave a drift verdict (like `drift check`)
    assert f"ran on {cluster.scheduler_address}: 4 partition(s)" in out
    assert f"{len(truth.x)} served rows counted" in out
    counts, verdicts = out.split("\n\n", 1)
    assert "data drift: " in verdicts and "recomputed exactly from counts" in verdicts
    assert (code == 1) == ("data drift: DRIFT" in verdicts)
    lines = {line.split()[0]: line.split() for line in counts.splitlines()[2:] if line.strip()}
    assert lines["z"][1:5] == ["numeric", str(len(truth.x) - truth.numeric("z")[1]),
                               str(truth.numeric("z")[1]), str(truth.numeric("z")[1])]
    assert lines["x"][7] == "exact"


def test_an_unreachable_scheduler_is_one_clear_line(
        tmp_home: Path, sqlite_url: str, engine_for: Callable[[str], Engine]) -> None:
    write_known_window(engine_for(sqlite_url))
    config = tmp_home / "lifecycle.toml"
    config.write_text('[compute]\ndask_scheduler = "tcp://127.0.0.1:9"\ntimeout = "1s"\n')
    env = {"LIFECYCLE_DATABASE_URL": sqlite_url, "LIFECYCLE_CONFIG": str(config)}
    code, out, err = _run(["drift", "recompute", "m", *WINDOW], env)
    assert code == 2 and out == ""
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1

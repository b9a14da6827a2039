"""``[compute]`` settings: defaults, the environment winning over the file, and errors that
name the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.config import load_settings
from lifecycle.config.compute import DEFAULT_ROWS_PER_PARTITION, ComputeSettings
from lifecycle.errors import ConfigError


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ComputeSettings:
    path = tmp_path / "lifecycle.toml"
    path.write_text(text)
    return load_settings(path, env=env or {}, cwd=tmp_path).compute


def test_defaults(tmp_path: Path) -> None:
    c = _load(tmp_path, "")
    assert c.dask_scheduler is None and c.timeout_s == 10.0
    assert c.local_workers == (os.cpu_count() or 1)
    assert c.rows_per_partition == DEFAULT_ROWS_PER_PARTITION == 1_000_000


def test_the_file(tmp_path: Path) -> None:
    c = _load(tmp_path, '[compute]\ndask_scheduler = "tls://dask.internal:8786"\n'
                        'local_workers = 3\nrows_per_partition = 5000\ntimeout = "30s"\n')
    assert c == ComputeSettings("tls://dask.internal:8786", 3, 5000, 30.0)


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    c = _load(tmp_path, '[compute]\ndask_scheduler = "tcp://file:8786"\n',
              {"LIFECYCLE_DASK_SCHEDULER": "tcp://env-host:8786"})
    assert c.dask_scheduler == "tcp://env-host:8786"


@pytest.mark.parametrize(("text", "env", "match"), [
    ('dask_scheduler = "http://x:8786"', {}, r"compute\.dask_scheduler = 'http://x:8786'.*"
                                              r"tcp://host:8786"),
    ('dask_scheduler = "x:8786"', {}, r"compute\.dask_scheduler.*not a Dask scheduler"),
    ('dask_scheduler = "tcp://host"', {}, r"compute\.dask_scheduler.*host:port"),
    ("", {"LIFECYCLE_DASK_SCHEDULER": "localhost:8786"}, r"LIFECYCLE_DASK_SCHEDULER"),
    ("local_workers = 0", {}, r"compute\.local_workers = 0 is out of range"),
    ("rows_per_partition = 'many'", {}, r"compute\.rows_per_partition must be an integer"),
    ('timeout = "0s"', {}, r"compute\.timeout"),
    ('timeout = "soon"', {}, r"compute\.timeout must be a duration"),
    ("dask = 1", {}, r"compute\.dask.*allowed keys"),
])
def test_errors_name_the_key(tmp_path: Path, text: str, env: dict[str, str],
                             match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _load(tmp_path, f"[compute]\n{text}\n", env)


def test_inproc_and_websocket_addresses(tmp_path: Path) -> None:
    for address in ("inproc://10.0.0.1/1234/1", "ws://dask:8786", "wss://dask:443"):
        assert _load(tmp_path, "", {"LIFECYCLE_DASK_SCHEDULER": address}).dask_scheduler \
            == address

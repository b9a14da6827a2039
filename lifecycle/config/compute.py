"""``[compute]``: where the heavy passes run (a Dask cluster, or threads of this process).

The heavy passes (the rollup backfill of many hours, the exact recomputation of a large
window, the retraining window's join of a large window; ``docs/scale.md``) run on the Dask
cluster named by ``dask_scheduler`` (or ``$LIFECYCLE_DASK_SCHEDULER``, which wins), one
partition per group of stored batches; without it the same code runs on ``local_workers``
threads of the calling process.

Nothing here imports ``distributed``: the address is only checked for its form.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lifecycle.config.section import Section, hide_uri_password
from lifecycle.errors import ConfigError

__all__ = ["DASK_SCHEMES", "DEFAULT_ROWS_PER_PARTITION", "ComputeSettings"]

#: Dask comm schemes a scheduler address may use.
DASK_SCHEMES = ("tcp", "tls", "inproc", "ws", "wss")
#: Rows of stored batches per partition of a heavy pass (about 1 GB of decoded inputs at
#: 20 float features is 160 MB; a worker holds one partition's rows at a time).
DEFAULT_ROWS_PER_PARTITION = 1_000_000
ENV_SCHEDULER = "LIFECYCLE_DASK_SCHEDULER"


def _cpu_count() -> int:
    return os.cpu_count() or 1


def check_scheduler_address(value: str, key: str) -> str:
    """``value`` when it is a Dask address (``tcp://host:8786``, ``tls://...``,
    ``inproc://...``, ``ws://`` / ``wss://``), else a ConfigError naming ``key``."""
    scheme, sep, rest = value.strip().partition("://")
    if not sep or scheme.lower() not in DASK_SCHEMES or not rest:
        raise ConfigError(
            f"{key} = {hide_uri_password(value)!r} is not a Dask scheduler address; write "
            f"'tcp://host:8786' (or tls://, inproc://, ws://, wss://), or unset it to run "
            "the heavy passes on local threads"
        )
    if scheme.lower() in ("tcp", "tls", "ws", "wss"):
        try:
            port = urlsplit(value.strip()).port
        except ValueError:
            port = -1
        if port is None or port == -1 or not urlsplit(value.strip()).hostname:
            raise ConfigError(
                f"{key} = {hide_uri_password(value)!r} has no valid host:port; write "
                "e.g. 'tcp://dask-scheduler:8786'"
            )
    return value.strip()


@dataclass(frozen=True)
class ComputeSettings:
    """Where the heavy passes run (``docs/scale.md``).

    Attributes
    ----------
    dask_scheduler
        Address of a running Dask scheduler (``tcp://host:8786``), or None: local threads.
    local_workers
        Threads of the calling process when no scheduler is set (default: CPU count).
    rows_per_partition
        Stored rows per partition (a group of consecutive batches); also the window size
        past which the retraining join is partitioned.
    timeout_s
        How long connecting to the scheduler may take before the pass fails.
    """

    dask_scheduler: str | None = None
    local_workers: int = field(default_factory=_cpu_count)
    rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION
    timeout_s: float = 10.0

    @property
    def source(self) -> str:
        """Where :attr:`dask_scheduler` was read from, for error messages."""
        return f"[compute] dask_scheduler (or ${ENV_SCHEDULER})"

    @classmethod
    def parse(cls, data: Any, env: Mapping[str, str]) -> ComputeSettings:
        s = Section(data, "compute", {"dask_scheduler", "local_workers", "rows_per_partition",
                                        "timeout"})
        address = env.get(ENV_SCHEDULER) or None
        if address is not None:
            address = check_scheduler_address(address, ENV_SCHEDULER)
        else:
            raw = s.str_("dask_scheduler")
            address = None if raw is None else check_scheduler_address(
                raw, "compute.dask_scheduler")
        timeout = s.duration("timeout", None)
        timeout_s = cls.timeout_s if timeout is None else timeout.total_seconds()
        if not 0 < timeout_s <= 600:
            raise ConfigError(f"compute.timeout = {s.get('timeout')!r} is out of range; it "
                              "must be more than 0 s and at most 10 minutes (e.g. '10s')")
        return cls(
            dask_scheduler=address,
            local_workers=s.integer("local_workers", _cpu_count(), minimum=1, maximum=1024),
            rows_per_partition=s.integer("rows_per_partition", DEFAULT_ROWS_PER_PARTITION,
                                         minimum=1, maximum=1_000_000_000),
            timeout_s=timeout_s,
        )

"""Where a heavy pass runs its partitions: a Dask cluster, or threads of this process.

:func:`executor_for` gives a context manager whose :meth:`Executor.map` runs ``fn`` on every
item and returns the results in item order. It fits the ``mapper`` parameter of the passes
(``Callable[[fn, list], list]``), so a pass is written once and runs on either.

* :class:`LocalExecutor`: a ``ThreadPoolExecutor`` of ``[compute] local_workers`` threads
  (numpy, Arrow and the database drivers release the GIL in their heavy parts).
* :class:`DaskExecutor`: ``distributed.Client(address, timeout=...)``; ``client.map(fn, items,
  pure=False)`` then the results gathered. ``fn`` must be a top-level importable function
  (workers import it by name: they need lifecycle installed, same version) and the items
  small and picklable (partition descriptions, never rows): each worker reads its rows from
  the database itself.

The first failing item stops the pass: the others are cancelled and its exception is
re-raised with a note naming the item (``add_note``), keeping its type.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import logging
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from lifecycle.config.compute import ComputeSettings
from lifecycle.errors import ComputeError, ConfigError

__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "executor_for"]

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
INSTALL_HINT = "pip install 'lifecycle[dask]'"


def _name_item(exc: BaseException, index: int, total: int, item: Any) -> BaseException:
    shown = repr(item)
    if len(shown) > 300:
        shown = shown[:300] + "..."
    exc.add_note(f"in partition {index + 1} of {total}: {shown}")
    return exc


class Executor:
    """Runs ``fn`` over items; a context manager (``with executor_for(s) as ex: ...``)."""

    #: Where the work runs, for reports: ``"local threads (4)"`` or the scheduler address.
    where: str = ""
    #: Number of places items run at once (threads, or the cluster's worker threads).
    parallelism: int = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class LocalExecutor(Executor):
    """Items on ``workers`` threads of this process."""

    def __init__(self, workers: int) -> None:
        self.parallelism = max(1, int(workers))
        self.where = f"local threads ({self.parallelism})"

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        items = list(items)
        if not items:
            return []
        if self.parallelism == 1 or len(items) == 1:
            out = []
            for i, item in enumerate(items):
                try:
                    out.append(fn(item))
                except Exception as exc:
                    raise _name_item(exc, i, len(items), item) from None
            return out
        pool = cf.ThreadPoolExecutor(max_workers=min(self.parallelism, len(items)),
                                     thread_name_prefix="lifecycle-compute")
        try:
            futures = [pool.submit(fn, item) for item in items]
            index = {f: i for i, f in enumerate(futures)}
            for done in cf.as_completed(futures):
                error = done.exception()
                if error is not None:
                    for f in futures:
                        f.cancel()
                    i = index[done]
                    raise _name_item(error, i, len(items), items[i]) from None
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Items on the Dask cluster whose scheduler listens at ``address``."""

    def __init__(self, address: str, timeout_s: float = 10.0, *,
                 source: str = "[compute] dask_scheduler", security: Any = None) -> None:
        try:
            distributed = importlib.import_module("distributed")
        except ImportError:
            raise ConfigError(
                f"{source} is set to {address!r}, but the Dask client is not installed; "
                f"install it with {INSTALL_HINT} (or unset {source} to run on local threads)"
            ) from None
        self._distributed = distributed
        self.where = address
        try:
            self.client = distributed.Client(address, timeout=timeout_s, security=security,
                                             set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ComputeError(
                f"cannot reach the Dask scheduler at {address} within {timeout_s:g} s "
                f"({type(exc).__name__}: {exc}); start it (`dask scheduler`), fix {source}, "
                "or unset it to run on local threads"
            ) from None
        threads = sum(self.client.nthreads().values())
        self.parallelism = max(1, threads)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        items = list(items)
        if not items:
            return []
        futures = self.client.map(fn, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for done in self._distributed.as_completed(futures, loop=self.client.loop):
                if done.status == "error":
                    error = done.exception()
                    self.client.cancel(futures)
                    i = index[done.key]
                    raise _name_item(error, i, len(items), items[i]) from None
            return list(self.client.gather(futures))
        finally:
            del futures

    def close(self) -> None:
        self.client.close()


def executor_for(settings: ComputeSettings) -> Executor:
    """The executor ``settings`` ask for: Dask when a scheduler is set, else local threads.

    Raises
    ------
    ConfigError
        A scheduler is set but ``distributed`` is not installed (names the install command).
    ComputeError
        The scheduler cannot be reached within ``[compute] timeout`` (names the address and
        the setting).
    """
    if settings.dask_scheduler:
        return DaskExecutor(settings.dask_scheduler, settings.timeout_s,
                            source=settings.source)
    return LocalExecutor(settings.local_workers)

"""The demo's model registry: MLflow, with each version's creation on the simulated clock.

MLflow stamps a model version with the wall clock when it is registered; the demo's traffic,
labels and jobs run on a simulated clock that ends at today's midnight. The shadow evaluation
pairs requests from the challenger's registration on (``VersionInfo.created_at``), so a
wall-clock registration time would lie after every simulated request. :class:`SimulatedRegistry`
is the MLflow registry (:class:`~lifecycle.registry.mlflow_store.MlflowRegistry`, one explicit
client) that remembers the simulated time at which it registered each version and reports
that as ``created_at``. Everything else (runs, versions, aliases, tags, models) is MLflow's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from lifecycle.registry.base import VersionInfo
from lifecycle.registry.mlflow_store import MlflowRegistry

__all__ = ["SimulatedRegistry"]


class SimulatedRegistry(MlflowRegistry):
    """An MLflow registry whose versions were created at ``clock()`` time.

    Parameters
    ----------
    tracking_uri
        The demo's MLflow store (``sqlite:///<folder>/mlflow.db``).
    clock
        The simulated clock.
    """

    def __init__(self, tracking_uri: str, clock: Callable[[], datetime]) -> None:
        super().__init__(tracking_uri)
        self._clock = clock
        self._created: dict[tuple[str, str], datetime] = {}

    def note_created(self, name: str, version: str, when: datetime) -> None:
        """Record the simulated creation time of a version registered elsewhere (the demo's
        first champion is registered by ``lifecycle register``)."""
        self._created[(name, version)] = when

    def _simulated(self, info: VersionInfo | None) -> VersionInfo | None:
        if info is None:
            return None
        when = self._created.get((info.name, info.version))
        return info if when is None else replace(info, created_at=when)

    def register(self, name: str, model_uri: str, *, run_id: str | None,
                 tags: Mapping[str, str] | None = None) -> VersionInfo:
        info = super().register(name, model_uri, run_id=run_id, tags=tags)
        self._created[(name, info.version)] = self._clock()
        return replace(info, created_at=self._created[(name, info.version)])

    def version(self, name: str, version: str) -> VersionInfo | None:
        return self._simulated(super().version(name, version))

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        return self._simulated(super().by_alias(name, alias))

    def versions(self, name: str) -> Sequence[VersionInfo]:
        found = [self._simulated(v) for v in super().versions(name)]
        return [v for v in found if v is not None]

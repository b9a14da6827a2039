"""Helpers of the serving tests: a small in-process registry and generated training data."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.registry.base import VersionInfo

N_FEATURES = 4
COLUMNS = [f"f{i}" for i in range(N_FEATURES)]


class DictRegistry:
    """The part of the registry protocol ManagedModel uses, over plain dicts: versions are
    model objects, ``fail`` holds versions whose load raises, ``loads`` counts loads."""

    tracking_uri = "memory://tests"

    def __init__(self, name: str) -> None:
        self.name = name
        self.models: dict[str, Any] = {}
        self.aliases: dict[str, str] = {}
        self.fail: set[str] = set()
        self.loads: list[str] = []
        self._lock = threading.Lock()

    def add(self, version: str, model: Any, *aliases: str) -> None:
        with self._lock:
            self.models[version] = model
            for alias in aliases:
                self.aliases[alias] = version

    def set_alias(self, name: str, alias: str, version: str) -> None:
        with self._lock:
            self.aliases[alias] = version

    def delete_alias(self, name: str, alias: str) -> None:
        with self._lock:
            self.aliases.pop(alias, None)

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        with self._lock:
            version = self.aliases.get(alias) if name == self.name else None
        if version is None:
            return None
        return VersionInfo(name=name, version=version, run_id=None, source=None,
                           aliases=(alias,))

    def load_model(self, uri: str) -> Any:
        version = uri.rsplit("/", 1)[1]
        self.loads.append(version)
        if version in self.fail:
            raise OSError(f"artifact of version {version} is missing")
        return self.models[version]


def training_data(seed: int = 0, n: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, N_FEATURES)), columns=COLUMNS)
    y = (x["f0"] + 0.5 * x["f1"] > 0).astype(int).to_numpy()
    return x, y

"""Fixtures of the performance integration tests (helpers live in ``_perf_data.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine


@pytest.fixture
def sqlite_engine(sqlite_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Engine]:
    """An engine on a fresh migrated SQLite database (for the heavier scenarios)."""
    yield engine_for(sqlite_url)

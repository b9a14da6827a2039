"""Retention fixtures (the log itself is built by ``_retention_log.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _retention_log import make_log
from sqlalchemy import Engine

from lifecycle.storage.capture_repo import StoredBatch


@pytest.fixture
def log(engine: Engine) -> Callable[..., list[StoredBatch]]:
    return lambda **kw: make_log(engine, **kw)

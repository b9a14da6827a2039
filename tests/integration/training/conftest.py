"""Training-window fixtures: capture configured into real SQLite and PostgreSQL databases
(``db_url``), and the churn story of ``_churn_log.py`` logged into them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _churn_log import Logged, log_churn
from sqlalchemy import Engine

from lifecycle.capture import runtime
from lifecycle.capture.monitor import configure


@pytest.fixture
def capture(db_url: str, tmp_home: Path, tmp_path: Path) -> Iterator[str]:
    configure(database_url=db_url, spill_dir=str(tmp_path / "spill"), flush_interval_s=0.02,
              db_timeout_s=2.0, shutdown_timeout_s=5.0, handle_sigterm=False)
    yield db_url
    runtime.reset()


@pytest.fixture
def churn(capture: str, engine_for: Callable[[str], Engine]) -> Logged:
    """The churn story, logged into ``capture``'s database."""
    return log_churn(capture, engine_for(capture))

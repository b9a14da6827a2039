"""Nothing dropped without a trace (issue 15 §4): invalid settings fail at decoration, records
lost later are counted and make ``flush()`` false with the reason, and ``log_outcomes`` refuses
a model name nobody logged or configured (a typo must not create a phantom model)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, text

import lifecycle
from lifecycle.capture import runtime
from lifecycle.errors import ConfigError, UnknownModelError


@pytest.fixture
def fresh(tmp_home: Path) -> Any:
    runtime.reset()
    yield Path.cwd()
    runtime.reset()


@pytest.mark.parametrize(("toml", "named"), [
    ("[capture\nflush_interval_s = 1\n", "is not valid TOML"),
    ("[capture]\nflush_interval = 1\n", "capture.flush_interval"),
])
def test_invalid_settings_fail_at_decoration(fresh: Path, toml: str, named: str) -> None:
    (fresh / "lifecycle.toml").write_text(toml)
    with pytest.raises(ConfigError, match=named):
        lifecycle.monitor("m")
    with pytest.raises(ConfigError, match=named):  # whatever the monitor is given
        lifecycle.monitor("m", database_url="sqlite:///elsewhere.db")


def test_settings_broken_after_decoration_are_counted_and_reported(
    fresh: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    predict = lifecycle.monitor("m")(lambda features: features.sum(axis=1))  # valid: no file
    (fresh / "lifecycle.toml").write_text("[capture]\nflush_interval = 1\n")
    with caplog.at_level(logging.WARNING, logger="lifecycle.capture"):
        served = [predict(np.ones((2, 3))) for _ in range(5)]
    assert all(s.tolist() == [3.0, 3.0] for s in served)  # every prediction was served
    stats = lifecycle.stats()
    assert stats["dropped"] == 10 and stats["dropped_by_kind"] == {"settings": 10}
    assert stats["errors_by_kind"] == {"settings": 5}
    said = [r.getMessage() for r in caplog.records if "[settings]" in r.getMessage()]
    assert len(said) == 1  # loud once, not once per call
    assert "cannot be loaded" in said[0] and "capture.flush_interval" in said[0]

    with caplog.at_level(logging.WARNING, logger="lifecycle.capture"):
        result = lifecycle.flush(5)
    assert not result  # was True: nothing was queued, so everything looked written
    assert result.complete and result.dropped == 10 and dict(result.lost) == {"settings": 10}
    assert "10 row(s) lost since the previous flush (settings 10)" in str(result)
    assert any("10 row(s) lost" in r.getMessage() for r in caplog.records)
    again = lifecycle.flush(5)  # each loss is reported by one flush
    assert again and again.dropped == 0


@pytest.mark.postgres
def test_a_refused_batch_makes_flush_false(pg_url: str, capture_to: Callable[..., Any]) -> None:
    capture_to(pg_url)
    predict = lifecycle.monitor("refused", id_column="k")(lambda features: 0)
    predict({"k": "fine", "x": 1})
    assert lifecycle.flush(30)
    predict({"k": "nul\x00key", "x": 2})  # PostgreSQL text cannot hold NUL: refused
    result = lifecycle.flush(30)
    assert not result and result.complete
    assert dict(result.lost) == {"rejected": 1}
    assert lifecycle.stats()["rejected"] == 1
    assert lifecycle.flush(30)


def _models(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM models ORDER BY name")).scalars())


def test_log_outcomes_refuses_an_unknown_model(
    sqlite_url: str, capture_to: Callable[..., Any], engine_for: Callable[[str], Engine],
) -> None:
    Path("lifecycle.toml").write_text("[models.configured-only]\n")
    capture_to(sqlite_url)
    predict = lifecycle.monitor("loan-approval", id_column="id")(lambda features: 1)
    predict({"id": 7, "x": 0.5})
    assert lifecycle.flush(30)
    with pytest.raises(UnknownModelError) as err:
        lifecycle.log_outcomes("loan-aproval", [7], [1])  # a typo
    message = str(err.value)
    assert "did you mean 'loan-approval'" in message
    assert "create=True" in message and "[models.loan-aproval]" in message
    assert isinstance(err.value, LookupError)
    engine = engine_for(sqlite_url)
    assert _models(engine) == ["loan-approval"]  # no phantom model
    with pytest.raises(UnknownModelError, match="known models: loan-approval"):
        lifecycle.log_outcomes("zzz", [7], [1])

    assert lifecycle.log_outcomes("loan-approval", [7], [1]) == 1  # logged predictions
    assert lifecycle.log_outcomes("configured-only", ["a"], [0]) == 1  # [models.NAME]
    assert lifecycle.log_outcomes("brand-new", ["b"], [0], create=True) == 1  # explicit
    assert _models(engine) == ["brand-new", "configured-only", "loan-approval"]

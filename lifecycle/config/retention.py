"""``[retention]``: how long the log stays hot, and where it goes after (docs/retention.md).

TOML, every key optional::

    [retention]
    enabled = true
    hot_days = 30                       # whole UTC days kept in the database
    archive_url = "s3://bucket/lifecycle-archive"   # any fsspec URL; default <home>/archive
    profile_days = 400                  # hourly profiles kept this long (default: forever)
    job_runs_days = 90                  # job_runs rows kept this long

    [models.churn.retention]
    hot_days = 7                        # per-model override

``LIFECYCLE_ARCHIVE_URL`` wins over ``archive_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.config.section import Section
from lifecycle.errors import ConfigError

__all__ = ["ModelRetention", "RetentionSettings"]

_KEYS = {"enabled", "hot_days", "archive_url", "profile_days", "job_runs_days"}
#: Longest retention accepted for any ``*_days`` key (100 years).
_MAX_DAYS = 36_500


def _days(s: Section, name: str, default: int | None) -> int | None:
    value = s.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{s.key(name)} must be a whole number of days, got {value!r}; "
                          f"e.g. {name} = 30")
    if value <= 0:
        raise ConfigError(f"{s.key(name)} = {value} must be at least 1 (days); to keep "
                          "everything hot, set [retention] enabled = false instead")
    if value > _MAX_DAYS:
        raise ConfigError(f"{s.key(name)} = {value} is out of range; it must be <= {_MAX_DAYS}")
    return int(value)


@dataclass(frozen=True)
class ModelRetention:
    """``[models.NAME.retention]``: a model's own ``hot_days`` (None: the global one)."""

    hot_days: int | None = None

    @classmethod
    def parse(cls, data: Any, prefix: str) -> ModelRetention:
        s = Section(data, prefix, {"hot_days"})
        return cls(hot_days=_days(s, "hot_days", None))


@dataclass(frozen=True)
class RetentionSettings:
    """The retention job's settings (owned by :mod:`lifecycle.jobs.retention`)."""

    enabled: bool = True
    hot_days: int = 30
    #: fsspec URL or local path of the Parquet archive; "" until parsed (then <home>/archive)
    archive_url: str = field(default="", repr=False)  # may hold credentials: never printed
    #: hourly profiles older than this are deleted; None keeps them forever
    profile_days: int | None = None
    job_runs_days: int = 90

    def hot_days_for(self, model: ModelRetention | None) -> int:
        """The model's ``hot_days`` override, else the global one."""
        if model is not None and model.hot_days is not None:
            return model.hot_days
        return self.hot_days

    @classmethod
    def parse(cls, data: Any, home: Path, env: Mapping[str, str]) -> RetentionSettings:
        s = Section(data, "retention", _KEYS)
        url = env.get("LIFECYCLE_ARCHIVE_URL") or s.str_("archive_url") or str(home / "archive")
        hot = _days(s, "hot_days", cls.hot_days)
        runs = _days(s, "job_runs_days", cls.job_runs_days)
        assert hot is not None and runs is not None
        return cls(
            enabled=s.boolean("enabled", cls.enabled),
            hot_days=hot,
            archive_url=url,
            profile_days=_days(s, "profile_days", None),
            job_runs_days=runs,
        )

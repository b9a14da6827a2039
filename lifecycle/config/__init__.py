"""Settings: ``lifecycle.toml`` plus ``LIFECYCLE_*`` environment overrides, validated once.

One package, one job per module:

* :mod:`~lifecycle.config.settings`: :func:`load_settings`, :class:`Settings` and the top-level,
  capture, dashboard and per-model sections;
* :mod:`~lifecycle.config.policies`: ``[models.NAME.drift]`` and ``[models.NAME.performance]``;
* :mod:`~lifecycle.config.retrain`: ``[models.NAME.retrain]`` (trainer, window, holdout...);
* :mod:`~lifecycle.config.promotion`: ``[models.NAME.shadow]`` and ``[models.NAME.promotion]``;
* :mod:`~lifecycle.config.schedules`: ``[scheduler]``, ``[models.NAME.schedule.KIND]`` and
  ``[models.NAME.alerts]``, the dataclasses beside their parsers;
* :mod:`~lifecycle.config.section`: typed reads that name the full key in every error.

Nothing here runs at import time.
"""

from __future__ import annotations

from lifecycle.config.policies import DriftSettings, PerformanceSettings
from lifecycle.config.promotion import PromotionSettings, ShadowSettings
from lifecycle.config.retrain import RetrainSettings
from lifecycle.config.schedules import (
    AlertSettings,
    CustomJob,
    JobSchedule,
    SchedulerSettings,
    ScheduleSettings,
)
from lifecycle.config.settings import (
    CONFIG_FILE,
    TASKS,
    CaptureSettings,
    DashboardSettings,
    ModelSettings,
    Settings,
    load_settings,
)

__all__ = [
    "CONFIG_FILE", "TASKS", "AlertSettings", "CaptureSettings", "CustomJob",
    "DashboardSettings", "DriftSettings", "JobSchedule", "ModelSettings", "PerformanceSettings",
    "PromotionSettings", "RetrainSettings", "ScheduleSettings", "SchedulerSettings", "Settings",
    "ShadowSettings", "load_settings",
]

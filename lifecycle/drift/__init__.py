"""Pure drift statistics: numpy arrays in, frozen dataclasses out.

Imports only the standard library, numpy and scipy (a test proves it). The pandas edge is
:func:`lifecycle.check_drift` in :mod:`lifecycle.drift_check`.
"""

from __future__ import annotations

from lifecycle.drift.base import StatOptions
from lifecycle.drift.decision import (
    DriftPolicy,
    FeatureOverride,
    FeatureStatistics,
    Thresholds,
    benjamini_hochberg,
    decide,
)
from lifecycle.drift.engine import check_profile, check_summaries, feature_statistics
from lifecycle.drift.profile import (
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    build_categorical_profile,
    build_numeric_profile,
)
from lifecycle.drift.report import DriftReport, FeatureResult, StatResult
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.drift.statistics import STATISTICS, Statistic, get_statistic
from lifecycle.drift.summary import CategoricalSummary, NumericSummary

__all__ = [
    "STATISTICS",
    "CategoricalProfile",
    "CategoricalSample",
    "CategoricalSummary",
    "DriftPolicy",
    "DriftReport",
    "FeatureOverride",
    "FeatureResult",
    "FeatureStatistics",
    "NumericProfile",
    "NumericSample",
    "NumericSummary",
    "ReferenceProfile",
    "StatOptions",
    "StatResult",
    "Statistic",
    "Thresholds",
    "benjamini_hochberg",
    "build_categorical_profile",
    "build_numeric_profile",
    "check_profile",
    "check_summaries",
    "decide",
    "feature_statistics",
    "get_statistic",
]

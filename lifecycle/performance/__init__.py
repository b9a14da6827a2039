"""Model performance on labelled windows and before labels arrive (pure core).

numpy arrays in, frozen dataclasses out; imports only the standard library, numpy and scipy.
"""

from __future__ import annotations

from lifecycle.performance.calibration import BinnedCalibration, pav
from lifecycle.performance.compare import (
    MetricComparison,
    PerformanceComparison,
    ReferenceBootstrap,
    compare_performance,
    compute_metrics,
    reference_bootstrap,
    two_proportion_test,
    wilson_interval,
)
from lifecycle.performance.data import (
    LabelledSample,
    canonical_label,
    classification_sample,
    ordered_classification_sample,
    regression_sample,
)
from lifecycle.performance.estimation import EstimatedPerformance, PerformanceEstimator

__all__ = [
    "BinnedCalibration",
    "EstimatedPerformance",
    "LabelledSample",
    "MetricComparison",
    "PerformanceComparison",
    "PerformanceEstimator",
    "ReferenceBootstrap",
    "canonical_label",
    "classification_sample",
    "compare_performance",
    "compute_metrics",
    "ordered_classification_sample",
    "pav",
    "reference_bootstrap",
    "regression_sample",
    "two_proportion_test",
    "wilson_interval",
]

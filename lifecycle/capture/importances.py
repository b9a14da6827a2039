"""The feature importances of a fitted estimator, read once when it is wrapped.

``read_importances(estimator, feature_names)`` returns a :class:`FeatureImportances` or None:

* ``feature_importances_`` (trees, forests, boosting), else ``|coef_|`` (linear models; for
  a 2-D ``coef_`` - one row per class - the mean of ``|coef|`` over the rows);
* names from ``feature_names_in_``, else the monitor's ``feature_names=``; with neither, None;
* a ``Pipeline`` (anything with ``steps``): the final step's importances, only when the
  pipeline's input names map 1:1 onto the final step's features (the final step's own
  ``feature_names_in_``, else the earlier steps' ``get_feature_names_out``, equal the
  pipeline's input names: a scaler keeps them, one-hot encoding or PCA does not), else None;
* normalised to sum 1 (all zero, negative or non-finite values: None).

Never raises: any exception while reading is logged at debug level and gives None, so
wrapping an estimator never fails because of its importances. Called at wrap time (and after
``fit`` through the wrapper), never on the prediction path. See docs/capture.md.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

log = logging.getLogger("lifecycle.capture")

__all__ = ["FeatureImportances", "read_importances"]


@dataclass(frozen=True)
class FeatureImportances:
    """Normalised importances (sum 1) by feature name, where they came from and when."""

    values: dict[str, float]
    #: ``"feature_importances_"`` or ``"coef_"``
    source: str
    read_at: datetime

    def to_details(self) -> dict[str, Any]:
        """The keys written into ``models.details``."""
        return {"feature_importances": dict(self.values),
                "feature_importances_source": self.source,
                "feature_importances_at": self.read_at.isoformat()}


def _raw(estimator: Any) -> tuple[np.ndarray, str] | None:
    values = getattr(estimator, "feature_importances_", None)
    if values is not None:
        return np.asarray(values, dtype=float).ravel(), "feature_importances_"
    coef = getattr(estimator, "coef_", None)
    if coef is None:
        return None
    arr = np.abs(np.asarray(coef, dtype=float))
    if arr.ndim == 2:
        arr = arr.mean(axis=0)  # one row per class: the mean |coef| over classes
    return arr.ravel(), "coef_"


def _names(estimator: Any, given: tuple[str, ...] | None) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return list(given) if given is not None else None


def _final_step(estimator: Any, names: list[str]) -> Any:
    """The final step of a pipeline when its features are the pipeline's inputs, one to one
    (the earlier steps' ``get_feature_names_out`` gives the input names back, or the final
    step's own ``feature_names_in_`` equal them), else None."""
    steps = estimator.steps
    final = steps[-1][1]
    if getattr(final, "n_features_in_", len(names)) != len(names):
        return None
    own = getattr(final, "feature_names_in_", None)
    if own is not None:
        return final if [str(n) for n in own] == names else None
    if len(steps) == 1:
        return final
    out = estimator[:-1].get_feature_names_out(names)
    return final if [str(n) for n in out] == names else None


def read_importances(estimator: Any,
                     feature_names: tuple[str, ...] | None = None) -> FeatureImportances | None:
    """The estimator's normalised importances by feature name, or None (never raises)."""
    try:
        names = _names(estimator, feature_names)
        if names is None:
            return None
        target = estimator
        if isinstance(getattr(estimator, "steps", None), list) and estimator.steps:
            target = _final_step(estimator, names)
            if target is None:
                return None
        raw = _raw(target)
        if raw is None:
            return None
        values, source = raw
        if len(values) != len(names) or len(set(names)) != len(names):
            return None
        total = float(values.sum())
        if not np.isfinite(values).all() or (values < 0).any() or not total > 0:
            return None
        normalised = {n: float(v) / total for n, v in zip(names, values, strict=True)}
        if not all(math.isfinite(v) for v in normalised.values()):
            return None
        return FeatureImportances(normalised, source, datetime.now(UTC))
    except Exception as exc:  # noqa: BLE001 - wrapping must never fail because of this
        log.debug("lifecycle.monitor: cannot read the importances of %s: %r",
                  type(estimator).__name__, exc)
        return None

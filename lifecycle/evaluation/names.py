"""The names the evaluation settings choose from, in a module that imports nothing heavy:
settings are validated at start-up by every command, which must not pay for numpy and scipy
(``lifecycle.config`` reads these through :class:`~lifecycle.evaluation.policy.ShadowPolicy`).
"""

from __future__ import annotations

#: Metrics the paired comparison decides on, by task (``docs/evaluation.md``).
CLASSIFICATION_METRICS = ("accuracy", "f1", "f1_macro", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse")
#: Alpha-spending functions (:data:`lifecycle.evaluation.spending.SPENDING_FUNCTIONS`).
SPENDING_NAMES = ("obrien_fleming", "pocock")
DEFAULT_SPENDING = "obrien_fleming"

__all__ = ["CLASSIFICATION_METRICS", "DEFAULT_SPENDING", "REGRESSION_METRICS", "SPENDING_NAMES"]

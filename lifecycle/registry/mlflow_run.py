"""An open MLflow run written through an explicit client (never the fluent, global API)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from lifecycle.registry.connection import translated
from lifecycle.registry.model_logging import log_model

# MLflow's limits (mlflow.utils.validation), restated so this module imports nothing heavy
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
PARAMS_PER_BATCH = 100
METRICS_PER_BATCH = 1000


def _truncate(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class MlflowTrainingRun:
    """:class:`lifecycle.registry.base.TrainingRun` over ``MlflowClient``."""

    def __init__(self, client: Any, *, tracking_uri: str, run_id: str,
                 experiment_id: str) -> None:
        self._client = client
        self._uri = tracking_uri
        self._run_id = run_id
        self._experiment_id = experiment_id

    @property
    def run_id(self) -> str:
        return self._run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(str(k), _truncate(v, MAX_PARAM_VALUE)) for k, v in params.items()]
        with translated(self._uri, f"logging params of run {self._run_id}"):
            for start in range(0, len(items), PARAMS_PER_BATCH):
                self._client.log_batch(self._run_id, params=items[start:start + PARAMS_PER_BATCH])

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(str(k), float(v), now, 0) for k, v in metrics.items()
                 if v is not None and math.isfinite(float(v))]
        with translated(self._uri, f"logging metrics of run {self._run_id}"):
            for start in range(0, len(items), METRICS_PER_BATCH):
                self._client.log_batch(self._run_id,
                                       metrics=items[start:start + METRICS_PER_BATCH])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(str(k), _truncate(v, MAX_TAG_VALUE)) for k, v in tags.items()]
        with translated(self._uri, f"tagging run {self._run_id}"):
            for start in range(0, len(items), PARAMS_PER_BATCH):
                self._client.log_batch(self._run_id, tags=items[start:start + PARAMS_PER_BATCH])

    def log_dict(self, data: Any, artifact_file: str) -> None:
        with translated(self._uri, f"logging {artifact_file} in run {self._run_id}"):
            self._client.log_dict(self._run_id, data, artifact_file)

    def log_model(self, model: Any, *, input_example: Any,
                  pip_requirements: Sequence[str] | None = None) -> str:
        with translated(self._uri, f"logging a model in run {self._run_id}"):
            return log_model(self._client, experiment_id=self._experiment_id,
                             run_id=self._run_id, model=model, input_example=input_example,
                             pip_requirements=pip_requirements)


__all__ = ["MAX_PARAM_VALUE", "MAX_TAG_VALUE", "MlflowTrainingRun"]

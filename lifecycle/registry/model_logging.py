"""Logging a model into an explicit run, without MLflow's global state.

MLflow 3 keeps models as *logged models* (``models:/<model_id>``) linked to the run that
produced them. ``mlflow.<flavour>.log_model`` resolves the tracking store from the process's
global tracking URI, which lifecycle never sets (several registries may live in one process),
so this module does what it does through an explicit client: create the logged model, save the
flavour into a temporary folder, upload it, link it to the run as an output, mark it READY.
It also skips the serving-input validation ``log_model`` runs (a reload and a predict): the
signature is inferred from the model's own predictions on the input example.

scikit-learn estimators use the sklearn flavour with ``serialization_format="cloudpickle"``:
MLflow 3's default, skops, refuses to load tree models ("untrusted type"). Anything else with
``predict`` is logged as a pyfunc ``PythonModel`` that calls it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from typing import Any

from lifecycle.errors import TrainerError
from lifecycle.registry.connection import mlflow_module
from lifecycle.registry.loggable import default_pip_requirements, is_sklearn_model, require_predict

#: Artifact name of the model inside its run (``runs:/<run_id>/model``).
MODEL_NAME = "model"
#: Rows of the input example stored with the model.
EXAMPLE_ROWS = 5
#: MLflow's notices about the serialisation lifecycle chose on purpose (module docstring).
_PICKLE_NOTICES = {
    "mlflow.sklearn": "Saving scikit-learn models in the pickle or cloudpickle format",
    "mlflow.pyfunc": "Passing a Python object as `python_model` causes it to be serialized",
}


class _DropPickleNotice(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def _quiet_pickle_notices() -> None:
    for name, prefix in _PICKLE_NOTICES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropPickleNotice) for f in logger.filters):
            logger.addFilter(_DropPickleNotice(prefix))


def predict_wrapper(model: Any) -> Any:
    """A pyfunc ``PythonModel`` whose ``predict`` calls ``model.predict``.

    The class is made here (not at module level) so cloudpickle stores it by value: loading
    the model needs mlflow and the wrapped object's own modules, never lifecycle.
    """
    from mlflow.pyfunc import PythonModel

    class PredictWrapper(PythonModel):  # type: ignore[misc]
        def __init__(self, wrapped: Any) -> None:
            self.model = wrapped

        # no type hints: MLflow would read them as a (wrong) schema
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return self.model.predict(model_input)

    return PredictWrapper(model)


def log_model(client: Any, *, experiment_id: str, run_id: str, model: Any, input_example: Any,
              pip_requirements: Sequence[str] | None = None, name: str = MODEL_NAME) -> str:
    """Log ``model`` into run ``run_id`` through ``client``; return its ``models:/<id>`` URI.

    Raises :class:`lifecycle.errors.TrainerError` when ``model`` has no ``predict``.
    """
    require_predict(model)
    mlflow = mlflow_module()
    from mlflow.entities import LoggedModelOutput
    from mlflow.models import Model, infer_signature

    example = _head(input_example)
    signature = None
    if example is not None:
        try:
            predictions = model.predict(example)
        except Exception as exc:
            raise TrainerError(
                f"{_type_name(model)}.predict failed on the input example ({exc}); the model "
                "must predict on rows shaped like its training data") from exc
        signature = infer_signature(example, predictions)
    requirements = list(default_pip_requirements() if pip_requirements is None
                        else pip_requirements)
    sklearn = is_sklearn_model(model)
    logged = client.create_logged_model(experiment_id, name=name, source_run_id=run_id)
    try:
        with tempfile.TemporaryDirectory(prefix="lifecycle-model-") as tmp:
            path = os.path.join(tmp, name)
            meta = Model(artifact_path=logged.artifact_location, model_uuid=logged.model_id,
                         run_id=run_id, model_id=logged.model_id)
            common = {"path": path, "mlflow_model": meta, "signature": signature,
                      "input_example": example, "pip_requirements": requirements}
            try:
                _quiet_pickle_notices()
                if sklearn:
                    mlflow.sklearn.save_model(sk_model=model,
                                              serialization_format="cloudpickle", **common)
                else:
                    mlflow.pyfunc.save_model(python_model=predict_wrapper(model), **common)
            except Exception as exc:  # saving is local: a failure is about the model
                raise TrainerError(
                    f"cannot save the {_type_name(model)} as an MLflow model ({exc}); the "
                    "trainer must return an object cloudpickle can serialise") from exc
            client.log_model_artifacts(logged.model_id, path)
        client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
        client.finalize_logged_model(logged.model_id, "READY")
    except BaseException:
        _mark_failed(client, logged.model_id)
        raise
    return f"models:/{logged.model_id}"


def _type_name(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _head(input_example: Any) -> Any:
    if input_example is None:
        return None
    head = getattr(input_example, "head", None)
    if callable(head):
        return head(EXAMPLE_ROWS)
    return input_example[:EXAMPLE_ROWS]


def _mark_failed(client: Any, model_id: str) -> None:
    try:
        client.finalize_logged_model(model_id, "FAILED")
    except Exception:  # noqa: BLE001 - the original error is the one to report
        logging.getLogger(__name__).debug("could not mark logged model %s FAILED", model_id)


__all__ = ["EXAMPLE_ROWS", "MODEL_NAME", "log_model", "predict_wrapper"]

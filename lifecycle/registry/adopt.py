"""What a model declares about itself (task, input features), checked against its
``[models.NAME]`` section before lifecycle registers it (``lifecycle register``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ModelMismatchError

if TYPE_CHECKING:
    from lifecycle.config import ModelSettings

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class ModelFacts:
    """What a model says about itself; None where it says nothing."""

    task: str | None
    #: the input columns it takes (``feature_names_in_`` or its MLflow signature)
    features: tuple[str, ...] | None
    #: the ones it cannot do without (all of ``feature_names_in_``; required signature columns)
    required: tuple[str, ...] = ()


def _unwrap(model: Any) -> Any:
    """The object inside an MLflow pyfunc model, when there is a Python object inside."""
    unwrap = getattr(model, "unwrap_python_model", None)
    if callable(unwrap):
        try:
            inner = unwrap()
        except Exception:  # noqa: BLE001 - another flavour (xgboost, ...): nothing to unwrap
            return model
        return getattr(inner, "model", inner)
    return model


def _task(model: Any) -> str | None:
    from sklearn.base import BaseEstimator, is_classifier, is_regressor

    if isinstance(model, BaseEstimator):
        if is_classifier(model):
            return CLASSIFICATION
        if is_regressor(model):
            return REGRESSION
    if callable(getattr(model, "predict_proba", None)) or hasattr(model, "classes_"):
        return CLASSIFICATION
    return None


def _signature_columns(model: Any) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    metadata = getattr(model, "metadata", None)
    get_schema = getattr(metadata, "get_input_schema", None)
    schema = get_schema() if callable(get_schema) else None
    if schema is None or not getattr(schema, "has_input_names", lambda: False)():
        return None
    columns = list(schema.inputs)
    names = tuple(str(c.name) for c in columns)
    required = tuple(str(c.name) for c in columns if getattr(c, "required", True))
    return names, required


def describe(model: Any) -> ModelFacts:
    """The task and features ``model`` declares: a scikit-learn estimator, any predictor, or
    an MLflow pyfunc model (its signature, and the object it wraps)."""
    inner = _unwrap(model)
    names = getattr(inner, "feature_names_in_", None)
    if names is not None:
        features = tuple(str(n) for n in names)
        return ModelFacts(task=_task(inner), features=features, required=features)
    columns = _signature_columns(model)
    if columns is not None:
        return ModelFacts(task=_task(inner), features=columns[0], required=columns[1])
    return ModelFacts(task=_task(inner), features=None)


def check_fits(name: str, facts: ModelFacts, settings: ModelSettings) -> None:
    """Raise :class:`ModelMismatchError` when ``facts`` contradict ``[models.NAME]``: another
    task, configured features the model does not take, or required inputs that are not
    configured (identifier and timestamp columns count as configured)."""
    section = f"[models.{name}]"
    if settings.task and facts.task and settings.task != facts.task:
        raise ModelMismatchError(
            f"model {name!r} is a {facts.task} model but {section} task = "
            f"{settings.task!r}; register a {settings.task} model, or fix task in "
            "lifecycle.toml")
    if not settings.features or facts.features is None:
        return
    configured = set(settings.features)
    missing = sorted(configured - set(facts.features))
    extra = sorted(set(facts.required) - configured - settings.not_features)
    problems = []
    if missing:
        problems.append(f"{section} features lists {', '.join(missing)}, which the model does "
                        "not take")
    if extra:
        problems.append(f"the model needs {', '.join(extra)}, which {section} features does "
                        "not list")
    if problems:
        raise ModelMismatchError(
            f"model {name!r} does not match lifecycle.toml: {'; '.join(problems)}; register "
            "the model trained on the configured features, or fix features in lifecycle.toml")


__all__ = ["CLASSIFICATION", "REGRESSION", "ModelFacts", "check_fits", "describe"]

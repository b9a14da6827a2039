"""What can be logged as a model, and what it needs installed (no mlflow import here: the
in-memory registry and the ``register`` command use it too)."""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from typing import Any

from lifecycle.errors import TrainerError

#: Distributions pinned in every logged model's requirements (MLflow adds its own pin).
#: Explicit because MLflow's requirement inference costs about 3 s per logged model.
PINNED_DISTRIBUTIONS = ("scikit-learn", "cloudpickle", "numpy", "pandas", "scipy")


def is_sklearn_model(model: Any) -> bool:
    """A scikit-learn estimator (a ``BaseEstimator``, or duck-typed: ``fit`` and ``predict``):
    logged with MLflow's sklearn flavour."""
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        BaseEstimator = ()  # type: ignore[assignment,misc]  # noqa: N806
    if isinstance(model, BaseEstimator):
        return True
    return callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))


def require_predict(model: Any) -> None:
    """Raise :class:`TrainerError` unless ``model`` has a callable ``predict``."""
    if not callable(getattr(model, "predict", None)):
        raise TrainerError(
            f"cannot log a {type(model).__module__}.{type(model).__qualname__} as a model: it "
            "has no predict() method; return a fitted scikit-learn estimator or any object "
            "with predict(DataFrame) from the trainer")


@lru_cache(maxsize=1)
def default_pip_requirements() -> tuple[str, ...]:
    """``name==version`` of the :data:`PINNED_DISTRIBUTIONS` installed here."""
    pins = []
    for name in PINNED_DISTRIBUTIONS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return tuple(pins)


__all__ = ["PINNED_DISTRIBUTIONS", "default_pip_requirements", "is_sklearn_model",
           "require_predict"]

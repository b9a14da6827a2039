"""The trainer contract: the user's training code, imported, checked and called.

``[models.NAME.retrain] trainer = "package.module:function"`` names a function::

    def train(train: pandas.DataFrame, target: str, params: dict) -> fitted model

``train`` holds the feature columns and the target column named ``target``; ``params`` is a
copy of ``[models.NAME.retrain.params]``. It returns a fitted model: an object with a
``predict`` method (a scikit-learn estimator or pipeline, or anything MLflow's pyfunc can log).
An optional ``data_loader = "module:function"`` with signature ``(params: dict) ->
pandas.DataFrame`` returns extra training rows (features + target), e.g. the original
training set; they are only ever trained on, never held out.

Both are imported and their signatures checked at start (:func:`check_trainers`, used by
``lifecycle retrain --check`` and the scheduler), so a typo fails then, not at 3 a.m.
An exception raised *inside* the user's function propagates unchanged (the retrain records
it with its traceback); what the function returns is checked here and refused with
:class:`~lifecycle.errors.TrainerError`.
"""

from __future__ import annotations

import copy
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lifecycle.config import RetrainSettings, Settings
from lifecycle.errors import TrainerError
from lifecycle.training.imports import import_path

__all__ = ["LOADER_SIGNATURE", "TRAINER_SIGNATURE", "Trainer", "TrainerCheck",
           "check_trainers", "extra_rows_frame", "fit", "load_extra_rows", "load_trainer"]

TRAINER_SIGNATURE = "(train: pandas.DataFrame, target: str, params: dict) -> fitted model"
LOADER_SIGNATURE = "(params: dict) -> pandas.DataFrame"


@dataclass(frozen=True)
class Trainer:
    """A model's trainer and optional data loader, imported and signature-checked."""

    path: str
    function: Callable[..., Any]
    loader_path: str | None = None
    loader: Callable[..., Any] | None = None


@dataclass(frozen=True)
class TrainerCheck:
    """Whether one model's trainer (and loader) can be used; ``message`` says why not."""

    model: str
    ok: bool
    message: str


def _where(model: str, key: str, path: str) -> str:
    return f"[models.{model}.retrain] {key} = {path!r}"


def _import(model: str, key: str, path: str, n_args: int, signature: str) -> Callable[..., Any]:
    where = _where(model, key, path)
    try:
        fn = import_path(path)
    except ImportError as exc:
        raise TrainerError(
            f"{where} cannot be imported: {exc}. Fix the path, or make the module importable: "
            "run lifecycle from your project's root folder (the working directory is "
            "importable), or install your package in the same environment "
            "(pip install -e .)"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - the module itself failed while importing
        raise TrainerError(
            f"{where} cannot be imported: importing its module raised "
            f"{type(exc).__name__}: {exc}. Fix the module so that it imports cleanly"
        ) from exc
    try:
        found = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or C callable without a signature: trust it
        return fn
    try:
        found.bind(*([None] * n_args))
    except TypeError as exc:
        name = getattr(fn, "__name__", path.rpartition(":")[2])
        raise TrainerError(
            f"{where} has the signature {name}{found}, which cannot be called with "
            f"{n_args} positional argument(s) ({exc}); define it as "
            f"def {name}{signature}"
        ) from None
    return fn


def load_trainer(model: str, rs: RetrainSettings) -> Trainer:
    """Import ``model``'s trainer and data loader and check their signatures.

    Raises
    ------
    TrainerError
        No trainer configured; a module that cannot be imported (missing, or raising while
        it imports); a missing or non-callable attribute; a signature that cannot take
        ``(train, target, params)`` (trainer) or ``(params)`` (loader). The message names the
        key, the value, the underlying error and the fix.
    """
    if rs.trainer is None:
        raise TrainerError(
            f"model {model!r} has no trainer: set [models.{model}.retrain] trainer = "
            f"'package.module:function', a function {TRAINER_SIGNATURE} "
            "(see docs/retraining.md)"
        )
    function = _import(model, "trainer", rs.trainer, 3, TRAINER_SIGNATURE)
    loader = None
    if rs.data_loader is not None:
        loader = _import(model, "data_loader", rs.data_loader, 1, LOADER_SIGNATURE)
    return Trainer(path=rs.trainer, function=function, loader_path=rs.data_loader,
                   loader=loader)


def check_trainers(settings: Settings, models: Iterable[str] | None = None,
                   ) -> tuple[TrainerCheck, ...]:
    """Import and check the trainers of ``models`` (default: every configured model that
    names a trainer), for ``lifecycle retrain --check`` and the scheduler's start.

    A model named explicitly without a trainer is reported as not ok. Never raises for a
    bad trainer: each model gets its own verdict.
    """
    names = (sorted(n for n, ms in settings.models.items() if ms.retrain.trainer is not None)
             if models is None else list(models))
    checks = []
    for name in names:
        rs = settings.model(name).retrain
        try:
            trainer = load_trainer(name, rs)
        except TrainerError as exc:
            checks.append(TrainerCheck(name, False, str(exc)))
            continue
        what = (f"trainer {trainer.path!r} and data_loader {trainer.loader_path!r} import and "
                "take" if trainer.loader_path else f"trainer {trainer.path!r} imports and takes")
        checks.append(TrainerCheck(name, True, f"{what} the contract's arguments"))
    return tuple(checks)


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy: the user's function may change its params without touching settings."""
    return copy.deepcopy(dict(params))


def _check_fitted(path: str, model: Any) -> None:
    """A scikit-learn estimator must be fitted. sklearn is only consulted when already
    imported: an estimator's class imports it, so any other model costs nothing."""
    base = sys.modules.get("sklearn.base")
    if base is None or not isinstance(model, base.BaseEstimator):
        return
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise TrainerError(
            f"trainer {path!r} returned an unfitted {type(model).__name__} ({exc}); call "
            "fit(...) on it inside the trainer and return the fitted estimator"
        ) from None


def fit(trainer: Trainer, train: pd.DataFrame, target: str,
        params: Mapping[str, Any]) -> object:
    """Call the trainer and check what it returns.

    The trainer gets a shallow copy of ``train`` (adding or dropping columns does not change
    the caller's frame; pandas' copy-on-write protects the values) and a deep copy of
    ``params``. An exception raised by the trainer propagates unchanged.

    Raises
    ------
    TrainerError
        The trainer returned None, an object without a callable ``predict``, or an unfitted
        scikit-learn estimator.
    """
    model = trainer.function(train.copy(deep=False), target, _params(params))
    if model is None:
        raise TrainerError(
            f"trainer {trainer.path!r} returned None; return the fitted model "
            f"(a function {TRAINER_SIGNATURE})"
        )
    if not callable(getattr(model, "predict", None)):
        raise TrainerError(
            f"trainer {trainer.path!r} returned a {type(model).__name__}, which has no "
            "predict method; return the fitted model (e.g. a scikit-learn estimator or "
            "pipeline), not its predictions or scores"
        )
    _check_fitted(trainer.path, model)
    return model


def extra_rows_frame(frame: Any, target: str, features: Sequence[str] | None,
                     source: str) -> pd.DataFrame:
    """``frame`` reduced to ``features`` + ``target`` (in that order) with a fresh index.

    With ``features=None`` only the target is required and every column is kept.

    Raises
    ------
    TrainerError
        Not a DataFrame, no rows, or missing columns (named).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TrainerError(f"{source} returned a {type(frame).__name__}; return a pandas "
                           "DataFrame with the feature columns and the target column")
    wanted = [*(features or ()), target]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise TrainerError(
            f"{source} returned rows without the column(s) {missing}; return the model's "
            f"feature columns and the target column {target!r} "
            "([models.NAME.retrain] target names it)"
        )
    if frame.empty:
        raise TrainerError(f"{source} returned no rows; return at least one training row, "
                           "or remove data_loader")
    out = frame[wanted] if features is not None else frame
    return out.reset_index(drop=True)


def load_extra_rows(trainer: Trainer, params: Mapping[str, Any], target: str,
                    features: Sequence[str] | None = None) -> pd.DataFrame | None:
    """The data loader's rows (None without a loader), checked by :func:`extra_rows_frame`.

    ``features`` are the model's configured features; pass None when they are inferred
    from the log (the training window checks the rows against the features it finds). An
    exception raised by the loader propagates unchanged.
    """
    if trainer.loader is None:
        return None
    frame = trainer.loader(_params(params))
    return extra_rows_frame(frame, target, features, f"data_loader {trainer.loader_path!r}")

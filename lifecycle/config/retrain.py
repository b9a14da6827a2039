"""``[models.NAME.retrain]``: how lifecycle retrains a model (docs/retraining.md).

TOML, every key optional::

    [models.churn.retrain]
    trainer = "churn.training:train"          # (train, target, params) -> fitted model
    data_loader = "churn.training:load_rows"  # (params) -> DataFrame of extra training rows
    window = "30d"                            # or "since_drift"
    fallback_window = "30d"                   # with "since_drift", when no alert triggered it
    min_rows = 500                            # labelled logged rows needed after de-dup
    holdout = "20%"                           # newest rows by prediction time (or 0.2)
    target = "label"                          # name of the target column the trainer sees
    [models.churn.retrain.params]             # passed to the trainer and the loader
    max_iter = 200

Whether ``trainer`` and ``data_loader`` import and have the right signature is checked where
they are used (``lifecycle retrain --check``, the scheduler's start), by
:func:`lifecycle.training.trainer.check_trainers`; here only their shape is checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from lifecycle.config.section import Section, import_path_setting
from lifecycle.errors import ConfigError
from lifecycle.windows import format_duration

__all__ = ["SINCE_DRIFT", "RetrainSettings"]

#: ``window = "since_drift"``: the window starts where the triggering alert's drift began.
SINCE_DRIFT = "since_drift"
#: Fewest labelled rows ``min_rows`` may ask for: below it a holdout says nothing.
MIN_ROWS_FLOOR = 10
#: Largest holdout fraction: more would train the model on the smaller part.
MAX_HOLDOUT = 0.5

_KEYS = {"trainer", "data_loader", "window", "fallback_window", "min_rows", "holdout",
         "target", "params"}
_PERCENT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_DEFAULT_WINDOW = timedelta(days=30)


def _empty_params() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class RetrainSettings:
    """Per-model retraining settings (owned by :mod:`lifecycle.training` and the retrain job).

    ``window`` is the length of the training window ending at the retrain's ``until``. With
    ``window = "since_drift"`` (``since_drift`` true) the window starts where the triggering
    alert's drift began, and ``window`` equals ``fallback_window``, used when there is no
    triggering alert; :meth:`start` applies the rule.
    """

    trainer: str | None = None
    data_loader: str | None = None
    window: timedelta = _DEFAULT_WINDOW
    since_drift: bool = False
    fallback_window: timedelta = _DEFAULT_WINDOW
    min_rows: int = 500
    holdout: float = 0.2
    target: str = "label"
    #: read-only; pass ``dict(params)`` (a copy) to user code
    params: Mapping[str, Any] = field(default_factory=_empty_params)

    @property
    def window_text(self) -> str:
        """The window as written in ``lifecycle.toml``: ``"30d"`` or ``"since_drift"``."""
        return SINCE_DRIFT if self.since_drift else format_duration(self.window)

    def start(self, until: datetime, drift_began: datetime | None = None) -> datetime:
        """Where the training window ending at ``until`` starts.

        ``drift_began`` is when the triggering alert's drift began (None: no triggering
        alert). It is used only with ``window = "since_drift"``, and only when it is before
        ``until``; otherwise the window is ``fallback_window`` (``window``) long.
        """
        if self.since_drift and drift_began is not None and drift_began < until:
            return drift_began
        return until - self.window

    @classmethod
    def parse(cls, data: Any, prefix: str) -> RetrainSettings:
        s = Section(data, prefix, _KEYS)
        trainer, loader = s.get("trainer"), s.get("data_loader")
        since_drift = s.get("window") == SINCE_DRIFT
        if "fallback_window" in s.data and not since_drift:
            raise ConfigError(
                f"{s.key('fallback_window')} only applies with {s.key('window')} = "
                f"'{SINCE_DRIFT}'; remove it, or set window = '{SINCE_DRIFT}'"
            )
        fallback = _positive_duration(s, "fallback_window", _DEFAULT_WINDOW)
        window = fallback if since_drift else _positive_duration(s, "window", _DEFAULT_WINDOW)
        return cls(
            trainer=None if trainer is None else import_path_setting(trainer, s.key("trainer")),
            data_loader=None if loader is None
            else import_path_setting(loader, s.key("data_loader")),
            window=window,
            since_drift=since_drift,
            fallback_window=fallback,
            min_rows=s.integer("min_rows", cls.min_rows, minimum=MIN_ROWS_FLOOR),
            holdout=_holdout(s),
            target=_target(s),
            params=_params(s),
        )


def _positive_duration(s: Section, name: str, default: timedelta) -> timedelta:
    try:
        value = s.duration(name, default)
    except ConfigError as exc:
        if name == "window":
            raise ConfigError(f"{exc}; or window = '{SINCE_DRIFT}' to start where the "
                              "drift that triggered the retrain began") from None
        raise
    if value is None or value <= timedelta(0):
        raise ConfigError(f"{s.key(name)} = {s.get(name)!r} must be longer than zero, "
                          "e.g. '30d'")
    return value


def _holdout(s: Section) -> float:
    value = s.get("holdout", RetrainSettings.holdout)
    key, fix = s.key("holdout"), "e.g. holdout = '20%' or holdout = 0.2"
    if isinstance(value, str):
        match = _PERCENT_RE.match(value)
        if not match:
            raise ConfigError(f"{key} = {value!r} is not a percentage or a fraction; {fix}")
        fraction = float(match.group(1)) / 100
    elif isinstance(value, int | float) and not isinstance(value, bool):
        fraction = float(value)
    else:
        raise ConfigError(f"{key} must be a percentage or a fraction, got {value!r}; {fix}")
    if not 0 < fraction <= MAX_HOLDOUT:
        raise ConfigError(
            f"{key} = {value!r} is out of range: the newest share of rows held out must be "
            f"more than 0 and at most {MAX_HOLDOUT:g} (50%); {fix}"
        )
    return fraction


def _target(s: Section) -> str:
    target = s.str_("target", RetrainSettings.target) or RetrainSettings.target
    if target != target.strip():
        raise ConfigError(f"{s.key('target')} = {target!r} has leading or trailing spaces; "
                          "remove them")
    return target


def _params(s: Section) -> Mapping[str, Any]:
    value = s.get("params", {})
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{s.key('params')} must be a table, e.g. [{s.key('params')}] with "
            f"max_iter = 200, got {value!r}"
        )
    return MappingProxyType(dict(value))

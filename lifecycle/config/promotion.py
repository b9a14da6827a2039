"""Per-model shadow and promotion sections of ``lifecycle.toml``: ``[models.NAME.shadow]`` (the
promotion gate's policy, :class:`lifecycle.evaluation.ShadowPolicy`; docs/evaluation.md) and
``[models.NAME.promotion]`` (what the shadow job does with a decision; docs/promotion.md).
Re-exported by :mod:`lifecycle.config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifecycle.config.section import Section
from lifecycle.errors import ConfigError
from lifecycle.evaluation.policy import ShadowPolicy
from lifecycle.windows import parse_duration

__all__ = ["PromotionSettings", "ShadowSettings"]

#: key -> how it is read ("number", "integer", "boolean", "string", "duration"): every field
#: of ShadowPolicy, under its own name.
_SHADOW_KEYS: dict[str, str] = {
    "metric": "string",
    "alpha": "number",
    "min_effect": "number",
    "noninferiority_margin": "number",
    "noninferiority_when_degraded": "boolean",
    "min_pairs": "integer",
    "max_pairs": "integer",
    "spending": "string",
    "max_duration": "duration",
    "latency_ratio": "number",
    "error_rate_tolerance": "number",
    "n_boot": "integer",
    "seed": "integer",
    "power": "number",
}


def _read(s: Section, key: str, kind: str) -> Any:
    if kind == "number":
        return s.number(key, 0.0)
    if kind == "integer":
        return s.integer(key, 0)
    if kind == "boolean":
        return s.boolean(key, False)
    if kind == "string":
        return s.str_(key)
    value = s.get(key)
    if value is False:  # max_duration = false: no time limit
        return None
    try:
        return parse_duration(value, key=s.key(key))
    except ValueError as exc:
        raise ConfigError(f"{exc}; or false for no limit") from None


@dataclass(frozen=True)
class ShadowSettings:
    """``[models.NAME.shadow]``: overrides of the promotion gate's defaults.

    TOML, all keys optional (defaults and reasons: docs/evaluation.md)::

        [models.churn.shadow]
        metric = "roc_auc"           # accuracy | f1 | f1_macro | roc_auc | log_loss | mae | rmse
        alpha = 0.05                 # one-sided, spent over the looks
        spending = "obrien_fleming"  # or "pocock"
        min_pairs = 200
        max_pairs = 20000
        max_duration = "14d"         # false: no time limit
        latency_ratio = 1.5
        error_rate_tolerance = 0.01
    """

    overrides: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> ShadowSettings:
        s = Section(data, prefix, set(_SHADOW_KEYS))
        values = {key: _read(s, key, _SHADOW_KEYS[key]) for key in s.data}
        settings = cls(overrides=values)
        if values:  # ShadowPolicy validates ranges; a bad value fails at start, naming the key
            try:
                settings.to_policy()
            except ConfigError as exc:
                raise ConfigError(f"{prefix}: {exc}") from None
        return settings

    def to_policy(self) -> ShadowPolicy:
        """The :class:`lifecycle.evaluation.ShadowPolicy` these settings describe (its module
        imports no numpy or scipy: every command validates settings at start)."""
        return ShadowPolicy(**self.overrides)


@dataclass(frozen=True)
class PromotionSettings:
    """``[models.NAME.promotion]``: what the scheduled shadow evaluation does with a decision.

    ``auto`` (true): on PROMOTE, move ``champion`` to the challenger (false: record the
    decision; a person runs ``lifecycle promote``). ``reject`` (true): on REJECT, remove the
    ``challenger`` alias and tag the version ``lifecycle.status = rejected`` (false: the
    decision is recorded and the challenger keeps shadowing until someone acts).
    """

    auto: bool = True
    reject: bool = True

    @classmethod
    def parse(cls, data: Any, prefix: str) -> PromotionSettings:
        s = Section(data, prefix, {"auto", "reject"})
        return cls(auto=s.boolean("auto", cls.auto), reject=s.boolean("reject", cls.reject))

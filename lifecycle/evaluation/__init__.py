"""Shadow evaluation: paired champion-vs-challenger tests and the one promotion gate (pure core).

numpy arrays in, frozen dataclasses out; imports only the standard library, numpy, scipy,
:mod:`lifecycle.errors`, :mod:`lifecycle.states` and the pure :mod:`lifecycle.performance`
metrics. Formulas, defaults and references: ``docs/evaluation.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> its module (resolved at first use, PEP 562: importing one light module of
#: the package, e.g. ``policy`` while settings load, does not load numpy and scipy)
_LAZY: dict[str, str] = {
    "BootstrapDelta": "bootstrap", "paired_bootstrap": "bootstrap",
    "PairedComparison": "comparison", "compare_paired": "comparison",
    "Look": "gate", "ShadowDecision": "gate", "decide": "gate", "evaluate_shadow": "gate",
    "look_at": "gate",
    "GuardrailResult": "guardrails", "check_guardrails": "guardrails",
    "McNemarResult": "mcnemar", "mcnemar_exact": "mcnemar", "mcnemar_from_counts": "mcnemar",
    "PairedSample": "paired", "paired_sample": "paired",
    "ServingStats": "policy", "ShadowPolicy": "policy",
    "SPENDING_FUNCTIONS": "spending", "nominal_alphas": "spending",
    "obrien_fleming_spending": "spending", "pocock_spending": "spending",
    "WilcoxonResult": "wilcoxon", "wilcoxon_signed_rank": "wilcoxon",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lifecycle.evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lifecycle.evaluation.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "SPENDING_FUNCTIONS",
    "BootstrapDelta",
    "GuardrailResult",
    "Look",
    "McNemarResult",
    "PairedComparison",
    "PairedSample",
    "ServingStats",
    "ShadowDecision",
    "ShadowPolicy",
    "WilcoxonResult",
    "check_guardrails",
    "compare_paired",
    "decide",
    "evaluate_shadow",
    "look_at",
    "mcnemar_exact",
    "mcnemar_from_counts",
    "nominal_alphas",
    "obrien_fleming_spending",
    "paired_bootstrap",
    "paired_sample",
    "pocock_spending",
    "wilcoxon_signed_rank",
]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

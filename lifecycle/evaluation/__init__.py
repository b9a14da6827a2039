"""Shadow evaluation: paired champion-vs-challenger tests and the one promotion gate (pure core).

numpy arrays in, frozen dataclasses out; imports only the standard library, numpy, scipy,
:mod:`lifecycle.errors`, :mod:`lifecycle.states` and the pure :mod:`lifecycle.performance`
metrics. Formulas, defaults and references: ``docs/evaluation.md``.
"""

from __future__ import annotations

from lifecycle.evaluation.bootstrap import BootstrapDelta, paired_bootstrap
from lifecycle.evaluation.comparison import PairedComparison, compare_paired
from lifecycle.evaluation.gate import Look, ShadowDecision, decide, evaluate_shadow, look_at
from lifecycle.evaluation.guardrails import GuardrailResult, check_guardrails
from lifecycle.evaluation.mcnemar import McNemarResult, mcnemar_exact, mcnemar_from_counts
from lifecycle.evaluation.paired import PairedSample, paired_sample
from lifecycle.evaluation.policy import ServingStats, ShadowPolicy
from lifecycle.evaluation.spending import (
    SPENDING_FUNCTIONS,
    nominal_alphas,
    obrien_fleming_spending,
    pocock_spending,
)
from lifecycle.evaluation.wilcoxon import WilcoxonResult, wilcoxon_signed_rank

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

"""The one promotion gate: PROMOTE, REJECT or CONTINUE a challenger (pure core).

Decision table, first matching row wins (``alpha_k`` is this look's nominal level from
:mod:`lifecycle.evaluation.spending`; ``gain`` is the metric delta oriented so that positive
means the challenger is better; a *final* look is one at or past ``max_pairs`` or
``max_duration``):

1. a guardrail is broken (latency p95, error rate)            -> REJECT
2. fewer than ``min_pairs`` labelled pairs                     -> CONTINUE (REJECT if final)
3. ``p_better < alpha_k`` and ``gain > 0`` and
   ``gain >= min_effect``                                      -> PROMOTE (superior)
4. ``p_worse < alpha_k``                                       -> REJECT (significantly worse)
5. champion flagged degraded, policy allows it, and the
   non-inferiority p-value ``< alpha_k``                       -> PROMOTE (non-inferior)
6. final look                                                  -> REJECT (no decision in time)
7. otherwise                                                   -> CONTINUE, with an estimate of
                                                                  the pairs still needed
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache
from typing import Any

from lifecycle.errors import DataError
from lifecycle.evaluation import sample_size as ss
from lifecycle.evaluation.comparison import PairedComparison, compare_paired
from lifecycle.evaluation.guardrails import MIN_PAIRS, GuardrailResult, check_guardrails
from lifecycle.evaluation.paired import PairedSample
from lifecycle.evaluation.policy import ServingStats, ShadowPolicy
from lifecycle.evaluation.spending import nominal_alphas
from lifecycle.states import CONTINUE, PROMOTE, REJECT

__all__ = ["Look", "ShadowDecision", "decide", "evaluate_shadow", "look_at"]


@dataclass(frozen=True)
class Look:
    """Where this evaluation sits in the sequential design."""

    index: int
    information_fraction: float
    nominal_alpha: float
    final: bool


@dataclass(frozen=True)
class ShadowDecision:
    """The gate's decision and every number behind it.

    ``p_value`` is the one the decision rests on: ``p_worse`` for a significant harm, the
    non-inferiority p-value for a non-inferior promotion, ``p_better`` otherwise.
    ``nominal_alpha`` and ``look`` are None when no test ran (too few pairs, or a guardrail
    rejected first); only evaluations with a ``nominal_alpha`` count as looks for later ones.
    ``pairs_needed`` (CONTINUE only) estimates how many more labelled pairs a decision likely
    needs; None when the observed effect points away from promotion.
    """

    decision: str
    reason: str
    metric: str | None
    n_pairs: int
    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_better: float | None = None
    p_worse: float | None = None
    p_noninferior: float | None = None
    champion_value: float | None = None
    challenger_value: float | None = None
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    nominal_alpha: float | None = None
    look: int | None = None
    information_fraction: float | None = None
    final: bool = False
    noninferiority: bool = False
    guardrails: tuple[GuardrailResult, ...] = ()
    pairs_needed: int | None = None

    def record(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN and infinities become None) for storage and tags."""
        return _clean(dataclasses.asdict(self))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def look_at(
    n_pairs: int, looks: Sequence[int], policy: ShadowPolicy, *, final: bool = False
) -> Look:
    """This look's index, information fraction and nominal level, given the earlier looks.

    ``looks`` are the ``n_pairs`` of earlier evaluations of this challenger that ran a test.
    A look at the same ``n_pairs`` as an earlier one repeats it (same data: same level). A
    final look spends all remaining alpha (its fraction is set to 1, as Lan–DeMets allow for
    the last analysis).
    """
    earlier = sorted({int(x) for x in looks})
    if earlier and earlier[-1] >= policy.max_pairs:
        raise DataError(
            f"an earlier look already had {earlier[-1]} pairs, at or past max_pairs "
            f"({policy.max_pairs}): that look was final; start a new evaluation with a new "
            "challenger"
        )
    if earlier and earlier[-1] > n_pairs:
        raise DataError(
            f"an earlier look had {earlier[-1]} pairs but this one has {n_pairs}; pass only "
            "the looks of this challenger, whose labelled pairs only accumulate"
        )
    counts = [x for x in earlier if x < n_pairs] + [n_pairs]
    final = final or n_pairs >= policy.max_pairs
    fractions = [x / policy.max_pairs for x in counts]
    if final:
        fractions[-1] = 1.0
    levels = _levels(tuple(fractions), policy.alpha, policy.spending)
    return Look(len(counts), fractions[-1], levels[-1], final)


@lru_cache(maxsize=256)
def _levels(fractions: tuple[float, ...], alpha: float, spending: str) -> tuple[float, ...]:
    """Memoised :func:`nominal_alphas`: successive looks of one challenger share a prefix."""
    return nominal_alphas(fractions, alpha, spending)


def _pairs_needed(
    comparison: PairedComparison, policy: ShadowPolicy, margin: float | None
) -> int | None:
    n, boot = comparison.n, comparison.bootstrap
    alpha, power = policy.alpha, policy.power
    required: list[float | None] = []
    if comparison.mcnemar is not None and comparison.metric == "accuracy":
        mc = comparison.mcnemar
        required.append(ss.mcnemar_pairs(mc.discordant / n, mc.difference, alpha, power))
    elif comparison.wilcoxon is not None and comparison.metric in ("mae", "rmse"):
        w = comparison.wilcoxon
        required.append(ss.wilcoxon_pairs(w.mean_difference, w.sd_difference, alpha, power))
    else:
        required.append(ss.pairs_from_standard_error(n, boot.gain, boot.se, alpha, power))
    if margin is not None:
        required.append(ss.pairs_from_standard_error(n, boot.gain + margin, boot.se, alpha,
                                                     power))
    finite = [r for r in required if r is not None]
    return ss.additional_pairs(min(finite), n) if finite else None


def _fmt(x: float) -> str:
    return f"{x:+.4g}" if math.isfinite(x) else "n/a"


def decide(
    comparison: PairedComparison | None,
    guardrails: Sequence[GuardrailResult],
    policy: ShadowPolicy,
    *,
    n_pairs: int,
    looks: Sequence[int] = (),
    champion_degraded: bool = False,
    elapsed: timedelta | None = None,
) -> ShadowDecision:
    """Apply the decision table to precomputed statistics and guardrails.

    ``comparison`` may be None only when ``n_pairs`` is below ``policy.min_pairs``.
    """
    timed_out = (policy.max_duration is not None and elapsed is not None
                 and elapsed >= policy.max_duration)
    base = ShadowDecision(CONTINUE, "", comparison.metric if comparison else policy.metric,
                          n_pairs, guardrails=tuple(guardrails))
    broken = [g for g in guardrails if g.passed is False and g.name != MIN_PAIRS]
    if broken:
        why = "; ".join(f"{g.name}: {g.detail}" for g in broken)
        return replace(base, decision=REJECT, reason=f"guardrail broken: {why}")
    if n_pairs < policy.min_pairs or comparison is None:
        if timed_out:
            return replace(
                base, decision=REJECT, final=True,
                reason=f"no decision within max_duration ({policy.max_duration}): only "
                f"{n_pairs} labelled pairs, fewer than min_pairs ({policy.min_pairs})")
        return replace(
            base, pairs_needed=policy.min_pairs - n_pairs,
            reason=f"{n_pairs} labelled pairs, fewer than min_pairs ({policy.min_pairs}); "
            "no test runs before that")

    look = look_at(n_pairs, looks, policy, final=timed_out)
    boot = comparison.bootstrap
    gain, a_k = boot.gain, look.nominal_alpha
    min_effect = policy.scaled(policy.min_effect, comparison.metric, boot.champion)
    margin = policy.scaled(policy.noninferiority_margin, comparison.metric, boot.champion)
    ni_allowed = champion_degraded and policy.noninferiority_when_degraded
    p_ni = boot.z_test(margin)[0] if ni_allowed else None
    tested = replace(
        base, test=comparison.test, statistic=comparison.statistic,
        p_value=comparison.p_better, p_better=comparison.p_better,
        p_worse=comparison.p_worse, p_noninferior=p_ni, champion_value=boot.champion,
        challenger_value=boot.challenger, delta=boot.delta, ci_low=boot.ci_low,
        ci_high=boot.ci_high, confidence=boot.confidence, nominal_alpha=a_k, look=look.index,
        information_fraction=look.information_fraction, final=look.final,
    )
    where = (f"{comparison.metric} {boot.champion:.4g} -> {boot.challenger:.4g} (delta "
             f"{_fmt(boot.delta)}, {boot.confidence:.0%} CI {_fmt(boot.ci_low)} to "
             f"{_fmt(boot.ci_high)}); {comparison.test}; look {look.index} at t = "
             f"{look.information_fraction:.3f}, nominal alpha {a_k:.3g}")
    if comparison.p_better < a_k and gain > 0 and gain >= min_effect:
        return replace(
            tested, decision=PROMOTE,
            reason=f"challenger better: p = {comparison.p_better:.3g} < {a_k:.3g}; {where}")
    if comparison.p_worse < a_k:
        return replace(
            tested, decision=REJECT, p_value=comparison.p_worse,
            reason=f"challenger worse: p = {comparison.p_worse:.3g} < {a_k:.3g}; {where}")
    if p_ni is not None and p_ni < a_k:
        return replace(
            tested, decision=PROMOTE, p_value=p_ni, noninferiority=True,
            reason=f"champion degraded and challenger not worse by more than {margin:.4g}: "
            f"non-inferiority p = {p_ni:.3g} < {a_k:.3g}; {where}")
    if comparison.p_better < a_k:
        short = (f"significant but the gain {_fmt(gain)} is below min_effect "
                 f"{min_effect:.4g}")
    else:
        short = f"not significant: p = {comparison.p_better:.3g} >= {a_k:.3g}"
    if look.final:
        limit = (f"max_pairs ({policy.max_pairs})" if n_pairs >= policy.max_pairs
                 else f"max_duration ({policy.max_duration})")
        return replace(tested, decision=REJECT,
                       reason=f"no decision by {limit}: {short}; {where}")
    needed = _pairs_needed(comparison, policy, margin if ni_allowed else None)
    if needed is None:
        estimate = "the observed effect does not favour the challenger"
    else:
        estimate = f"about {needed} more labelled pairs likely needed"
        if n_pairs + needed > policy.max_pairs:
            estimate += f", beyond max_pairs ({policy.max_pairs})"
    return replace(tested, pairs_needed=needed, reason=f"{short}; {estimate}; {where}")


def evaluate_shadow(
    sample: PairedSample,
    policy: ShadowPolicy | None = None,
    *,
    stats: ServingStats | None = None,
    looks: Sequence[int] = (),
    champion_degraded: bool = False,
    elapsed: timedelta | None = None,
) -> ShadowDecision:
    """Compare champion and challenger on ``sample`` and decide.

    Parameters
    ----------
    sample
        The labelled requests both models answered.
    policy
        Thresholds and defaults (:class:`ShadowPolicy`).
    stats
        Serving counters for the guardrails (requests, failures, p95 latencies).
    looks
        ``n_pairs`` of this challenger's earlier evaluations that ran a test.
    champion_degraded
        Whether the performance check flags the champion as degraded.
    elapsed
        How long the challenger has been shadowing.

    Examples
    --------
    >>> from lifecycle.evaluation.paired import paired_sample
    >>> s = paired_sample("classification", [1] * 300, [1] * 240 + [0] * 60,
    ...                   [1] * 285 + [0] * 15)
    >>> d = evaluate_shadow(s, ShadowPolicy(max_pairs=1000, n_boot=200))
    >>> d.decision, d.look, d.information_fraction, f"{d.nominal_alpha:.1e}"
    ('promote', 1, 0.3, '3.5e-04')
    """
    policy = policy or ShadowPolicy()
    guardrails = check_guardrails(sample, policy, stats)
    comparison = None
    broken = any(g.passed is False and g.name != MIN_PAIRS for g in guardrails)
    if sample.n >= policy.min_pairs and not broken:
        comparison = compare_paired(
            sample, policy.metric, n_boot=policy.n_boot,
            confidence=1.0 - 2.0 * policy.alpha, seed=policy.seed,
        )
    return decide(comparison, guardrails, policy, n_pairs=sample.n, looks=looks,
                  champion_degraded=champion_degraded, elapsed=elapsed)

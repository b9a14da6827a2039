"""Guardrails: conditions a challenger must meet whatever its accuracy (pure core).

* ``min_pairs``: at least ``policy.min_pairs`` labelled pairs before any test runs. Not met
  means *wait* (CONTINUE), never reject.
* ``latency_p95``: challenger p95 <= ``latency_ratio`` x champion p95. Read from
  :class:`ServingStats` when it carries both p95s, else from the paired sample's per-request
  latencies (``numpy.percentile``, linear interpolation). Judged once ``min_pairs`` requests
  are behind it.
* ``error_rate``: challenger failures / requests <= champion failures / requests +
  ``error_rate_tolerance``. Judged once the challenger was sent ``min_pairs`` requests, so a
  challenger that fails on every request is rejected without a single labelled pair.

``passed`` is True, False (broken) or None (not judged yet: too few observations or nothing
measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifecycle.evaluation.paired import PairedSample
from lifecycle.evaluation.policy import ServingStats, ShadowPolicy

__all__ = ["ERROR_RATE", "LATENCY_P95", "MIN_PAIRS", "GuardrailResult", "check_guardrails"]

MIN_PAIRS = "min_pairs"
LATENCY_P95 = "latency_p95"
ERROR_RATE = "error_rate"


@dataclass(frozen=True)
class GuardrailResult:
    """One guardrail: what was observed, the limit, and whether it held."""

    name: str
    passed: bool | None
    observed: float | None
    limit: float | None
    detail: str


def _min_pairs(sample: PairedSample, policy: ShadowPolicy) -> GuardrailResult:
    ok = sample.n >= policy.min_pairs
    detail = (
        f"{sample.n} labelled pairs, at least {policy.min_pairs} needed"
        if not ok
        else f"{sample.n} labelled pairs (>= {policy.min_pairs})"
    )
    return GuardrailResult(MIN_PAIRS, ok, float(sample.n), float(policy.min_pairs), detail)


def _latency(
    sample: PairedSample, policy: ShadowPolicy, stats: ServingStats | None
) -> GuardrailResult:
    champ = chall = None
    count = 0
    if stats is not None and None not in (stats.champion_latency_p95,
                                          stats.challenger_latency_p95):
        champ, chall = stats.champion_latency_p95, stats.challenger_latency_p95
        count = min(stats.champion_requests - stats.champion_failures,
                    stats.challenger_requests - stats.challenger_failures)
    elif sample.champion_latency is not None and sample.challenger_latency is not None:
        if sample.n:
            champ = float(np.percentile(sample.champion_latency, 95))
            chall = float(np.percentile(sample.challenger_latency, 95))
        count = sample.n
    if champ is None or chall is None:
        return GuardrailResult(LATENCY_P95, None, None, None, "latency not measured")
    limit = policy.latency_ratio * champ
    if count < policy.min_pairs:
        return GuardrailResult(
            LATENCY_P95, None, chall, limit,
            f"{count} timed requests, fewer than {policy.min_pairs}: not judged yet",
        )
    ok = chall <= limit
    detail = (f"challenger p95 {chall:.1f} ms vs champion {champ:.1f} ms "
              f"(limit {policy.latency_ratio:g}x = {limit:.1f} ms)")
    return GuardrailResult(LATENCY_P95, ok, chall, limit, detail)


def _error_rate(policy: ShadowPolicy, stats: ServingStats | None) -> GuardrailResult:
    if stats is None or stats.challenger_requests == 0:
        return GuardrailResult(ERROR_RATE, None, None, None, "no serving counters")
    chall = stats.challenger_failures / stats.challenger_requests
    champ = (stats.champion_failures / stats.champion_requests
             if stats.champion_requests else 0.0)
    limit = champ + policy.error_rate_tolerance
    if stats.challenger_requests < policy.min_pairs:
        return GuardrailResult(
            ERROR_RATE, None, chall, limit,
            f"{stats.challenger_requests} shadowed requests, fewer than {policy.min_pairs}: "
            "not judged yet",
        )
    ok = chall <= limit
    detail = (f"challenger failed {stats.challenger_failures} of {stats.challenger_requests} "
              f"requests ({chall:.2%}) vs champion {champ:.2%} "
              f"(limit {limit:.2%})")
    return GuardrailResult(ERROR_RATE, ok, chall, limit, detail)


def check_guardrails(
    sample: PairedSample, policy: ShadowPolicy, stats: ServingStats | None = None
) -> tuple[GuardrailResult, ...]:
    """The three guardrails, in a fixed order: min_pairs, latency_p95, error_rate."""
    return (_min_pairs(sample, policy), _latency(sample, policy, stats),
            _error_rate(policy, stats))

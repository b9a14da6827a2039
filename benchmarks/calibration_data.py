"""Shift families for the drift calibration study (numpy + scipy only, shared with the peers'
script, which runs in another virtual environment and imports nothing else of lifecycle).

Every case is one feature: a reference generator, a current generator and the verdict an owner
expects. The sizes of the changes are the promises of docs/drift.md, "Sensitivity":

* ``drift``: a quarter of a reference standard deviation or its equivalent - mean +/-0.25 SD;
  spread x1.25 or x0.75; shape changes whose larger of W1 / reference SD and spread change is
  0.25 (lognormal shape, exponential scale x1.25, Poisson mean +0.25 SD, a normal turned
  skewed at the same mean and SD); 10 points of category mass (one move, or spread over
  four categories); a missing, out-of-range (numeric, or unseen category) or infinite share
  up by 3 points.
* ``warning``: half of each of those.
* ``no_drift``: immaterial changes (mean +0.02 SD, spread x1.02, 0.5 points of category mass)
  and unchanged features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = ["CASES", "Case", "categorical_levels", "w1_over_sd"]

Gen = Callable[[np.random.Generator, int], np.ndarray]

CATS = np.array(["a", "b", "c", "d", "e"])
P_CATS = np.array([0.30, 0.25, 0.20, 0.15, 0.10])
U = (np.arange(20_000) + 0.5) / 20_000  # quantile grid for W1 of two distributions


def w1_over_sd(ref: stats.rv_continuous, cur: stats.rv_continuous) -> float:
    """W1 between two frozen scipy distributions over the reference SD (quantile integral)."""
    return float(np.mean(np.abs(ref.ppf(U) - cur.ppf(U))) / ref.std())


def spread_change(ref: stats.rv_continuous, cur: stats.rv_continuous) -> float:
    """``|G_cur / G_ref - 1|``, ``G = E|X - X'| = 2 * integral Q(u) (2u - 1) du``."""
    w = 2.0 * U - 1.0
    return float(abs(np.mean(cur.ppf(U) * w) / np.mean(ref.ppf(U) * w) - 1.0))


def owner_effect(ref: stats.rv_continuous, cur: stats.rv_continuous) -> float:
    """The numeric effect lifecycle reports: max(W1 / SD, spread change)."""
    return max(w1_over_sd(ref, cur), spread_change(ref, cur))


def _lognormal_sigma(target: float) -> float:
    ref = stats.lognorm(0.5)
    return float(optimize.brentq(lambda s: owner_effect(ref, stats.lognorm(s)) - target,
                                 0.5, 2))


def _gamma_shape(target: float) -> float:
    """Shape ``k`` of a gamma standardised to mean 0, SD 1 at W1 ``target`` from N(0, 1)."""
    ref = stats.norm()

    def f(log_k: float) -> float:
        k = float(np.exp(log_k))
        return owner_effect(ref, stats.gamma(k, loc=-np.sqrt(k), scale=1 / np.sqrt(k))) - target

    return float(np.exp(optimize.brentq(f, np.log(0.05), np.log(1e4))))


def categorical_levels(rng: np.random.Generator, n: int, p: np.ndarray) -> np.ndarray:
    return rng.choice(np.array(list(CATS) + ["new"]), n, p=p)


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    kind: str  # numeric | categorical
    expected: str  # drift | warning | no_drift
    reference: Gen
    current: Gen


def _normal(mu: float = 0.0, sd: float = 1.0) -> Gen:
    return lambda rng, n: rng.normal(mu, sd, n)


def _with_share(base: Gen, share: float, value: float | None) -> Gen:
    """``base`` with ``share`` of rows replaced by ``value`` (None: NaN; 'above': beyond
    the reference support)."""
    def gen(rng: np.random.Generator, n: int) -> np.ndarray:
        x = base(rng, n)
        k = int(round(share * n))
        idx = rng.choice(n, k, replace=False)
        x[idx] = np.nan if value is None else value
        return x
    return gen


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0.0, 1.0, n)


def _beyond(base: Gen, share: float) -> Gen:
    """``base`` (support [0, 1]) with ``share`` of rows moved just above it, to (1, 1.1)."""
    def gen(rng: np.random.Generator, n: int) -> np.ndarray:
        x = base(rng, n)
        idx = rng.choice(n, int(round(share * n)), replace=False)
        x[idx] = rng.uniform(1.0, 1.1, idx.size)
        return x
    return gen


def _cat(p: list[float] | np.ndarray) -> Gen:
    probs = np.asarray(p, dtype=np.float64)
    if probs.size == CATS.size:
        probs = np.append(probs, 0.0)
    return lambda rng, n: categorical_levels(rng, n, probs)


def _moved(points: float, frm: list[int], to: list[int]) -> np.ndarray:
    p = P_CATS.copy()
    for i in frm:
        p[i] -= points / len(frm)
    for i in to:
        p[i] += points / len(to)
    return p


def _unseen(share: float) -> np.ndarray:
    return np.append(P_CATS * (1 - share), share)


def _build() -> list[Case]:
    ln_s = {t: _lognormal_sigma(t) for t in (0.25, 0.125)}
    gk = {t: _gamma_shape(t) for t in (0.25, 0.125)}
    cases: list[Case] = []
    for level, f in (("drift", 1.0), ("warning", 0.5)):
        d = 0.25 * f
        cases += [
            Case(f"mean +{d:g} sd", "mean shift", "numeric", level, _normal(), _normal(d)),
            Case(f"mean -{d:g} sd", "mean shift", "numeric", level, _normal(), _normal(-d)),
            Case(f"spread x{1 + d:g}", "spread", "numeric", level, _normal(),
                 _normal(0, 1 + d)),
            Case(f"spread x{1 - d:g}", "spread", "numeric", level, _normal(),
                 _normal(0, 1 - d)),
            Case(f"lognormal shape 0.5->{ln_s[d]:.3f}", "shape", "numeric", level,
                 lambda rng, n: rng.lognormal(0, 0.5, n),
                 lambda rng, n, s=ln_s[d]: rng.lognormal(0, s, n)),
            Case(f"exponential scale x{1 + d:g}", "shape", "numeric", level,
                 lambda rng, n: rng.exponential(1.0, n),
                 lambda rng, n, d=d: rng.exponential(1 + d, n)),
            Case(f"poisson 4->{4 + 2 * d:g}", "shape", "numeric", level,
                 lambda rng, n: rng.poisson(4.0, n).astype(float),
                 lambda rng, n, d=d: rng.poisson(4.0 + 2 * d, n).astype(float)),
            Case(f"normal->gamma(k={gk[d]:.2f}) same mean, sd", "shape", "numeric", level,
                 _normal(),
                 lambda rng, n, k=gk[d]: (rng.gamma(k, 1.0, n) - k) / np.sqrt(k)),
            Case(f"category mass {40 * d:g} pts a->e", "category mass", "categorical", level,
                 _cat(P_CATS), _cat(_moved(0.4 * d, [0], [4]))),
            Case(f"category mass {40 * d:g} pts ab->cd", "category mass", "categorical",
                 level, _cat(P_CATS), _cat(_moved(0.4 * d, [0, 1], [2, 3]))),
            Case(f"missing 1%->{1 + 12 * d:g}%", "missing share", "numeric", level,
                 _with_share(_normal(), 0.01, None),
                 _with_share(_normal(), 0.01 + 0.12 * d, None)),
            Case(f"out of range {12 * d:g}%", "out-of-range share", "numeric", level,
                 _uniform, _beyond(_uniform, 0.12 * d)),
            Case(f"unseen category {12 * d:g}%", "out-of-range share", "categorical", level,
                 _cat(P_CATS), _cat(_unseen(0.12 * d))),
            Case(f"infinite {12 * d:g}%", "infinite share", "numeric", level,
                 _normal(), _with_share(_normal(), 0.12 * d, np.inf)),
        ]
    cases += [
        Case("mean +0.02 sd", "immaterial", "numeric", "no_drift", _normal(), _normal(0.02)),
        Case("spread x1.02", "immaterial", "numeric", "no_drift", _normal(), _normal(0, 1.02)),
        Case("category mass 0.5 pts a->e", "immaterial", "categorical", "no_drift",
             _cat(P_CATS), _cat(_moved(0.005, [0], [4]))),
        Case("missing 1%->1.2%", "immaterial", "numeric", "no_drift",
             _with_share(_normal(), 0.01, None), _with_share(_normal(), 0.012, None)),
    ]
    stationary: list[tuple[str, str, Gen]] = [
        ("normal", "numeric", _normal()),
        ("normal 1% missing", "numeric", _with_share(_normal(), 0.01, None)),
        ("lognormal", "numeric", lambda rng, n: rng.lognormal(0, 0.5, n)),
        ("exponential", "numeric", lambda rng, n: rng.exponential(1.0, n)),
        ("poisson", "numeric", lambda rng, n: rng.poisson(4.0, n).astype(float)),
        ("uniform", "numeric", _uniform),
        ("categorical 5", "categorical", _cat(P_CATS)),
        ("categorical 20", "categorical",
         lambda rng, n: rng.choice(np.array([f"k{i}" for i in range(20)]), n)),
    ]
    cases += [Case(f"unchanged {name}", "stationary", kind, "no_drift", gen, gen)
              for name, kind, gen in stationary]
    return cases


CASES: tuple[Case, ...] = tuple(_build())

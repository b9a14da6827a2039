"""The latency guardrail's numbers: both versions timed on the same requests, the same way.

Logged latencies cannot be compared across roles: a champion row's latency is the caller's
whole call, a challenger row's is its share of a micro-batch (live shadow) or of a
10,000-row chunk (``shadow_score``), which makes any challenger look fast. So the shadow
evaluation times the two versions itself: the logged inputs of up to :data:`PROBE_ROWS` recent
served requests, one row per call, champion and challenger alternating on each row (same
process, same inputs, same moment, one warm-up call each), in :data:`PASSES` passes, and
compares each version's lowest per-pass p95. When a
version cannot be loaded or its inputs are not in the log as served (redacted or hashed
columns), there is no probe and the guardrail falls back to the logged latencies (the
evaluation records which: ``counts.latency_source``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from lifecycle.config import Settings
from lifecycle.registry.base import Registry, VersionInfo
from lifecycle.states import CHAMPION
from lifecycle.storage.window import load_window

__all__ = ["PROBE_ROWS", "LatencyProbe", "probe_latency"]

logger = logging.getLogger("lifecycle.shadow")

#: Requests timed per version (single-row calls) in each pass.
PROBE_ROWS = 100
#: Passes over those requests; each version's p95 is the lowest of its passes' p95s, so a
#: burst of load on a shared machine during one pass does not decide the guardrail.
PASSES = 3
#: How far back the probe looks for served requests, nearest first.
LOOKBACK = (timedelta(hours=1), timedelta(days=1))


@dataclass(frozen=True)
class LatencyProbe:
    """p95 (lowest of :data:`PASSES` passes) of single-row ``predict`` calls of each version on
    the same ``n_calls`` rows."""

    champion_p95_ms: float
    challenger_p95_ms: float
    n_calls: int


def _recent_inputs(engine: Engine, model: str, version: str, since: datetime | None,
                   until: datetime, rows: int) -> pd.DataFrame:
    starts = [until - back for back in LOOKBACK] + [since]
    for start in starts:
        start = start if since is None or start is None else max(start, since)
        window = load_window(engine, model, start, until, role=CHAMPION, with_inputs=True)
        if len(window):
            keep = (window.meta["model_version"].astype(str) == str(version)).to_numpy()
            inputs = window.inputs.loc[keep]
            if len(inputs) >= rows or start == since:
                return inputs.tail(rows).reset_index(drop=True)
    return pd.DataFrame()


def _timed(model: Any, row: pd.DataFrame) -> float:
    t0 = time.perf_counter()
    model.predict(row)
    return (time.perf_counter() - t0) * 1000.0


def probe_latency(engine: Engine, settings: Settings, registry: Registry, model: str,
                  champion: VersionInfo, challenger: VersionInfo, since: datetime | None,
                  until: datetime, *, rows: int = PROBE_ROWS) -> LatencyProbe | None:
    """Time both versions on recent served inputs (module docstring); None when it cannot."""
    from lifecycle.jobs.shadow_score import model_columns

    try:
        inputs = _recent_inputs(engine, model, champion.version, since, until, rows)
        if inputs.empty:
            return None
        models = [registry.load_model(v.uri) for v in (champion, challenger)]
        frames = [inputs[model_columns(settings, model, m, inputs)] for m in models]
        for m, frame in zip(models, frames, strict=True):
            _timed(m, frame.iloc[:1])  # warm-up: first-call caches
        p95s: tuple[list[float], list[float]] = ([], [])
        for rep in range(PASSES):
            times: tuple[list[float], list[float]] = ([], [])
            for i in range(len(inputs)):
                order = (0, 1) if (i + rep) % 2 == 0 else (1, 0)  # who goes first alternates
                for j in order:
                    times[j].append(_timed(models[j], frames[j].iloc[i:i + 1]))
            for j in (0, 1):
                p95s[j].append(float(np.percentile(times[j], 95)))
    except Exception as exc:  # noqa: BLE001 - the guardrail falls back to logged latencies
        logger.warning("latency probe of %s (versions %s, %s) not possible: %s", model,
                       champion.version, challenger.version, exc)
        return None
    return LatencyProbe(min(p95s[0]), min(p95s[1]), len(inputs))

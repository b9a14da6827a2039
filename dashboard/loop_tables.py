"""Pure builders of the lifecycle pages' tables (no ``st.*``): retrain runs, holdout metrics,
shadow evaluations, promotion history, and the Overview's lifecycle status per model with the
rule for when a person is needed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from lifecycle.dashboard.charts import status_label
from lifecycle.dashboard.tables import display_frame, sig
from lifecycle.states import CONTINUE, FAILED, LOST, PROMOTE, REJECT


def _v(version: object) -> str:
    return "-" if version is None or (isinstance(version, float) and pd.isna(version)) \
        else f"v{version}"


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def level(confidence: object) -> str:
    """``90%``: the level of the gate's interval (it is two-sided at 1 - 2 alpha, so its
    lower end is the one-sided bound); ``CI`` alone when a row does not say."""
    if confidence is None or pd.isna(confidence):  # type: ignore[call-overload]
        return ""
    return f"{float(confidence):.0%} "  # type: ignore[arg-type]


def interval(delta: object, low: object, high: object) -> str:
    """``+0.0123 [-0.0040, +0.0286]``; ``-`` without a delta."""
    if delta is None or pd.isna(delta):
        return "-"
    text = f"{float(delta):+.4f}"  # type: ignore[arg-type]
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return text
    return f"{text} [{float(low):+.4f}, {float(high):+.4f}]"  # type: ignore[arg-type]


# ---------------------------------------------------------------------- overview


@dataclass(frozen=True)
class Aliases:
    """What the registry says about one model (``None`` versions: alias not set)."""

    champion: str | None = None
    champion_created: datetime | None = None
    challenger: str | None = None


def attention(row: Mapping[str, Any], aliases: Aliases | None) -> list[str]:
    """Why a person is needed for this model's lifecycle (empty: nobody is): the last retrain
    failed or was lost; the latest evaluation REJECTed a challenger that still holds the
    alias (kept for review; without an answer from the registry it is assumed kept); a
    promotion intent stuck pending."""
    why = []
    if row.get("retrain_status") in (FAILED, LOST):
        why.append(f"retrain {row['retrain_status']}")
    if row.get("decision") == REJECT:
        kept = aliases is None or aliases.challenger == str(row.get("challenger"))
        if kept:
            why.append(f"challenger {_v(row.get('challenger'))} rejected, awaiting review")
    stuck = int(row.get("stuck_intents") or 0)
    if stuck:
        why.append(f"{stuck} promotion intent(s) not completed")
    return why


def lifecycle_table(loop: pd.DataFrame, aliases: Mapping[str, Aliases] | None
                    ) -> pd.DataFrame:
    """One row per model: champion (and since when), challenger and its current shadow
    decision, last retrain, and what needs a person (``● ...``, red). ``aliases`` is None
    when the registry did not answer: versions then come from the recorded promotions."""
    rows = []
    for r in loop.to_dict("records"):
        mine = None if aliases is None else aliases.get(r["model"], Aliases())
        if mine is not None:
            champion = mine.champion
            since = (r["moved_at"] if champion is not None and str(r["moved_to"]) == champion
                     else mine.champion_created)
            challenger = mine.challenger
        else:
            champion = r["moved_to"]
            since = r["moved_at"]
            terminal = r["decision"] == PROMOTE and r["moved_to"] == r["challenger"]
            challenger = None if terminal else r["challenger"]
        if challenger is None:
            shadow = "-"
        elif r["challenger"] is not None and str(r["challenger"]) == str(challenger):
            shadow = status_label(r["decision"]) + f" · {int(r['n_paired']):,} pairs"
            needed = r.get("pairs_needed")
            if needed is not None and not pd.isna(needed) and r["decision"] == CONTINUE:
                shadow += f", ~{int(needed):,} more"
        else:
            shadow = "not evaluated yet"
        retrain = "-" if r["retrain_status"] is None else (
            status_label(r["retrain_status"]) + " "
            + pd.Timestamp(r["retrain_at"]).strftime("%m-%d %H:%M"))
        why = attention(r, mine)
        rows.append({
            "model": r["model"], "champion": _v(champion),
            "since": "" if since is None or pd.isna(since)
            else pd.Timestamp(since).tz_convert("UTC").strftime("%Y-%m-%d %H:%M"),
            "challenger": _v(challenger), "shadow decision": shadow, "last retrain": retrain,
            "needs a person": ("● " + "; ".join(why)) if why else "",
        })
    return pd.DataFrame(rows, columns=["model", "champion", "since", "challenger",
                                       "shadow decision", "last retrain", "needs a person"])


# ---------------------------------------------------------------------- retraining


def retrain_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Retrain runs, newest first: trigger, status, rows, duration, the version it registered
    and the champion it challenged."""
    return display_frame(pd.DataFrame({
        "id": runs["id"], "started": runs["started_at"], "model": runs["model"],
        "trigger": runs["trigger"], "by": runs["actor"],
        "status": [status_label(s) for s in runs["status"]],
        "rows": runs["n_rows"].astype("Int64"),
        "duration (s)": runs["duration_s"].astype(float).round(1),
        "version": [_v(v) for v in runs["registered_version"]],
        "challenged": [_v(v) for v in runs["champion_version"]],
        "error": [_text(e)[:120] for e in runs["error"]],
    }))


def holdout_table(metrics: Mapping[str, Any] | None) -> pd.DataFrame:
    """The new model's holdout metrics next to the champion's on the same holdout."""
    new = (metrics or {}).get("new") or {}
    old = (metrics or {}).get("champion") or {}
    rows = []
    for name in list(dict.fromkeys([*new, *old])):
        a, b = new.get(name), old.get(name)
        diff = None if a is None or b is None else float(a) - float(b)
        rows.append({"metric": name, "new model": sig(a), "champion": sig(b),
                     "new - champion": "-" if diff is None else f"{diff:+.4g}"})
    return pd.DataFrame(rows, columns=["metric", "new model", "champion", "new - champion"])


# ---------------------------------------------------------------------- shadow


def evaluations_table(evals: pd.DataFrame) -> pd.DataFrame:
    """Shadow evaluations, newest first, with the numbers behind each decision."""
    df = evals.iloc[::-1]
    known = df["confidence"].dropna()
    return display_frame(pd.DataFrame({
        "id": df["id"], "at": df["created_at"],
        "pair": [f"{_v(c)} vs {_v(h)}" for c, h in
                 zip(df["challenger_version"], df["champion_version"], strict=True)],
        "pairs": df["n_paired"].astype(int),
        "decision": [status_label(d) for d in df["decision"]],
        f"delta [{level(known.iloc[0]) if len(known) else ''}CI]":
                           [interval(d, lo, hi) for d, lo, hi in
                           zip(df["delta"], df["ci_low"], df["ci_high"], strict=True)],
        "test": df["test"].replace("", "-"), "p-value": [sig(p) for p in df["p_value"]],
        "alpha (this look)": [sig(a) for a in df["nominal_alpha"]],
        "pairs still needed": [_text(None if n is None or pd.isna(n) else int(n))
                               for n in df["pairs_needed"]],
        "reason": df["reason"].fillna(""),
    }))


def guardrails_table(guardrails: Mapping[str, Any] | None) -> pd.DataFrame:
    rows = []
    for name, g in (guardrails or {}).items():
        g = g if isinstance(g, Mapping) else {}
        passed = g.get("passed")
        rows.append({"guardrail": name,
                     "held": "-" if passed is None else ("yes" if passed else "● no"),
                     "observed": sig(g.get("observed")), "limit": sig(g.get("limit")),
                     "detail": g.get("detail") or ""})
    return pd.DataFrame(rows, columns=["guardrail", "held", "observed", "limit", "detail"])


def _numbers(numbers: Mapping[str, Any]) -> str:
    if not numbers:
        return ""
    delta = numbers.get("delta", numbers.get("metric_delta"))
    parts = []
    if delta is not None:
        parts.append("delta " + interval(delta, numbers.get("ci_low"), numbers.get("ci_high")))
    if numbers.get("p_value") is not None:
        parts.append(f"p {sig(numbers['p_value'], 3)}")
    pairs = numbers.get("n_pairs", numbers.get("n_paired"))
    if pairs is not None:
        parts.append(f"{int(pairs):,} pairs")
    return ", ".join(parts)


def promotions_table(moves: pd.DataFrame) -> pd.DataFrame:
    """Promotions and rollbacks, newest first: who or what decided, why, and the numbers."""
    return display_frame(pd.DataFrame({
        "id": moves["id"], "at": moves["created_at"], "model": moves["model"],
        "action": moves["action"],
        "versions": [f"{_v(a)} -> {_v(b)}" for a, b in
                     zip(moves["from_version"], moves["to_version"], strict=True)],
        "status": [status_label(s) for s in moves["status"]],
        "decided by": [f"{a} (shadow gate, evaluation #{int(e)})"
                       if e is not None and not pd.isna(e) else a
                       for a, e in zip(moves["actor"], moves["evaluation_id"], strict=True)],
        "reason": moves["reason"].fillna(""),
        "numbers": [_numbers(n) for n in moves["numbers"]],
        "completed": moves["completed_at"],
    }))

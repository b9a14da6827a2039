"""When each seeded model was retrained, evaluated in shadow, promoted and rolled back.

:func:`plan_loop` lays one model's lifecycle history over the seeded hours before anything is
written, so the hourly traffic (which version served, which one shadowed) and the lifecycle
rows (``retrain_runs``, ``shadow_evaluations``, ``promotion_events``) tell the same story.

With the default :class:`LoopSize` (4 retrain runs, 24 evaluations, 3 moves per model) a model
serves version 1 until 35 % of the span with one promotion of version 2, its rollback and a
manual re-promotion in between, then version 2; version 3 is retrained at 78 % and shadowed
from 80 %. What happens to the current challenger depends on the model's position
(:data:`SCENARIOS`), so a seeded database has every state a person may have to act on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from lifecycle.jobs.promote import PROMOTE_ACTION, ROLLBACK_ACTION
from lifecycle.states import CONTINUE, DONE, FAILED, PROMOTE, REJECT, SKIPPED

__all__ = ["DEFAULT_LOOP", "SCENARIOS", "LoopPlan", "LoopSize", "PlannedEvaluation", "PlannedMove",
           "PlannedRetrain", "plan_loop"]

#: What becomes of the current challenger, by model position (cycled):
#: ``continue_failed``: still CONTINUE; the last retrain failed and a manual promotion intent
#: is stuck pending (two reasons for a person); ``continue``: still CONTINUE, healthy;
#: ``reject``: the last evaluation decided REJECT and the challenger alias was kept for a
#: person to review; ``promote``: decided PROMOTE at the last look and promoted.
SCENARIOS = ("continue_failed", "continue", "reject", "continue", "promote")

#: Moves are spread over this part of the span (fractions); the last one ends it.
MOVES_FROM, MOVES_UNTIL = 0.15, 0.35
#: The current challenger: retrained at, and shadowed from, these fractions of the span.
CHALLENGER_RETRAIN_AT, SHADOW_FROM = 0.78, 0.8


@dataclass(frozen=True)
class LoopSize:
    """How much lifecycle history to seed per model."""

    retrain_runs: int = 4
    shadow_evaluations: int = 24
    promotions: int = 3


#: Per model: 4 retrain runs, 24 shadow evaluations, 3 promotion events.
DEFAULT_LOOP = LoopSize()


@dataclass(frozen=True)
class PlannedRetrain:
    hour: int
    status: str  # a lifecycle.states retrain status
    version: str | None  # registered version (done runs)
    champion_version: str | None  # the champion it challenged
    trigger: str  # "alert" or "manual"


@dataclass(frozen=True)
class PlannedEvaluation:
    hour: int
    champion_version: str
    challenger_version: str
    progress: float  # 0..1 within this challenger's evaluations (pairs accumulate)
    decision: str  # a lifecycle.states decision
    outcome: str  # the decision this challenger's evaluations end with


@dataclass(frozen=True)
class PlannedMove:
    hour: int
    action: str  # "promote" or "rollback"
    from_version: str
    to_version: str
    manual: bool  # a person decided (with a reason), not the shadow gate
    pending: bool = False  # an intent never completed


@dataclass(frozen=True)
class LoopPlan:
    """One model's lifecycle history, in hours from the start of the seeded span."""

    scenario: str
    n_hours: int
    champion_from: tuple[tuple[int, str], ...]  # (hour, version) from which it served
    challenger: tuple[int, str] | None  # (hour shadowing started, version), to the end
    retrains: tuple[PlannedRetrain, ...]
    evaluations: tuple[PlannedEvaluation, ...]
    moves: tuple[PlannedMove, ...]
    versions: tuple[str, ...] = field(default=())

    def champion_at(self, hour: int) -> str:
        return champion_at(self.champion_from, hour)

    def challenger_at(self, hour: int) -> str | None:
        if self.challenger is None or hour < self.challenger[0]:
            return None
        if self.scenario == "promote" and hour >= self.n_hours - 1:
            return None  # promoted in the last hour: it serves now
        return self.challenger[1]

    @property
    def final_champion(self) -> str:
        return self.champion_from[-1][1]

    @property
    def live_challenger(self) -> str | None:
        """The version the ``challenger`` alias points at now."""
        return None if self.scenario == "promote" or self.challenger is None \
            else self.challenger[1]


def _at(n_hours: int, fraction: float) -> int:
    return min(n_hours - 1, max(0, int(round(n_hours * fraction))))


def plan_loop(n_hours: int, size: LoopSize, position: int) -> LoopPlan:
    """The lifecycle history of the model at ``position`` over ``n_hours`` hours."""
    scenario = SCENARIOS[position % len(SCENARIOS)]
    n_moves = max(1, size.promotions)
    # move j: a new version promoted by the gate (j % 3 == 0), rolled back by a person
    # (j % 3 == 1), promoted again by a person with a reason (j % 3 == 2)
    moves: list[PlannedMove] = []
    retrains: list[PlannedRetrain] = []
    generations: list[tuple[str, str, int, int]] = []  # challenger, champion, from h, to h
    champion_from: list[tuple[int, str]] = [(0, "1")]
    latest, champion, previous = 1, "1", None
    step = (MOVES_UNTIL - MOVES_FROM) / n_moves
    for j in range(n_moves):
        hour = _at(n_hours, MOVES_FROM + step * (j + 1))
        if j % 3 == 0:
            latest += 1
            new = str(latest)
            retrain_h = _at(n_hours, MOVES_FROM + step * (j + 0.2))
            retrains.append(PlannedRetrain(retrain_h, DONE, new, champion,
                                           "alert" if j % 2 == 0 else "manual"))
            generations.append((new, champion, retrain_h + 1, hour))
            moves.append(PlannedMove(hour, PROMOTE_ACTION, champion, new, manual=False))
            previous, champion = champion, new
        elif j % 3 == 1 and previous is not None:
            moves.append(PlannedMove(hour, ROLLBACK_ACTION, champion, previous, manual=True))
            previous, champion = champion, previous
        elif previous is not None:
            moves.append(PlannedMove(hour, PROMOTE_ACTION, champion, previous, manual=True))
            previous, champion = champion, previous
        champion_from.append((hour, champion))

    latest += 1
    current = str(latest)
    retrains.append(PlannedRetrain(_at(n_hours, CHALLENGER_RETRAIN_AT), DONE, current,
                                   champion, "alert"))
    shadow_h = _at(n_hours, SHADOW_FROM)
    extra = max(0, size.retrain_runs - len(retrains))
    for k in range(extra):
        last_failed = scenario == "continue_failed" and k == extra - 1
        hour = (_at(n_hours, 0.92) if last_failed
                else _at(n_hours, 0.45 + 0.3 * k / max(extra, 1)))
        status = FAILED if (last_failed or k % 2 == 1) else SKIPPED
        retrains.append(PlannedRetrain(hour, status, None, champion_at(champion_from, hour),
                                       "manual" if k % 2 else "alert"))
    retrains.sort(key=lambda r: r.hour)

    evaluations: list[PlannedEvaluation] = []
    n_eval = max(1, size.shadow_evaluations)
    n_previous = min(n_eval // 3, n_eval - 1) if generations else 0
    per_generation = _split(n_previous, len(generations))
    for (new, old, start, end), k in zip(generations, per_generation, strict=True):
        evaluations += _evaluations(new, old, start, max(start, end - 1), k, PROMOTE,
                                    CONTINUE)
    ending = {"reject": REJECT, "promote": PROMOTE}.get(scenario, CONTINUE)
    evaluations += _evaluations(current, champion, shadow_h + 1, n_hours - 1,
                                n_eval - n_previous, ending, CONTINUE)

    if scenario == "promote":
        moves.append(PlannedMove(n_hours - 1, PROMOTE_ACTION, champion, current, manual=False))
        champion_from.append((n_hours - 1, current))
    if scenario == "continue_failed":
        moves.append(PlannedMove(n_hours - 1, PROMOTE_ACTION, champion, current, manual=True,
                                 pending=True))
    return LoopPlan(scenario, n_hours, tuple(champion_from), (shadow_h, current),
                    tuple(retrains), tuple(evaluations), tuple(moves),
                    tuple(str(v) for v in range(1, latest + 1)))


def champion_at(champion_from: Sequence[tuple[int, str]], hour: int) -> str:
    """The version serving at ``hour``."""
    version = champion_from[0][1]
    for start, v in champion_from:
        if start <= hour:
            version = v
    return version


def _split(total: int, parts: int) -> list[int]:
    if parts == 0:
        return []
    base = total // parts
    return [base + (1 if i < total % parts else 0) for i in range(parts)]


def _evaluations(challenger: str, champion: str, start: int, end: int, n: int,
                 ending: str, before: str) -> list[PlannedEvaluation]:
    if n <= 0:
        return []
    out = []
    for i in range(n):
        progress = (i + 1) / n
        hour = start + int(math.floor((end - start) * progress))
        out.append(PlannedEvaluation(hour, champion, challenger, progress,
                                     ending if i == n - 1 else before, ending))
    return out

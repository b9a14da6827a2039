"""Paired shadow traffic: the champion's and the challenger's answers to the same requests.

Pairing rule (``docs/serving.md``): a row's request id is its ``request_id`` when set, else its
``prediction_id``. Champion rows of version C are paired with challenger rows of version K of
the same model on that id; a challenger row carries the champion row's join key and timestamp,
so both fall in the same window and one label (the outcome of the join key, one per key:
:func:`lifecycle.storage.labelled.outcomes_for_keys`) labels both.

Serving counters for the guardrails come from the same rows. The shadow path has no error
rows of its own (a challenger that raises logs nothing), so a champion request without a
challenger answer counts as a challenger failure (error, garbage or dropped). They are counted
over the **shadow period**: from the first challenger answer (the moment a ManagedModel picked
the alias up), or, when the challenger answered nothing at all, from ``since + grace``; and up
to the newest request the challenger answered (capped at ``until - settle``), so requests
still in the live shadow queue, or not yet reached by the ``shadow_score`` job that scores
batch-mode traffic later, are not counted as lost. A challenger that answers nothing at all is
counted over the whole period (every request a failure); one that stops answering part-way is
not caught by this count (its evaluation keeps its earlier requests and the period ends with
``max_duration``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.errors import DataError
from lifecycle.evaluation.paired import PairedSample, paired_sample
from lifecycle.evaluation.policy import ServingStats
from lifecycle.states import CHALLENGER, CHAMPION
from lifecycle.storage.labelled import decode_label, outcomes_for_keys
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.window import load_window

__all__ = ["PairedWindow", "load_paired"]

_PROBA = "proba_"


@dataclass(frozen=True)
class PairedWindow:
    """Champion version ``champion_version`` and challenger ``challenger_version`` on the same
    requests of ``[since, until)``.

    ``frame``: one row per paired request (ordered by time): request_id, join_key, ts,
    champion_value / champion_label, challenger_value / challenger_label (headline outputs),
    champion_latency_ms / challenger_latency_ms, label (decoded JSON, None when unlabelled),
    label_value, has_label, and ``champion_proba_<class>`` / ``challenger_proba_<class>`` for
    the classes in ``classes`` when both logged probabilities.
    """

    model: str
    champion_version: str
    challenger_version: str
    since: datetime | None
    until: datetime | None
    as_of: datetime
    frame: pd.DataFrame
    classes: tuple[str, ...]
    #: champion requests of version C in [since, until)
    n_champion_requests: int
    #: challenger rows of version K in [since, until)
    n_challenger_rows: int
    #: when the first challenger answer was served (None: the challenger answered nothing)
    shadow_started: datetime | None
    counted_since: datetime | None
    counted_until: datetime | None
    #: champion requests in the counted period, and how many of them the challenger answered
    n_counted: int
    n_answered: int
    champion_latency_p95: float | None
    challenger_latency_p95: float | None

    @property
    def n_pairs(self) -> int:
        """Requests both models answered."""
        return len(self.frame)

    @property
    def n_labelled_pairs(self) -> int:
        """Requests both models answered that have a label."""
        return int(self.frame["has_label"].sum()) if len(self.frame) else 0

    @property
    def agreement_rate(self) -> float | None:
        """Share of paired requests where both versions predicted the same class (None for
        a regression or no pairs)."""
        if not len(self.frame):
            return None
        champ, chall = self.frame[f"{CHAMPION}_label"], self.frame[f"{CHALLENGER}_label"]
        if champ.isna().all() or chall.isna().all():
            return None
        return float((champ.astype(str) == chall.astype(str)).mean())

    @property
    def drop_rate(self) -> float | None:
        """Share of the counted champion requests the challenger did not answer."""
        return None if not self.n_counted else 1.0 - self.n_answered / self.n_counted

    def stats(self) -> ServingStats:
        """The guardrails' counters (champion failures are not logged: 0)."""
        return ServingStats(
            champion_requests=self.n_counted, champion_failures=0,
            challenger_requests=self.n_counted,
            challenger_failures=self.n_counted - self.n_answered,
            champion_latency_p95=self.champion_latency_p95,
            challenger_latency_p95=self.challenger_latency_p95,
        )

    def sample(self, task: str) -> PairedSample:
        """The labelled pairs as a validated pure-core sample (probabilities when both models
        logged them for every labelled pair; latencies when both were timed)."""
        rows = self.frame[self.frame["has_label"]] if len(self.frame) else self.frame
        lat: dict[str, Any] = {}
        lats = [rows.get(f"{r}_latency_ms") for r in (CHAMPION, CHALLENGER)]
        if all(x is not None and len(rows) and x.notna().all() for x in lats):
            lat = {"champion_latency": lats[0].to_numpy(float),
                   "challenger_latency": lats[1].to_numpy(float)}
        if task == "regression":
            truth = [v if v is not None and not pd.isna(v) else lab
                     for v, lab in zip(rows["label_value"], rows["label"], strict=True)]
            return paired_sample(task, truth, _values(rows, CHAMPION, "value"),
                                 _values(rows, CHALLENGER, "value"), **lat)
        proba: dict[str, Any] = {}
        if self.classes:
            blocks = [rows[[f"{r}_{_PROBA}{c}" for c in self.classes]].to_numpy(float)
                      for r in (CHAMPION, CHALLENGER)]
            if all(b.size and not np.isnan(b).any() for b in blocks):
                proba = {"champion_proba": blocks[0], "challenger_proba": blocks[1],
                         "classes": list(self.classes)}
        return paired_sample(task, rows["label"].tolist(), _values(rows, CHAMPION, "label"),
                             _values(rows, CHALLENGER, "label"), **proba, **lat)


def _values(rows: pd.DataFrame, role: str, kind: str) -> list[Any]:
    values = rows[f"{role}_{kind}"].tolist()
    missing = sum(v is None or (isinstance(v, float) and np.isnan(v)) for v in values)
    if missing:
        raise DataError(
            f"{missing} labelled {role} prediction(s) carry no predicted "
            f"{'value' if kind == 'value' else 'class'}; log class probabilities with their "
            "classes (ManagedModel does; log_shadow needs classes=[...]) or one value per row")
    return values


def _side(meta: pd.DataFrame, outputs: pd.DataFrame, mask: np.ndarray, role: str,
          classes: list[str]) -> pd.DataFrame:
    rows = meta.loc[mask]
    request = rows["request_id"] if "request_id" in rows else pd.Series(None, index=rows.index)
    side = pd.DataFrame({
        "request_id": request.where(request.notna(), rows["prediction_id"]).astype(str),
        "join_key": rows["join_key"].astype(object),
        "ts": pd.to_datetime(rows["ts"], utc=True),
        f"{role}_value": rows["output_value"] if "output_value" in rows else None,
        f"{role}_label": rows["output_label"] if "output_label" in rows else None,
        f"{role}_latency_ms": (rows["latency_ms"].astype(float) if "latency_ms" in rows
                               else np.nan),
    })
    for c in classes:
        side[f"{role}_{_PROBA}{c}"] = outputs.loc[mask, f"{_PROBA}{c}"].astype(float)
    return side.drop_duplicates("request_id", keep="first").reset_index(drop=True)


def _p95(values: pd.Series) -> float | None:
    finite = values.dropna().to_numpy(float)
    return float(np.percentile(finite, 95)) if finite.size else None


def load_paired(engine: Engine, model: str, champion_version: str, challenger_version: str,
                since: datetime | None, until: datetime | None, *, as_of: datetime,
                grace: timedelta = timedelta(minutes=10),
                settle: timedelta = timedelta(minutes=1)) -> PairedWindow:
    """Pair the champion's and the challenger's rows of ``[since, until)`` and label them with
    the outcomes received by ``as_of``.

    ``grace`` and ``settle`` bound the period the serving counters cover (module docstring).

    Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown model.
    """
    window = load_window(engine, model, since, until, with_inputs=False, with_headline=True)
    meta, outputs = window.meta, window.outputs
    version = meta["model_version"].astype(str) if len(meta) else pd.Series(dtype=str)
    is_champ = ((meta["role"] == CHAMPION) & (version == str(champion_version))).to_numpy()
    is_chall = ((meta["role"] == CHALLENGER) & (version == str(challenger_version))).to_numpy()
    classes = sorted(c[len(_PROBA):] for c in outputs.columns if str(c).startswith(_PROBA))
    champ = _side(meta, outputs, is_champ, CHAMPION, classes)
    chall = _side(meta, outputs, is_chall, CHALLENGER, classes)
    pairs = champ.merge(chall.drop(columns=["join_key", "ts"]), on="request_id", how="inner",
                        sort=False).sort_values("ts", kind="stable").reset_index(drop=True)

    shadow_started = chall["ts"].min() if len(chall) else None
    counted_since = (shadow_started.to_pydatetime() if shadow_started is not None
                     else (None if since is None else since + grace))
    counted_until = None if until is None else until - settle
    if len(chall):
        newest = chall["ts"].max().to_pydatetime() + timedelta(microseconds=1)
        counted_until = newest if counted_until is None else min(counted_until, newest)
    in_period = np.ones(len(champ), bool)
    if counted_since is not None:
        in_period &= (champ["ts"] >= counted_since).to_numpy()
    if counted_until is not None:
        in_period &= (champ["ts"] < counted_until).to_numpy()
    counted = champ.loc[in_period, "request_id"]
    answered = chall["request_id"].isin(counted)

    with Session(engine) as session:
        model_id = get_model(session, model).id
        keys = pd.unique(pairs["join_key"]).tolist() if len(pairs) else []
        outcomes = outcomes_for_keys(session, model_id, keys, as_of)
    pairs = pairs.merge(outcomes[["join_key", "label_text", "label_value"]], on="join_key",
                        how="left", sort=False)
    pairs["has_label"] = pairs["label_text"].notna()
    pairs["label"] = [decode_label(t) for t in pairs["label_text"]]
    pairs = pairs.drop(columns=["label_text"])
    keep_classes = tuple(c for c in classes
                         if not pairs.empty and pairs[f"{CHAMPION}_{_PROBA}{c}"].notna().any()
                         and pairs[f"{CHALLENGER}_{_PROBA}{c}"].notna().any())
    return PairedWindow(
        model=model, champion_version=str(champion_version),
        challenger_version=str(challenger_version), since=since, until=until, as_of=as_of,
        frame=pairs, classes=keep_classes, n_champion_requests=len(champ),
        n_challenger_rows=int(is_chall.sum()),
        shadow_started=None if shadow_started is None else shadow_started.to_pydatetime(),
        counted_since=counted_since, counted_until=counted_until,
        n_counted=int(in_period.sum()), n_answered=int(answered.sum()),
        champion_latency_p95=_p95(champ.loc[in_period, f"{CHAMPION}_latency_ms"]),
        challenger_latency_p95=_p95(chall.loc[answered.to_numpy(), f"{CHALLENGER}_latency_ms"]),
    )

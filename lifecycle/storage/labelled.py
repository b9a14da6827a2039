"""Labelled windows: logged predictions joined with their outcomes, and label coverage.

Join rule: a prediction of model M is labelled by the outcome of M with the same
``join_key`` (the key the capture layer records: the user's id column or the id lifecycle
assigned). The outcomes table keeps **one row per key**: a label logged again for the same key
replaces the earlier one (latest received wins; ``revisions`` counts replacements), so a
prediction never has two labels. Several predictions sharing a key (a retried request, the
same entity scored twice) all take that key's label and are counted in ``n_shared_keys``.
Outcomes whose key matches no logged prediction are counted as ``n_orphan_outcomes`` and never
enter coverage. ``as_of`` reproduces what was known at a time: outcomes received later are
ignored (a label revised after ``as_of`` then counts as not yet received, because only the
latest revision is stored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, exists, func, select
from sqlalchemy.orm import Session

from lifecycle.errors import DataError
from lifecycle.performance import (
    LabelledSample,
    canonical_label,
    classification_sample,
    regression_sample,
)
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.tables import Outcome, Prediction
from lifecycle.storage.types import utcnow

__all__ = ["LabelledWindow", "load_labelled_window"]

#: Roles whose predictions are served to users; shadow (challenger) traffic is evaluated
#: by the shadow evaluation, not here.
SERVED_ROLES = ("champion", "unmanaged")


@dataclass(frozen=True)
class LabelledWindow:
    """Predictions of ``[since, until)`` with their labels, in timestamp order.

    ``frame`` columns: prediction_id, join_key, ts, model_version, role, output_value,
    output_label, label (decoded JSON; None when unlabelled), label_value, received_at,
    revisions, delay_s, and the ``proba_<class>`` columns when the model logged them.
    """

    model: str
    model_task: str | None
    since: datetime | None
    until: datetime | None
    as_of: datetime
    frame: pd.DataFrame
    proba_columns: tuple[str, ...]
    n_predictions: int
    n_labelled: int
    n_shared_keys: int
    n_revised: int
    n_orphan_outcomes: int

    @property
    def coverage(self) -> float | None:
        """Share of predictions that have a label (None for an empty window)."""
        return self.n_labelled / self.n_predictions if self.n_predictions else None

    @property
    def labelled(self) -> pd.DataFrame:
        """Only the labelled rows."""
        return self.frame[self.frame["has_label"]].reset_index(drop=True)

    def delay_quantile(self, q: float) -> float | None:
        """Quantile of the label delay in seconds (received_at minus prediction time)."""
        delays = self.frame.loc[self.frame["has_label"], "delay_s"].to_numpy(dtype=float)
        return float(np.quantile(delays, q)) if delays.size else None

    def sample(self, task: str, positive: str | None = None) -> LabelledSample:
        """The labelled rows as a validated pure-core sample.

        Classification: labels and predicted classes, plus the ``proba_<class>`` block when
        every labelled row has it; classes in sorted order, except that a binary model's
        ``positive`` class goes last (the class precision/recall/F1 are about). Regression:
        ``label_value`` (else the decoded label) against ``output_value``.

        Raises
        ------
        DataError
            Labels of the wrong type for the task, or probabilities that are not
            probabilities (see :func:`lifecycle.performance.classification_sample`).
        """
        rows = self.labelled
        if task == "regression":
            truth = [v if v is not None and not pd.isna(v) else lab
                     for v, lab in zip(rows["label_value"], rows["label"], strict=True)]
            pred = rows["output_value"].tolist()
            if any(p is None or pd.isna(p) for p in pred):
                raise DataError("some predictions have no numeric output; log a number per row")
            return regression_sample(truth, pred)
        truth, pred = rows["label"].tolist(), rows["output_label"].tolist()
        proba = None
        if self.proba_columns:
            block = rows[list(self.proba_columns)].to_numpy(dtype=float)
            if block.size and not np.isnan(block).any():
                proba = block
                names = [canonical_label(c[len("proba_"):]) for c in self.proba_columns]
        if proba is None:
            names = sorted({canonical_label(v) for v in truth} | {canonical_label(v) for v in pred})
        order = sorted(range(len(names)), key=lambda j: names[j])
        if positive is not None and len(names) == 2 and canonical_label(positive) in names:
            pos = names.index(canonical_label(positive))
            order = [j for j in order if j != pos] + [pos]
        classes = [names[j] for j in order]
        return classification_sample(
            truth, pred, None if proba is None else proba[:, order], classes
        )

    def coverage_summary(self) -> dict[str, Any]:
        """Coverage and delay figures, JSON-ready (stored in the report summary)."""
        return {
            "n_predictions": self.n_predictions,
            "n_labelled": self.n_labelled,
            "coverage": self.coverage,
            "delay_median_s": self.delay_quantile(0.5),
            "delay_p90_s": self.delay_quantile(0.9),
            "delay_max_s": self.delay_quantile(1.0),
            "n_shared_keys": self.n_shared_keys,
            "n_revised": self.n_revised,
            "n_orphan_outcomes": self.n_orphan_outcomes,
            "as_of": self.as_of.isoformat(),
        }


def _decode(text: Any) -> Any:
    if not isinstance(text, str):  # None / NaN: no label
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_labelled_window(
    engine: Engine,
    model: str,
    since: datetime | None,
    until: datetime | None,
    *,
    as_of: datetime | None = None,
    roles: tuple[str, ...] = SERVED_ROLES,
    with_proba: bool = True,
) -> LabelledWindow:
    """Join the predictions of ``[since, until)`` with the outcomes received by ``as_of``.

    Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown model.
    """
    as_of = as_of or utcnow()
    with Session(engine) as session:
        model_row = get_model(session, model)
        mid = model_row.id
        task = model_row.task
        cond = [Prediction.model_id == mid, Prediction.role.in_(roles)]
        if since is not None:
            cond.append(Prediction.ts >= since)
        if until is not None:
            cond.append(Prediction.ts < until)
        join = and_(
            Outcome.model_id == Prediction.model_id,
            Outcome.join_key == Prediction.join_key,
            Outcome.received_at <= as_of,
        )
        stmt = (
            select(
                Prediction.prediction_id, Prediction.join_key, Prediction.ts,
                Prediction.model_version, Prediction.role, Prediction.output_value,
                Prediction.output_label, Outcome.label, Outcome.label_value,
                Outcome.received_at, Outcome.revisions,
            )
            .outerjoin(Outcome, join)
            .where(*cond)
            .order_by(Prediction.ts, Prediction.id)
        )
        rows = session.execute(stmt).all()
        ocond = [Outcome.model_id == mid, Outcome.received_at <= as_of]
        if since is not None:
            ocond.append(Outcome.received_at >= since)
        if until is not None:
            ocond.append(Outcome.received_at < until)
        logged = exists().where(
            Prediction.model_id == mid, Prediction.join_key == Outcome.join_key
        )
        orphans = session.scalar(select(func.count()).select_from(Outcome).where(*ocond, ~logged))
    columns = [
        "prediction_id", "join_key", "ts", "model_version", "role", "output_value",
        "output_label", "label_text", "label_value", "received_at", "revisions",
    ]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    frame["has_label"] = frame["label_text"].notna()
    frame["label"] = [_decode(t) for t in frame["label_text"]]
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    delay = (frame["received_at"] - frame["ts"]).dt.total_seconds()
    frame["delay_s"] = delay.where(frame["has_label"]).astype(float)
    proba_columns: tuple[str, ...] = ()
    if with_proba and len(frame):
        from lifecycle.storage.window import load_window

        window = load_window(engine, model, since, until, with_inputs=False)
        cols = [c for c in window.outputs.columns if str(c).startswith("proba_")]
        if cols:
            proba = window.outputs[cols].copy()
            proba["prediction_id"] = window.meta["prediction_id"].astype(str).to_numpy()
            frame = frame.merge(proba, on="prediction_id", how="left", sort=False)
            proba_columns = tuple(cols)
    labelled = frame[frame["has_label"]]
    key_counts = frame["join_key"].value_counts()
    return LabelledWindow(
        model=model,
        model_task=task,
        since=since,
        until=until,
        as_of=as_of,
        frame=frame.drop(columns=["label_text"]),
        proba_columns=proba_columns,
        n_predictions=len(frame),
        n_labelled=len(labelled),
        n_shared_keys=int((key_counts > 1).sum()),
        n_revised=int((labelled["revisions"].fillna(0) > 0).sum()),
        n_orphan_outcomes=int(orphans or 0),
    )

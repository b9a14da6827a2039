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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, String, and_, any_, bindparam, case, column, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from lifecycle.errors import DataError
from lifecycle.performance import (
    LabelledSample,
    ordered_classification_sample,
    regression_sample,
)
from lifecycle.states import SERVED_ROLES
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.tables import ArchivePart, Outcome, prediction_keys
from lifecycle.storage.types import utcnow

__all__ = ["KEY_CHUNK", "OUTCOME_COLUMNS", "LabelledWindow", "decode_label", "join_key_in",
           "labelled_sample", "load_labelled_window", "outcomes_for_keys"]

#: How to log outputs a performance check can read (the usual cause: a function returning
#: ``predict_proba`` monitored without ``classes``, stored as ``output_0, output_1, ...``).
_OUTPUT_FIX = (
    "A function returning class probabilities (predict_proba) must be monitored with its "
    "classes: @lifecycle.monitor({model!r}, classes=[...]) (or output=\"proba\"); a "
    "classifier returning labels, or a regressor, must return one value per row. "
    "Predictions logged before that fix cannot be evaluated; check a window logged after it"
)

#: Roles whose predictions are served to users; shadow (challenger) traffic is evaluated
#: by the shadow evaluation, not here.


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
    #: End of the model's archived predictions (retention), when it has any: the orphan
    #: count searches only the hot key table, so labels of archived predictions count in it
    archived_until: datetime | None = None

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
        """The labelled rows as a validated pure-core sample (see :func:`labelled_sample`)."""
        return labelled_sample(self.labelled, self.proba_columns, task, positive,
                               model=self.model)

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
            "orphans_archived_until": (None if self.archived_until is None
                                       else self.archived_until.isoformat()),
            "as_of": self.as_of.isoformat(),
        }


def labelled_sample(rows: pd.DataFrame, proba_columns: Sequence[str], task: str,
                    positive: str | None = None, *, model: str) -> LabelledSample:
    """Labelled prediction rows as a validated pure-core sample: what the performance job
    and a retrain's holdout scoring both measure.

    ``rows`` has ``label`` (decoded), ``label_value`` (regression: used when set),
    ``output_label``, ``output_value`` and the ``proba_columns``. Classification: labels and
    predicted classes, plus the ``proba_<class>`` block when every row has it, in the order
    of :func:`lifecycle.performance.ordered_classification_sample` (sorted; a binary model's
    ``positive`` class last). Regression: ``label_value`` (else the decoded label) against
    ``output_value``.

    Raises
    ------
    DataError
        Rows without a predicted class or value (with the logging fix), labels of the wrong
        type for the task, or probabilities that are not probabilities (see
        :func:`lifecycle.performance.classification_sample`).
    """
    if task == "regression":
        truth = [v if v is not None and not pd.isna(v) else lab
                 for v, lab in zip(rows["label_value"], rows["label"], strict=True)]
        pred = rows["output_value"].tolist()
        missing = sum(p is None or pd.isna(p) for p in pred)
        if missing:
            raise DataError(f"model {model!r}: {missing} labelled prediction(s) have "
                            f"no numeric output, so a regression cannot be evaluated. "
                            f"{_OUTPUT_FIX.format(model=model)}")
        return regression_sample(truth, pred)
    truth, pred = rows["label"].tolist(), rows["output_label"].tolist()
    missing = sum(p is None or (isinstance(p, float) and pd.isna(p)) for p in pred)
    if missing:
        raise DataError(f"model {model!r} is evaluated as a classifier, but {missing} "
                        f"labelled prediction(s) carry no predicted class. "
                        f"{_OUTPUT_FIX.format(model=model)}")
    proba, names = None, None
    if proba_columns:
        block = rows[list(proba_columns)].to_numpy(dtype=float)
        if block.size and not np.isnan(block).any():
            proba, names = block, [c[len("proba_"):] for c in proba_columns]
    return ordered_classification_sample(truth, pred, proba, names, positive)


def decode_label(text: Any) -> Any:
    """A stored label (JSON text) as the value that was logged; None for no label."""
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

    The predictions come from the batch blobs (:func:`~lifecycle.storage.window.load_window`,
    outputs only); their outcomes are then fetched by key (:func:`outcomes_for_keys`).

    Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown model.
    """
    from lifecycle.storage.window import load_window

    as_of = as_of or utcnow()
    window = load_window(engine, model, since, until, with_inputs=False, with_headline=True)
    meta = window.meta
    served = meta["role"].isin(list(roles)).to_numpy() if len(meta) else np.zeros(0, bool)
    frame = meta.loc[served, list(_PREDICTION_COLUMNS)].reset_index(drop=True)
    frame["prediction_id"] = frame["prediction_id"].astype(object)
    frame["join_key"] = frame["join_key"].astype(object)
    proba_columns: tuple[str, ...] = ()
    if with_proba:
        cols = [c for c in window.outputs.columns if str(c).startswith("proba_")]
        if cols:
            proba = window.outputs.loc[served, cols].reset_index(drop=True)
            frame = pd.concat([frame, proba.astype(float)], axis=1)
            proba_columns = tuple(cols)
    with Session(engine) as session:
        model_row = get_model(session, model)
        mid, task = model_row.id, model_row.task
        keys = pd.unique(frame["join_key"]).tolist() if len(frame) else []
        outcomes = outcomes_for_keys(session, mid, keys, as_of)
        ocond = [Outcome.model_id == mid, Outcome.received_at <= as_of]
        if since is not None:
            ocond.append(Outcome.received_at >= since)
        if until is not None:
            ocond.append(Outcome.received_at < until)
        orphans = session.scalar(select(func.count()).select_from(Outcome).where(
            *ocond, func.coalesce(_logged(mid, session.get_bind().dialect.name), 0) == 0))
        archived_until = session.scalar(select(func.max(ArchivePart.ts_max)).where(
            ArchivePart.model_id == mid, ArchivePart.state == "deleted"))
    frame = frame.merge(outcomes, on="join_key", how="left", sort=False)
    frame["has_label"] = frame["label_text"].notna()
    frame["label"] = [decode_label(t) for t in frame["label_text"]]
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    delay = (frame["received_at"] - frame["ts"]).dt.total_seconds()
    frame["delay_s"] = delay.where(frame["has_label"]).astype(float)
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
        archived_until=archived_until,
    )


def _logged(model_id: int, dialect: str) -> Any:
    """1 when the outcome's key was logged by the model, else 0 or NULL (correlated).

    The key rows are points and ranges (``storage/key_ranges.py``): the row with the greatest
    ``join_key <= key`` holds the key when it is the key itself, or a range reaching it
    (``key <= last_key``) and the key has the shape of an assigned id (24 characters, then 8
    lowercase hex digits): between a range's first and last id, only that call's own ids have
    that shape. One backward seek on the ``(model_id, join_key)`` index.
    """
    k = prediction_keys.c
    key = Outcome.join_key
    if dialect == "postgresql":
        id_shaped = key.op("~")("^.{24}[0-9a-f]{8}$")
    else:  # GLOB: case-sensitive, anchored, native
        id_shaped = key.op("GLOB")("?" * 24 + "[0-9a-f]" * 8)
    holds = case((k.join_key == key, 1), (and_(k.last_key >= key, id_shaped), 1), else_=0)
    return (select(holds).where(k.model_id == model_id, k.join_key <= key)
            .order_by(k.join_key.desc()).limit(1).correlate(Outcome).scalar_subquery())


_PREDICTION_COLUMNS = ("prediction_id", "join_key", "ts", "model_version", "role",
                       "output_value", "output_label")
#: Outcome columns :func:`outcomes_for_keys` can return, and the table columns behind them.
OUTCOME_COLUMNS = ("join_key", "label_text", "label_value", "received_at", "revisions")
_OUTCOME_SOURCES = {"join_key": Outcome.join_key, "label_text": Outcome.label,
                    "label_value": Outcome.label_value, "received_at": Outcome.received_at,
                    "revisions": Outcome.revisions}
#: Keys per query: one bound array (PostgreSQL) or one JSON text (SQLite) each.
KEY_CHUNK = 50_000


def join_key_in(chunk: Sequence[str], *, postgres: bool) -> ColumnElement[bool]:
    """``outcomes.join_key`` is one of ``chunk``, as ONE bound parameter: a PostgreSQL array
    with ``= ANY``, or a JSON array expanded by SQLite's ``json_each`` (the statement text does
    not grow with the keys, and the unique ``(model_id, join_key)`` index is used)."""
    if postgres:
        return Outcome.join_key == any_(bindparam("keys", list(chunk), type_=ARRAY(String)))
    each = select(column("value")).select_from(
        func.json_each(bindparam("keys", json.dumps(list(chunk))))
    ).scalar_subquery()
    return Outcome.join_key.in_(each)


def outcomes_for_keys(session: Session, model_id: int, keys: Sequence[str],
                      as_of: datetime, *, columns: Sequence[str] = OUTCOME_COLUMNS,
                      ) -> pd.DataFrame:
    """The outcomes of ``keys`` received by ``as_of`` (at most one per key; see module doc).

    Columns: ``columns``, a selection of :data:`OUTCOME_COLUMNS` (join_key, label_text (JSON
    text), label_value, received_at, revisions), join_key first whatever is asked (a caller
    that needs only the labels skips decoding 100,000 timestamps). Each chunk
    of keys is ONE bound parameter - a PostgreSQL array (``= ANY``) or, on SQLite, a JSON
    array expanded by ``json_each`` - so the unique ``(model_id, join_key)`` index is used
    and the statement text does not grow with the number of keys.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    rows: list[Any] = []
    names = ["join_key", *(c for c in columns if c != "join_key")]
    cols = [_OUTCOME_SOURCES[name] for name in names]
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = [str(k) for k in keys[start:start + KEY_CHUNK]]
        in_chunk = join_key_in(chunk, postgres=postgres)
        stmt = select(*cols).where(Outcome.model_id == model_id, in_chunk,
                                   Outcome.received_at <= as_of)
        rows.extend(session.connection().execute(stmt).all())  # Core rows: no ORM loading
    return pd.DataFrame([tuple(r) for r in rows], columns=names)

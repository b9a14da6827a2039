"""Late ground truth: validate labels and upsert them by ``(model, join_key)``.

Outcomes are stored independently of predictions and joined by key when read, so a label
that arrives before its prediction is flushed (or even logged) still joins later. A key
logged twice keeps the latest received label (``revisions`` counts replacements).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.capture.records import normalize_key
from lifecycle.errors import DatabaseError, DataError, SchemaOutOfDateError, UnknownModelError
from lifecycle.storage.capture_repo import (
    OutcomeRow,
    existing_model_id,
    model_id_for,
    upsert_outcomes,
)
from lifecycle.storage.engine import redact_url


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, pd.Series | pd.Index):
        return value.tolist()
    if isinstance(value, np.ndarray):
        if value.ndim > 1:
            raise DataError(f"{name} must be one-dimensional, got an array of shape "
                            f"{value.shape}; pass one value per key")
        return value.tolist()
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _label_json(label: Any) -> tuple[str, float | None]:
    if isinstance(label, np.generic):
        label = label.item()
    if label is None or (isinstance(label, float) and math.isnan(label)):
        raise DataError("a label is None/NaN; drop unknown labels instead of logging them")
    if isinstance(label, bool):
        return json.dumps(label), float(label)
    if isinstance(label, int | float):
        if math.isinf(label):
            return json.dumps(str(label)), float(label)
        return json.dumps(label), float(label)
    if isinstance(label, Decimal):
        return json.dumps(str(label)), float(label)
    try:
        return json.dumps(label, default=str), None
    except (TypeError, ValueError):
        return json.dumps(str(label)), None


def _timestamp(value: Any) -> datetime:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif isinstance(value, np.datetime64):
        value = pd.Timestamp(value).tz_localize(UTC).to_pydatetime()
    elif isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise DataError(f"timestamp {value!r} is not ISO-8601; pass e.g. "
                            "'2026-01-31T12:00:00+00:00' or an aware datetime") from None
    if not isinstance(value, datetime):
        raise DataError(f"timestamp {value!r} is not a datetime; pass aware datetimes")
    if value.tzinfo is None:
        raise DataError(f"timestamp {value!r} has no time zone; pass an aware datetime, "
                        "e.g. datetime.now(UTC)")
    return value.astimezone(UTC)


def build_rows(keys: Any, labels: Any, timestamps: Any = None) -> list[OutcomeRow]:
    """Validated outcome rows (raises :class:`DataError` naming the problem and the fix)."""
    key_list = _as_list(keys, "keys")
    label_list = _as_list(labels, "labels")
    if len(key_list) != len(label_list):
        raise DataError(f"got {len(key_list)} keys but {len(label_list)} labels; pass one "
                        "label per key")
    if timestamps is None:
        now = datetime.now(UTC)
        ts_list: Sequence[datetime] = [now] * len(key_list)
    else:
        raw = _as_list(timestamps, "timestamps")
        if len(raw) == 1 and len(key_list) > 1:
            raw = raw * len(key_list)
        if len(raw) != len(key_list):
            raise DataError(f"got {len(key_list)} keys but {len(raw)} timestamps; pass one "
                            "timestamp per key, or a single one for all")
        ts_list = [_timestamp(t) for t in raw]
    rows = []
    for key, label, ts in zip(key_list, label_list, ts_list, strict=True):
        norm = normalize_key(key)
        if norm is None:
            raise DataError(f"outcome key {key!r} is empty/None/NaN; pass the join key you "
                            "logged (the id_column value or the prediction id)")
        text, value = _label_json(label)
        rows.append(OutcomeRow(join_key=norm, label=text, label_value=value, ts=ts))
    return rows


def _unknown_model(conn: Any, model: str) -> UnknownModelError:
    from sqlalchemy import select

    from lifecycle.storage.tables import ModelRow

    known = list(conn.execute(select(ModelRow.name).order_by(ModelRow.name)).scalars())
    close = difflib.get_close_matches(model, known, n=3, cutoff=0.6)
    hint = (f"did you mean {' or '.join(repr(c) for c in close)}? " if close
            else f"known models: {', '.join(known[:20])}; " if known
            else "no model has logged predictions yet; ")
    return UnknownModelError(
        f"log_outcomes: unknown model {model!r} ({hint}labels are refused so that a typo does "
        f"not create a new model). Use the name given to lifecycle.monitor, configure "
        f"[models.{model}] in lifecycle.toml, or pass create=True to record labels before "
        "its first prediction"
    )


def write_outcomes(engine: Any, model: str, rows: Sequence[OutcomeRow],
                   received_at: datetime | None = None, *, create: bool = True) -> int:
    """Upsert ``rows`` for ``model`` in one transaction; returns distinct keys written.

    ``create=False``: a model with no row in ``models`` raises :class:`UnknownModelError`
    (naming close matches) and nothing is written.
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.begin() as conn:
            if create:
                model_id = model_id_for(conn, model)
            else:
                found = existing_model_id(conn, model)
                if found is None:
                    raise _unknown_model(conn, model)
                model_id = found
            return upsert_outcomes(conn, model_id, rows, received_at=received_at)
    except SQLAlchemyError as exc:
        text = str(exc).lower()
        url = redact_url(engine.url)
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            raise SchemaOutOfDateError(
                f"the database {url} has no lifecycle schema; run `lifecycle db upgrade`"
            ) from exc
        raise DatabaseError(f"could not write outcomes to {url}: "
                            f"{str(exc).splitlines()[0]}; check the database and retry") from exc

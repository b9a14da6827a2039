"""One hour's profiles, built from the Arrow parts of that hour (never a DataFrame of inputs).

:func:`build_hour` reads the hour ``[h, h + 1 h)`` of a model through the one batch reader
(:func:`lifecycle.storage.batch_source.read_parts`, so archived rows count too), keeps the
served rows (roles ``champion`` and ``unmanaged``), and feeds each feature's column, part by
part, as a numpy array to its accumulator (``sketches.py``). One read serves every kind:
``data`` (inputs), ``prediction`` (outputs) and ``label`` (the outcomes of the hour's join
keys known now, fetched by key; their coverage is stored in the label profile's summary). A
feature absent from a batch counts as missing for that batch's rows.

The result (:class:`HourProfile`) is plain data: a tuple of
:class:`~lifecycle.storage.profile_repo.ProfileRow`, one per kind, ready to upsert.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.capture.records import normalize_key
from lifecycle.drift_check import numeric_values
from lifecycle.rollup.plan import FeaturePlan, KindPlan, RollupPlan
from lifecycle.rollup.sketches import CategoricalAccumulator, NumericAccumulator, as_float64
from lifecycle.states import SERVED_ROLES
from lifecycle.storage.batch_source import read_parts
from lifecycle.storage.labelled import decode_label, outcomes_for_keys
from lifecycle.storage.profile_repo import ProfileRow
from lifecycle.storage.types import utcnow
from lifecycle.window_frames import labels_as_frame

__all__ = ["FORMAT", "HOUR", "HourProfile", "build_hour", "pack_sketches", "unpack_sketches"]

HOUR = timedelta(hours=1)
#: ``window_profiles.format`` of the rows written here (summary layout + sketch blob layout).
FORMAT = "rollup-v1"
_ID_PROBE_ROWS = 200
_SERVED = pa.array(list(SERVED_ROLES))

Accumulator = NumericAccumulator | CategoricalAccumulator


@dataclass(frozen=True)
class HourProfile:
    """The profiles of one hour (one row per kind; empty when the hour had no served row)."""

    hour_start: datetime
    n_rows: int
    rows: tuple[ProfileRow, ...]


def pack_sketches(sketches: dict[str, bytes]) -> bytes:
    """Every feature's sketch bytes in one Arrow IPC stream (columns ``feature``, ``sketch``)."""
    table = pa.table({"feature": pa.array(list(sketches), pa.string()),
                      "sketch": pa.array(list(sketches.values()), pa.binary())})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def unpack_sketches(blob: bytes | None) -> dict[str, bytes]:
    """Inverse of :func:`pack_sketches`."""
    if not blob:
        return {}
    with pa.ipc.open_stream(io.BytesIO(blob)) as reader:
        table = reader.read_all()
    return dict(zip(table.column("feature").to_pylist(), table.column("sketch").to_pylist(),
                    strict=True))


def _is_time(t: pa.DataType) -> bool:
    return bool(pa.types.is_temporal(t))


def _inferred_kind(name: str, t: pa.DataType, categorical: Iterable[str]) -> str | None:
    """Kind of an inferred feature from its stored type; None: not a feature (yet)."""
    if name in categorical:
        return "categorical"
    if pa.types.is_null(t) or _is_time(t):
        return None
    if pa.types.is_boolean(t) or pa.types.is_string(t) or pa.types.is_large_string(t) or (
            pa.types.is_dictionary(t)):
        return "categorical"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    return None


def _join_key_column(column: pa.ChunkedArray, keys: pa.ChunkedArray) -> bool:
    """Whether ``column`` holds the rows' join keys (the capture's ``id_column``)."""
    t = column.type
    if pa.types.is_boolean(t) or _is_time(t):
        return False
    values = column.slice(0, _ID_PROBE_ROWS).to_pylist()
    wanted = keys.slice(0, _ID_PROBE_ROWS).to_pylist()
    pairs = [(normalize_key(v), k) for v, k in zip(values, wanted, strict=False)
             if v is not None and not (isinstance(v, float) and v != v)]
    return bool(pairs) and len(pairs) * 2 >= len(wanted) and all(a == b for a, b in pairs)


class _KindBuilder:
    """Accumulates one kind of profile over the parts of an hour."""

    def __init__(self, plan: RollupPlan, kind: KindPlan, *, inferred_categorical: Iterable[str],
                 only: tuple[str, ...] = (), exclude: frozenset[str] = frozenset()) -> None:
        self.plan, self.kind = plan, kind
        self.categorical = frozenset(inferred_categorical)
        self.only, self.exclude = only, exclude
        self.acc: dict[str, Accumulator] = {}
        self.skipped: set[str] = set()
        self.rows = 0
        for feat in kind.features or ():
            self.acc[feat.name] = self._make(feat)

    def _make(self, feat: FeaturePlan) -> Accumulator:
        if feat.kind == "numeric":
            edges = None if feat.bin_edges is None else pa.array(feat.bin_edges).to_numpy()
            return NumericAccumulator(self.plan.k, edges, feat.minimum, feat.maximum)
        return CategoricalAccumulator(self.plan.category_cap, self.plan.lg_max_k)

    def _discover(self, table: pa.Table, keys: pa.ChunkedArray | None) -> None:
        """New inferred features of this part (no planned features)."""
        for name in table.column_names:
            if name in self.acc or name in self.skipped or name in self.exclude:
                continue
            if self.only and name not in self.only:
                continue
            column = table.column(name)
            kind = _inferred_kind(name, column.type, self.categorical)
            if kind is None:
                if _is_time(column.type):
                    self.skipped.add(name)
                continue  # a null-typed column: decided by a later part
            if keys is not None and _join_key_column(column, keys):
                self.skipped.add(name)
                continue
            acc = self._make(FeaturePlan(name, kind))
            acc.add_missing(self.rows)
            self.acc[name] = acc

    def add(self, table: pa.Table | None, n: int, keys: pa.ChunkedArray | None = None,
            ) -> None:
        """Add a part of ``n`` rows (``table`` None: no column was stored for them)."""
        if table is not None and self.kind.features is None:
            self._discover(table, keys)
        names = set() if table is None else set(table.column_names)
        for name, acc in self.acc.items():
            if name not in names:
                acc.add_missing(n)
            elif isinstance(acc, NumericAccumulator):
                acc.add(*as_float64(table.column(name)))  # type: ignore[union-attr]
            else:
                acc.add(table.column(name))  # type: ignore[union-attr]
        self.rows += n

    def row(self, hour_start: datetime, n_rows: int, extra: dict[str, Any] | None = None,
            ) -> ProfileRow:
        features: dict[str, Any] = {}
        sketches: dict[str, bytes] = {}
        for name, acc in self.acc.items():
            doc, blob = acc.to_record()
            features[name] = doc
            if blob is not None:
                sketches[name] = blob
        summary = {"format": FORMAT, "n_rows": n_rows, "reference_digest":
                   self.kind.reference_digest, "features": features, **(extra or {})}
        return ProfileRow(hour_start, self.kind.kind, n_rows, self.kind.reference_digest,
                          FORMAT, summary, pack_sketches(sketches) if sketches else None)


def _served(outputs: pa.Table) -> pa.Array | None:
    """Mask of the served rows, or None when every row is served."""
    if "_role" not in outputs.column_names:
        return None
    mask = pc.is_in(outputs.column("_role"), value_set=_SERVED)
    return None if pc.all(mask).as_py() else mask


def _outputs_only(outputs: pa.Table) -> pa.Table:
    return outputs.select([c for c in outputs.column_names if not c.startswith("_")])


def build_hour(engine: Engine, model_id: int, plan: RollupPlan, hour_start: datetime, *,
               now: datetime | None = None) -> HourProfile:
    """Profiles of the served rows of ``[hour_start, hour_start + 1 h)`` (see module doc)."""
    data_plan, pred_plan, label_plan = (plan.kind(k) for k in ("data", "prediction", "label"))
    data = None if data_plan is None else _KindBuilder(
        plan, data_plan, inferred_categorical=plan.categorical, only=plan.features,
        exclude=frozenset(plan.not_features))
    pred = None if pred_plan is None else _KindBuilder(
        plan, pred_plan,
        inferred_categorical=("prediction",) if plan.task == "classification" else ())
    keys: list[pa.ChunkedArray] = []
    n_rows = 0
    for part in read_parts(engine, model_id, hour_start, hour_start + HOUR,
                           with_inputs=data is not None):
        outputs, inputs = part.outputs, part.inputs
        mask = _served(outputs)
        if mask is not None:
            outputs = outputs.filter(mask)
            inputs = None if inputs is None else inputs.filter(mask)
        if not outputs.num_rows:
            continue
        n_rows += outputs.num_rows
        join_keys = (outputs.column("_join_key") if "_join_key" in outputs.column_names
                     else None)
        if data is not None:
            data.add(inputs, outputs.num_rows, join_keys)
        if pred is not None:
            pred.add(_outputs_only(outputs), outputs.num_rows)
        if label_plan is not None and join_keys is not None:
            keys.append(join_keys)
    if not n_rows:
        return HourProfile(hour_start, 0, ())
    rows = []
    if data is not None:
        rows.append(data.row(hour_start, n_rows))
    if pred is not None:
        rows.append(pred.row(hour_start, n_rows))
    if label_plan is not None:
        rows.append(_label_row(engine, model_id, plan, label_plan, hour_start, n_rows, keys,
                               now or utcnow()))
    return HourProfile(hour_start, n_rows, tuple(rows))


def _label_row(engine: Engine, model_id: int, plan: RollupPlan, kind: KindPlan,
               hour_start: datetime, n_rows: int, keys: list[pa.ChunkedArray],
               as_of: datetime) -> ProfileRow:
    """The hour's labels known at ``as_of`` (joined by key, as ``storage/labelled.py`` does)."""
    key_list = [k for chunk in keys for k in chunk.to_pylist()]
    with Session(engine) as session:
        found = outcomes_for_keys(session, model_id, list(dict.fromkeys(key_list)), as_of,
                                  columns=("label_text", "label_value"))
    by_key = {k: (t, v) for k, t, v in zip(found["join_key"], found["label_text"],
                                            found["label_value"], strict=True)}
    labelled = [by_key[k] for k in key_list if k in by_key]
    frame = pd.DataFrame({"label": [decode_label(t) for t, _ in labelled],
                          "label_value": pd.to_numeric(pd.Series([v for _, v in labelled],
                                                                 dtype=object),
                                                       errors="coerce")})
    labels = labels_as_frame(frame, plan.task)["label"]
    feats = kind.features
    if feats is None:
        feats = (FeaturePlan("label", "categorical" if labels.dtype == object  # noqa: E721
                             else "numeric"),)
        kind = KindPlan(kind.kind, kind.reference_digest, feats)
    builder = _KindBuilder(plan, kind, inferred_categorical=())
    for name, acc in builder.acc.items():
        if name != "label":
            acc.add_missing(len(labels))
        elif isinstance(acc, NumericAccumulator):
            acc.add(*numeric_values(labels))
        else:
            acc.add(pa.array([None if v is None else str(v) for v in labels], pa.string()))
    coverage = {"n_predictions": n_rows, "n_labelled": len(labelled),
                "coverage": len(labelled) / n_rows if n_rows else None,
                "as_of": as_of.isoformat()}
    return builder.row(hour_start, n_rows, {"labels": coverage})

"""Set a model's reference profiles: the one path the CLI, the seed and the demo take.

:func:`set_reference` profiles either a DataFrame (a training file, the demo's training
data) or a window of logged predictions, with the model's drift policy, and stores each profile
as the model's active one of its kind (``data``; from a window also ``prediction`` and, when
the window has labels, ``label``) in **one** transaction. Identifier columns are never
profiled: ``[models.NAME] id_column``, ``identifier_columns``, ``timestamp_columns``, date/time
columns, and from a window the capture's ``id_column`` (see :mod:`lifecycle.jobs.drift`).
Retraining will set the new model's reference through the same function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import ModelSettings
from lifecycle.drift.profile import ReferenceProfile
from lifecycle.drift_check import build_profile
from lifecycle.errors import DataError
from lifecycle.storage.drift_repo import save_profile
from lifecycle.storage.models_repo import get_model, get_or_create_model
from lifecycle.storage.window import load_window
from lifecycle.window_frames import is_time_column, label_frame, window_frames

__all__ = ["KINDS", "ReferenceSet", "set_reference"]

KINDS = ("data", "prediction", "label")


@dataclass(frozen=True)
class ReferenceSet:
    """The profiles stored by :func:`set_reference`: by kind, their row ids, the kinds that
    could not be profiled (and why), and the source text stored with them."""

    profiles: dict[str, ReferenceProfile]
    ids: dict[str, int]
    skipped: dict[str, str]
    source: str


def _frame_columns(df: pd.DataFrame, ms: ModelSettings, columns: Sequence[str],
                   what: str) -> pd.DataFrame:
    wanted = list(columns) or list(ms.features)
    if wanted:
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            raise DataError(f"{what} lacks column(s) {missing}; columns: "
                            f"{[str(c) for c in df.columns]}")
        named = sorted(set(wanted) & ms.not_features)
        if named:
            raise DataError(
                f"{named} are identifier or timestamp columns of model {ms.name!r} "
                f"([models.{ms.name}] id_column / identifier_columns / timestamp_columns), "
                "never drift features; leave them out"
            )
        return df[wanted]

    keep = [c for c in df.columns if str(c) not in ms.not_features
            and not is_time_column(df[c])]
    return df[keep]


def set_reference(
    engine: Engine,
    ms: ModelSettings,
    data: pd.DataFrame | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    columns: Sequence[str] = (),
    categorical: Iterable[str] = (),
    kinds: Sequence[str] = KINDS,
    now: datetime | None = None,
) -> ReferenceSet:
    """Profile ``data`` (a DataFrame) or the logged window ``[since, until)`` of model
    ``ms.name`` and store the profiles as its active references.

    Parameters
    ----------
    engine
        A migrated database.
    ms
        The model's settings (``Settings.model(name)``): name, task, features, categorical,
        identifier columns and the drift policy the profile is built with.
    data
        Reference rows (feature columns). The model is created if it has not logged yet.
        Without ``data``, the window ``[since, until)`` of served traffic is profiled
        (``None`` = open end).
    source
        Stored with each profile (default: describes ``data`` or the window).
    columns
        Feature columns to profile (default: ``ms.features``, else every column that is not
        an identifier).
    categorical
        Columns to treat as categorical, besides ``ms.categorical``.
    kinds
        Which profiles to build from a window (``data`` always; ``prediction``; ``label``).
    now
        ``created_at`` of the stored rows (default: the wall clock; the demo's clock is
        simulated).

    Raises
    ------
    DataError
        Missing columns, an empty window, a column that cannot be profiled. Nothing is stored.
    UnknownModelError
        A window of a model that has never logged a prediction.
    """

    policy = ms.drift.to_policy()
    cats = set(ms.categorical) | set(categorical)
    profiles: dict[str, ReferenceProfile] = {}
    skipped: dict[str, str] = {}
    if data is not None:
        if since is not None or until is not None:
            raise DataError("set_reference takes either data or a window (since/until)")
        frame = _frame_columns(data, ms, columns, source or "reference data")
        source = source or f"{len(frame)} rows of reference data"
        profiles["data"] = build_profile(frame, categorical=sorted(c for c in cats
                                                                     if c in frame),
                                         policy=policy, meta={"source": source})
    else:
        profiles, skipped = _window_profiles(engine, ms, since, until, columns, cats, kinds,
                                             policy)
        source = source or f"window [{_iso(since)}, {_iso(until)})"
    ids: dict[str, int] = {}
    with Session(engine) as session, session.begin():
        row = (get_or_create_model(session, ms.name, ms.task) if data is not None
               else get_model(session, ms.name))
        for kind, prof in profiles.items():
            ids[kind] = save_profile(session, row.id, prof, kind=kind, source=source,
                                     window_start=since, window_end=until, now=now)
    return ReferenceSet(profiles, ids, skipped, source)


def _iso(ts: datetime | None) -> str:
    return "open" if ts is None else ts.isoformat()


def _window_profiles(
    engine: Engine, ms: ModelSettings, since: datetime | None, until: datetime | None,
    columns: Sequence[str], cats: set[str], kinds: Sequence[str], policy: Any,
) -> tuple[dict[str, ReferenceProfile], dict[str, str]]:

    window = load_window(engine, ms.name, since, until)
    frames = window_frames(window, ms)
    data_df, data_cats = frames["data"]
    if columns:
        data_df = _frame_columns(data_df, ms, columns, f"the logged inputs of {ms.name!r}")
    if len(data_df) == 0:
        raise DataError(f"no served predictions of {ms.name!r} in [{_iso(since)}, "
                        f"{_iso(until)}); choose a window with traffic")
    profiles = {"data": build_profile(data_df, categorical=sorted(
        set(data_cats) | {c for c in cats if c in data_df}), policy=policy)}
    skipped: dict[str, str] = {}
    out_df, out_cats = frames["prediction"]
    if "prediction" in kinds and len(out_df.columns):
        try:
            profiles["prediction"] = build_profile(out_df, categorical=out_cats, policy=policy)
        except DataError as exc:
            skipped["prediction"] = str(exc)
    if "label" in kinds:
        labels = label_frame(engine, ms.name, since, until, ms.task)
        if len(labels):
            try:
                profiles["label"] = build_profile(labels, policy=policy)
            except DataError as exc:
                skipped["label"] = str(exc)
        else:
            skipped["label"] = "no labelled predictions in the window"
    return profiles, skipped

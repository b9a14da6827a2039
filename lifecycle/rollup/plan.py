"""What a rollup summarises for a model: features, their kinds, and the references' bins.

A :class:`RollupPlan` is built once per run (:func:`make_plan`) from the model's settings and
its active reference profiles, then handed to every hour (it is small and picklable, so a
Dask worker gets it with the task and reads nothing but the hour's blobs).

Which columns, and of which kind (the exact path's rules, ``lifecycle/window_frames.py``):

* ``data``: the active ``data`` reference's features with the reference's kinds (a feature
  numeric in the reference is sketched numeric, whatever a batch stored); without a
  reference, ``[models.NAME] features`` (else every logged input), kinds from the stored
  Arrow types (numbers numeric; text, booleans and ``[models.NAME] categorical`` columns
  categorical). Never an identifier: ``id_column``, ``identifier_columns``,
  ``timestamp_columns``, date/time columns, nor the capture's ``id_column`` (an input whose
  values are the rows' join keys).
* ``prediction``: the model outputs (``prediction``, ``proba_<class>``...); ``prediction``
  is categorical for classifiers; the ``prediction`` reference's kinds win.
* ``label``: the labels known at rollup time, only for models that have any outcome; the
  ``label`` reference's kind wins.

With a reference, numeric features also get the exact counts in its PSI bins and outside its
range, and the hour is tagged with the reference's digest.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.drift.profile import NumericProfile, ReferenceProfile
from lifecycle.rollup.sketches import DEFAULT_CATEGORY_CAP, DEFAULT_K, DEFAULT_LG_MAX_K
from lifecycle.storage.drift_repo import load_active_profiles
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.tables import Outcome

__all__ = ["KINDS", "FeaturePlan", "KindPlan", "RollupPlan", "kind_plan", "make_plan",
           "without_features"]

#: Profile kinds, in the order an hour builds them.
KINDS = ("data", "prediction", "label")


@dataclass(frozen=True)
class FeaturePlan:
    """One feature's kind and, for a numeric one with a reference, its bins and range."""

    name: str
    kind: str
    bin_edges: tuple[float, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class KindPlan:
    """The features of one profile kind; ``features`` None means: infer from the hour."""

    kind: str
    reference_digest: str | None = None
    features: tuple[FeaturePlan, ...] | None = None


@dataclass(frozen=True)
class RollupPlan:
    """Everything an hour's rollup needs besides its rows (see the module docstring)."""

    model: str
    task: str | None
    kinds: tuple[KindPlan, ...]
    features: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    not_features: tuple[str, ...] = ()
    k: int = DEFAULT_K
    category_cap: int = DEFAULT_CATEGORY_CAP
    lg_max_k: int = DEFAULT_LG_MAX_K

    def kind(self, name: str) -> KindPlan | None:
        return next((p for p in self.kinds if p.kind == name), None)


def without_features(reference: ReferenceProfile, drop: frozenset[str]) -> ReferenceProfile:
    """``reference`` without the features in ``drop`` (the same object when it has none).

    The rollup tags each hour with the digest of this profile, and the drift check of the
    rollup path compares against this profile, so both agree on the digest (exact bin counts
    are used) and on the features (the exact path drops the same identifier columns).
    """
    if not drop & set(reference.features):
        return reference
    return dataclasses.replace(reference, features={
        k: v for k, v in reference.features.items() if k not in drop})


def kind_plan(kind: str, reference: ReferenceProfile | None,
              drop: frozenset[str] = frozenset()) -> KindPlan:
    """The plan of ``kind``: the reference's features (minus ``drop``) with bins, or
    inferred from each hour when there is no reference."""
    if reference is None:
        return KindPlan(kind)
    reference = without_features(reference, drop)
    feats = []
    for name, prof in reference.features.items():
        if isinstance(prof, NumericProfile):
            feats.append(FeaturePlan(name, "numeric", tuple(float(e) for e in prof.bin_edges),
                                     float(prof.minimum), float(prof.maximum)))
        else:
            feats.append(FeaturePlan(name, "categorical"))
    return KindPlan(kind, reference.digest(), tuple(feats))


def make_plan(session: Session, settings: Settings, model: str, *, k: int = DEFAULT_K,
              category_cap: int = DEFAULT_CATEGORY_CAP) -> tuple[int, RollupPlan]:
    """``(model_id, plan)`` of ``model`` from its settings and active reference profiles.

    Raises :class:`~lifecycle.errors.UnknownModelError` for an unknown model.
    """
    ms = settings.model(model)
    row = get_model(session, model)
    profiles = load_active_profiles(session, row.id)
    drop = frozenset(ms.not_features)
    kinds = [kind_plan("data", profiles["data"][1] if "data" in profiles else None, drop),
             kind_plan("prediction", profiles["prediction"][1] if "prediction" in profiles
                       else None)]
    has_labels = session.scalar(select(Outcome.id).where(Outcome.model_id == row.id).limit(1))
    if has_labels is not None:
        kinds.append(kind_plan("label", profiles["label"][1] if "label" in profiles else None))
    plan = RollupPlan(model=model, task=ms.task or row.task, kinds=tuple(kinds),
                      features=tuple(ms.features), categorical=tuple(ms.categorical),
                      not_features=tuple(sorted(drop)), k=k, category_cap=category_cap)
    return int(row.id), plan

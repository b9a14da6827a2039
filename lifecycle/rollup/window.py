"""A window's hours merged into the pure core's summaries (``lifecycle/drift/summary.py``).

:func:`load_window_summary` reads the stored hourly profiles of a window, merges them per
feature, and converts each merged feature into what the drift statistics consume:

* numeric: a :class:`~lifecycle.drift.summary.NumericSummary`. The hours' KLL sketches are
  merged (DataSketches ``merge``: the result is a KLL sketch of the union, same ``k``, same
  error). ``points`` are the merged sketch's quantiles at ``grid`` evenly spaced ranks
  ``0, 1/(grid-1), ..., 1`` (default 2,049) plus the exact minimum and maximum (duplicates
  removed); ``cdf[i] = sketch.get_cdf(points, inclusive=True)[i]``, the estimate of
  ``P(X <= points[i])``. Its bound::

      rank_error = eps + step
      eps  = sketch.normalized_rank_error(False)   (0 when the sketch kept every value)
      step = max_i (F_lt(points[i+1]) - F_le(points[i]))

  ``eps`` is DataSketches' normalised rank error at 99% confidence (k = 800: 0.35%);
  ``step`` is the largest estimated mass strictly between two neighbouring points (about
  ``1/(grid-1)`` = 0.05% for continuous data), what the CDF between grid points can miss.
  Counts (``n``, ``n_missing``, ``n_infinite``), ``minimum``/``maximum``, ``total`` and
  ``total_sq`` are exact sums over the hours. The exact reference-bin counts (``bin_counts``,
  ``n_below``, ``n_above``) are filled only when EVERY merged hour was rolled up against the
  reference passed in (same digest); otherwise they are None and the statistics use the
  sketch with its bound.
* categorical: a :class:`~lifecycle.drift.summary.CategoricalSummary`, exact
  (``count_error = 0``) when every hour kept exact counts; when an hour was past the
  cardinality cap, the hours are merged into one frequent-items sketch and ``counts`` are its
  estimates, each within ``count_error`` (the merged sketch's ``upper - lower`` bound).

Which hours count (:class:`WindowSummary`): ``hours`` were merged; ``missing_hours`` have
served traffic (``traffic_hourly``) but no usable profile: none stored, or a stale one (it
covers fewer rows than ``traffic_hourly`` counts now - batches that arrived after the rollup
- or lacks a feature of the reference, or has it with another kind, or an unknown format);
``other_reference_hours`` were merged but rolled up against another reference (the reason
exact bin counts are None). Re-running the rollup over those hours fixes both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import datasketches as ds
import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lifecycle.config import Settings
from lifecycle.drift.profile import NumericProfile, ReferenceProfile
from lifecycle.drift.summary import CategoricalSummary, NumericSummary, Summary
from lifecycle.errors import DataError
from lifecycle.rollup.hourly import FORMAT, unpack_sketches
from lifecycle.rollup.sketches import (
    frequent_from_bytes,
    frequent_offset,
    frequent_sketch,
    kll_from_bytes,
)
from lifecycle.storage.models_repo import get_model
from lifecycle.storage.profile_repo import ProfileRow, load_profiles, served_traffic

__all__ = ["DEFAULT_GRID", "WindowSummary", "load_window_summary", "merge_profiles",
           "numeric_summary"]

#: Ranks at which a merged KLL sketch is read into a NumericSummary.
DEFAULT_GRID = 2049


@dataclass(frozen=True)
class WindowSummary:
    """A window's features merged from its hourly profiles (see the module docstring)."""

    features: dict[str, Summary]
    n_rows: int
    hours: tuple[datetime, ...]
    missing_hours: tuple[datetime, ...]
    rank_error: float
    other_reference_hours: tuple[datetime, ...] = ()
    reference_digest: str | None = None
    kind: str = "data"
    labels: Mapping[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every hour with served traffic was merged."""
        return not self.missing_hours


def numeric_summary(sketch: Any, counts: Mapping[str, Any], grid: int = DEFAULT_GRID,
                    ) -> NumericSummary:
    """A merged KLL ``sketch`` plus exact ``counts`` as a NumericSummary (module docstring)."""
    n, n_missing, n_infinite = (int(counts.get(k, 0)) for k in ("n", "n_missing",
                                                                 "n_infinite"))
    bins = counts.get("bin_counts")
    extra: dict[str, Any] = {}
    if bins is not None:
        extra = {"reference_digest": counts.get("reference_digest"),
                 "bin_counts": np.asarray(bins, dtype=np.int64),
                 "n_below": int(counts["n_below"]), "n_above": int(counts["n_above"])}
    if sketch is None or sketch.is_empty():
        return NumericSummary(np.empty(0), np.empty(0), 0, n_missing, n_infinite,
                              float("nan"), float("nan"), 0.0, **extra)
    lo, hi = float(sketch.get_min_value()), float(sketch.get_max_value())
    ranks = np.linspace(0.0, 1.0, grid)
    q = np.asarray(sketch.get_quantiles(ranks.tolist()), dtype=np.float64)
    points = np.unique(np.concatenate(([lo], q, [hi])))
    le = np.asarray(sketch.get_cdf(points.tolist(), inclusive=True)[:-1], dtype=np.float64)
    lt = np.asarray(sketch.get_cdf(points.tolist(), inclusive=False)[:-1], dtype=np.float64)
    cdf = np.minimum(np.maximum.accumulate(le), 1.0)
    cdf[-1] = 1.0
    step = float(np.max(lt[1:] - cdf[:-1])) if points.size > 1 else 0.0
    eps = float(sketch.normalized_rank_error(False)) if sketch.is_estimation_mode() else 0.0
    return NumericSummary(points, cdf, n, n_missing, n_infinite, lo, hi,
                          min(eps + max(step, 0.0), 1.0), total=float(counts["sum"]),
                          total_sq=float(counts["sum_sq"]), **extra)


def _add(total: dict[str, Any], doc: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        value = doc.get(key)
        total[key] = total.get(key, 0) + (float("nan") if value is None and key in (
            "sum", "sum_sq") else (value or 0))


def _merge_numeric(name: str, rows: list[ProfileRow], blobs: list[dict[str, bytes]],
                   exact_bins: bool, digest: str | None, grid: int) -> NumericSummary:
    total: dict[str, Any] = {}
    sketch = None
    bins: np.ndarray | None = None
    for row, sk in zip(rows, blobs, strict=True):
        doc = row.summary["features"][name]
        _add(total, doc, ("n", "n_missing", "n_infinite", "sum", "sum_sq"))
        if exact_bins:
            b = np.asarray(doc["bin_counts"], dtype=np.int64)
            bins = b if bins is None else bins + b
            _add(total, doc, ("n_below", "n_above"))
        if name in sk:
            part = kll_from_bytes(sk[name])
            if sketch is None:
                sketch = part
            else:
                sketch.merge(part)
    total.setdefault("sum", 0.0)
    total.setdefault("sum_sq", 0.0)
    if exact_bins and bins is not None:
        total["bin_counts"], total["reference_digest"] = bins, digest
    return numeric_summary(sketch, total, grid)


def _merge_categorical(name: str, rows: list[ProfileRow],
                       blobs: list[dict[str, bytes]]) -> CategoricalSummary:
    counts: dict[str, int] = {}
    n = n_missing = 0
    sketches = []
    for row, sk in zip(rows, blobs, strict=True):
        doc = row.summary["features"][name]
        n += int(doc["n"])
        n_missing += int(doc["n_missing"])
        if doc.get("sketched"):
            sketches.append(frequent_from_bytes(sk[name]))
        else:
            for label, c in doc.get("counts", {}).items():
                counts[label] = counts.get(label, 0) + int(c)
    if not sketches:
        order = sorted(counts, key=lambda c: (-counts[c], c))
        return CategoricalSummary(tuple(order), np.array([counts[c] for c in order],
                                                         dtype=np.int64), n, n_missing)
    merged = sketches[0]
    for other in sketches[1:]:
        merged.merge(other)
    if counts:
        merged.merge(frequent_sketch(counts))
    items = merged.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    return CategoricalSummary(tuple(str(i[0]) for i in items),
                              np.array([int(i[1]) for i in items], dtype=np.int64), n,
                              n_missing, count_error=frequent_offset(merged))


def _stale(row: ProfileRow, wanted: Mapping[str, str], traffic: int) -> bool:
    if row.format != FORMAT or row.n_rows < traffic:
        return True
    feats = row.summary.get("features", {})
    return any(name not in feats or feats[name].get("kind") != kind
               for name, kind in wanted.items())


def merge_profiles(rows: list[ProfileRow], reference: ReferenceProfile | None, *,
                   traffic: Mapping[datetime, int] | None = None, kind: str = "data",
                   grid: int = DEFAULT_GRID) -> WindowSummary:
    """Merge stored hours ``rows`` (one kind) against ``reference`` (module docstring);
    ``traffic`` is ``{hour: served rows}`` (hours with traffic but no usable row are
    reported missing)."""
    traffic = traffic or {}
    digest = reference.digest() if reference is not None else None
    if reference is not None:
        wanted = {name: prof.kind for name, prof in reference.features.items()}
    else:
        wanted = {}
        for row in rows:
            for name, doc in row.summary.get("features", {}).items():
                wanted.setdefault(name, doc.get("kind", ""))
    used = [r for r in rows if not _stale(r, wanted, traffic.get(r.hour_start, 0))]
    have = {r.hour_start for r in used}
    missing = sorted({r.hour_start for r in rows} - have | set(traffic) - have)
    other = tuple(r.hour_start for r in used if digest is None or r.reference_digest != digest)
    exact_bins = reference is not None and not other and bool(used)
    blobs = [unpack_sketches(r.sketches) for r in used]
    features: dict[str, Summary] = {}
    for name, fkind in wanted.items():
        if fkind == "numeric":
            exact = exact_bins and isinstance(reference.features[name], NumericProfile) \
                if reference is not None else False
            features[name] = _merge_numeric(name, used, blobs, exact, digest, grid)
        else:
            features[name] = _merge_categorical(name, used, blobs)
    errors = [f.rank_error for f in features.values() if isinstance(f, NumericSummary)]
    labels: dict[str, Any] = {}
    if kind == "label":
        n_pred = sum(int(r.summary.get("labels", {}).get("n_predictions", 0)) for r in used)
        n_lab = sum(int(r.summary.get("labels", {}).get("n_labelled", 0)) for r in used)
        labels = {"n_predictions": n_pred, "n_labelled": n_lab,
                  "coverage": n_lab / n_pred if n_pred else None}
    return WindowSummary(features=features, n_rows=sum(r.n_rows for r in used),
                         hours=tuple(r.hour_start for r in used), missing_hours=tuple(missing),
                         rank_error=max(errors, default=0.0), other_reference_hours=other,
                         reference_digest=digest, kind=kind, labels=labels)


def load_window_summary(engine: Engine, settings: Settings, model: str, since: datetime,
                        until: datetime, reference: ReferenceProfile | None, *,
                        kind: str = "data", grid: int = DEFAULT_GRID) -> WindowSummary:
    """Merge the stored hours of ``kind`` whose start is in ``[since, until)``.

    ``reference`` fixes the features and their kinds (and which exact bin counts are
    usable); None merges every feature the hours hold. ``settings`` is accepted for the
    model's options (unused today). Raises :class:`~lifecycle.errors.UnknownModelError` for
    an unknown model, :class:`DataError` for ``since >= until``.
    """
    del settings
    if since >= until:
        raise DataError(f"window start {since} must be before its end {until}")
    with Session(engine) as session:
        model_id = get_model(session, model).id
        rows = load_profiles(session, model_id, kind, since, until)
        traffic = served_traffic(session, model_id, since, until)
    return merge_profiles(rows, reference, traffic=traffic, kind=kind, grid=grid)

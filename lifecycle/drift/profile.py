"""Reference profiles: everything a drift check needs from the reference, computed once.

A numeric feature keeps its PSI/Jensen-Shannon bin edges and counts, its range, mean and
standard deviation, and an empirical CDF in one of two forms:

* **exact** - every distinct value with ``le`` (count of reference values <= it) and ``lt``
  (count < it). KS and Wasserstein are then exactly the two-sample statistics.
* **sketch** - when there are more than ``max_points`` distinct values, ``max_points`` order
  statistics at evenly spaced ranks, each with its exact ``le``/``lt`` counts. Between two
  grid points ``q_i < q_j`` the reference CDF is only known to lie in
  ``[le_i / n, lt_j / n]``; the profile states the largest such gap as ``ks_error_bound``
  (about ``1 / (max_points - 1)``) and the matching Wasserstein bound.

A categorical feature keeps its categories (as strings) and counts. Both keep the number of
missing values; a numeric one also the number of infinite values (+/-inf, excluded from every
distribution statistic and compared as the ``infinite_share`` signal).
:class:`ReferenceProfile` serialises to a JSON-safe dict plus one ``.npz`` blob of arrays
(no pickle), which is how the database stores it.

Part of the pure core: standard library and numpy only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.errors import DataError

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_MAX_POINTS",
    "CategoricalProfile",
    "FeatureProfile",
    "NumericProfile",
    "ReferenceProfile",
    "build_categorical_profile",
    "build_numeric_profile",
]

DEFAULT_BINS = 10
DEFAULT_MAX_POINTS = 10_000
PROFILE_FORMAT = 1


@dataclass(frozen=True, eq=False)
class NumericProfile:
    """Reference summary of one numeric feature (see the module docstring)."""

    n: int
    n_missing: int
    minimum: float
    maximum: float
    mean: float
    std: float
    bin_edges: NDArray[np.float64]
    bin_counts: NDArray[np.int64]
    values: NDArray[np.float64]
    le: NDArray[np.int64]
    lt: NDArray[np.int64]
    exact: bool
    ks_error_bound: float
    wasserstein_error_bound: float
    #: Number of +inf / -inf reference values (kept out of every distribution statistic).
    n_infinite: int = 0
    kind: str = "numeric"

    @property
    def n_total(self) -> int:
        """Every reference row: finite, missing and infinite values."""
        return self.n + self.n_missing + self.n_infinite

    def cdf(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Reference CDF ``P(X <= x)`` at sorted or unsorted points ``x``.

        Exact at grid points; between grid points of a sketch, linear interpolation between
        the bounds ``le_i / n`` and ``lt_j / n`` (error at most ``ks_error_bound``).
        """
        v, le, n = self.values, self.le, self.n
        x = np.asarray(x, dtype=np.float64)
        i = np.searchsorted(v, x, side="right") - 1
        if self.exact:
            out = le[np.maximum(i, 0)] / n
            return np.where(i < 0, 0.0, out)
        last = v.size - 1
        cell = np.clip(i, 0, max(last - 1, 0))
        lo = le[:-1] / n
        slope = (self.lt[1:] - le[:-1]) / n / np.diff(v)
        inside = lo[cell] + (x - v[cell]) * slope[cell]
        return np.where(i < 0, 0.0, np.where(i >= last, 1.0, inside))

    def sample_counts(self) -> NDArray[np.int64]:
        """Multiplicity of each stored value (exact profiles only)."""
        return self.le - self.lt

    def to_json(self) -> dict[str, Any]:
        out = {
            "kind": "numeric",
            "n": self.n,
            "n_missing": self.n_missing,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "mean": self.mean,
            "std": self.std,
            "bin_edges": [float(e) for e in self.bin_edges],
            "bin_counts": [int(c) for c in self.bin_counts],
            "exact": self.exact,
            "ks_error_bound": self.ks_error_bound,
            "wasserstein_error_bound": self.wasserstein_error_bound,
            "n_points": int(self.values.size),
        }
        if self.n_infinite:  # only when present, so digests of earlier profiles stay the same
            out["n_infinite"] = self.n_infinite
        return out


@dataclass(frozen=True, eq=False)
class CategoricalProfile:
    """Reference categories (strings, most frequent first) with counts and missing count."""

    categories: tuple[str, ...]
    counts: NDArray[np.int64]
    n_missing: int
    kind: str = "categorical"

    @property
    def n(self) -> int:
        return int(np.sum(self.counts))

    @property
    def n_total(self) -> int:
        return self.n + self.n_missing

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "categories": list(self.categories),
            "counts": [int(c) for c in self.counts],
            "n_missing": self.n_missing,
        }


FeatureProfile = NumericProfile | CategoricalProfile


def _bin_counts(sorted_values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[
    np.int64
]:
    """Counts in bins ``(-inf, e1), [e1, e2), ..., [ek, +inf)`` of sorted finite values."""
    cuts = np.searchsorted(sorted_values, edges, side="left")
    bounds = np.concatenate(([0], cuts, [sorted_values.size]))
    return np.diff(bounds).astype(np.int64)


def build_numeric_profile(
    values: NDArray[np.float64] | Sequence[float] | NumericSample,
    feature: str = "feature",
    *,
    bins: int = DEFAULT_BINS,
    max_points: int | None = DEFAULT_MAX_POINTS,
) -> NumericProfile:
    """Profile one numeric reference feature.

    Parameters
    ----------
    values
        Reference values (NaN = missing) or an already sorted :class:`NumericSample`.
    feature
        Name used in error messages.
    bins
        Number of PSI/Jensen-Shannon bins: inner edges are the reference quantiles at
        ``1/bins, ..., (bins-1)/bins`` (``numpy.quantile``, ``method="linear"``); repeated
        edges (ties) are merged, so a discrete feature may get fewer bins.
    max_points
        Keep the exact CDF when the feature has at most this many distinct values, else a
        sketch of this many order statistics. ``None`` always keeps the exact CDF.

    Raises
    ------
    DataError
        All values missing, or a constant reference (no spread to bin or normalise by).
    """
    if bins < 2:
        raise DataError(f"bins must be >= 2, got {bins}")
    if max_points is not None and max_points < 2:
        raise DataError(f"max_points must be >= 2 or None, got {max_points}")
    sample = values if isinstance(values, NumericSample) else NumericSample.from_values(
        values, feature
    )
    s = sample.sorted_values
    n = s.size
    if n == 0:
        raise DataError(
            f"reference feature {feature!r} has no non-missing values; drop the column or "
            "fill it before setting the reference"
        )
    if s[0] == s[-1]:
        raise DataError(
            f"reference feature {feature!r} is constant ({s[0]!r}); numeric drift statistics "
            "need spread. Declare it categorical (categorical=[...]) or drop it"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: checked just below
        std = float(np.std(s))
    if not (np.isfinite(std) and std > 0.0):
        raise DataError(
            f"reference feature {feature!r} has a standard deviation of {std!r} (values too "
            "close together or too large for float64); rescale it, or declare it categorical"
        )
    edges = np.unique(np.quantile(s, np.arange(1, bins) / bins))
    counts = _bin_counts(s, edges)
    last_of_run = np.empty(n, dtype=bool)
    np.not_equal(s[1:], s[:-1], out=last_of_run[:-1])
    last_of_run[-1] = True
    n_distinct = int(np.count_nonzero(last_of_run))
    if max_points is None or n_distinct <= max_points:
        le = np.flatnonzero(last_of_run).astype(np.int64) + 1
        vals = s[last_of_run]
        lt = np.concatenate(([0], le[:-1])).astype(np.int64)
        exact, ks_err, w_err = True, 0.0, 0.0
    else:
        ranks = np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))
        vals = np.unique(s[ranks])
        le = np.searchsorted(s, vals, side="right").astype(np.int64)
        lt = np.searchsorted(s, vals, side="left").astype(np.int64)
        gaps = (lt[1:] - le[:-1]) / n  # reference mass strictly between grid points
        ks_err = float(gaps.max()) if gaps.size else 0.0
        w_err = float(np.sum(np.diff(vals) * gaps))
        exact = False
    return NumericProfile(
        n=int(n),
        n_missing=sample.n_missing,
        n_infinite=sample.n_infinite,
        minimum=float(s[0]),
        maximum=float(s[-1]),
        mean=float(np.mean(s)),
        std=std,
        bin_edges=edges,
        bin_counts=counts,
        values=vals,
        le=le,
        lt=lt,
        exact=exact,
        ks_error_bound=ks_err,
        wasserstein_error_bound=w_err,
    )


def build_categorical_profile(sample: CategoricalSample, feature: str = "feature") -> (
    CategoricalProfile
):
    """Profile one categorical reference feature (categories ordered by count, then label)."""
    if sample.n == 0:
        raise DataError(
            f"reference feature {feature!r} has no non-missing values; drop the column or "
            "fill it before setting the reference"
        )
    keep = np.asarray(sample.counts) > 0
    cats = [c for c, k in zip(sample.categories, keep, strict=True) if k]
    cnts = np.asarray(sample.counts)[keep]
    order = sorted(range(len(cats)), key=lambda i: (-int(cnts[i]), cats[i]))
    return CategoricalProfile(
        categories=tuple(cats[i] for i in order),
        counts=np.array([cnts[i] for i in order], dtype=np.int64),
        n_missing=sample.n_missing,
    )


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Profiles of every feature of a reference dataset, plus how they were built."""

    features: Mapping[str, FeatureProfile]
    n_rows: int
    bins: int = DEFAULT_BINS
    max_points: int | None = DEFAULT_MAX_POINTS
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(k for k, p in self.features.items() if isinstance(p, NumericProfile))

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(k for k, p in self.features.items() if isinstance(p, CategoricalProfile))

    # -- serialisation -------------------------------------------------------------------

    def to_payload(self) -> tuple[dict[str, Any], bytes]:
        """JSON-safe dict and an ``.npz`` blob of the numeric CDF arrays (no pickle)."""
        arrays: dict[str, NDArray[Any]] = {}
        feats: dict[str, Any] = {}
        for i, (name, prof) in enumerate(self.features.items()):
            entry = prof.to_json()
            if isinstance(prof, NumericProfile):
                entry["array_key"] = f"f{i}"
                arrays[f"f{i}_values"] = prof.values
                arrays[f"f{i}_le"] = prof.le
                arrays[f"f{i}_lt"] = prof.lt
            feats[name] = entry
        doc = {
            "format": PROFILE_FORMAT,
            "n_rows": self.n_rows,
            "bins": self.bins,
            "max_points": self.max_points,
            "meta": dict(self.meta),
            "features": feats,
        }
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        return doc, buf.getvalue()

    @classmethod
    def from_payload(cls, doc: Mapping[str, Any], blob: bytes | None) -> ReferenceProfile:
        """Inverse of :meth:`to_payload`."""
        if doc.get("format") != PROFILE_FORMAT:
            raise DataError(
                f"reference profile format {doc.get('format')!r} is not supported "
                f"(expected {PROFILE_FORMAT}); set the reference again with "
                "`lifecycle reference set`"
            )
        arrays: Mapping[str, NDArray[Any]] = {}
        if blob:
            with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        feats: dict[str, FeatureProfile] = {}
        for name, e in doc["features"].items():
            if e["kind"] == "numeric":
                key = e["array_key"]
                feats[name] = NumericProfile(
                    n=int(e["n"]),
                    n_missing=int(e["n_missing"]),
                    minimum=float(e["minimum"]),
                    maximum=float(e["maximum"]),
                    mean=float(e["mean"]),
                    std=float(e["std"]),
                    bin_edges=np.asarray(e["bin_edges"], dtype=np.float64),
                    bin_counts=np.asarray(e["bin_counts"], dtype=np.int64),
                    values=np.asarray(arrays[f"{key}_values"], dtype=np.float64),
                    le=np.asarray(arrays[f"{key}_le"], dtype=np.int64),
                    lt=np.asarray(arrays[f"{key}_lt"], dtype=np.int64),
                    exact=bool(e["exact"]),
                    ks_error_bound=float(e["ks_error_bound"]),
                    wasserstein_error_bound=float(e["wasserstein_error_bound"]),
                    n_infinite=int(e.get("n_infinite", 0)),  # profiles stored before it: 0
                )
            elif e["kind"] == "categorical":
                feats[name] = CategoricalProfile(
                    categories=tuple(e["categories"]),
                    counts=np.asarray(e["counts"], dtype=np.int64),
                    n_missing=int(e["n_missing"]),
                )
            else:
                raise DataError(f"unknown feature kind {e['kind']!r} in reference profile")
        return cls(
            features=feats,
            n_rows=int(doc["n_rows"]),
            bins=int(doc["bins"]),
            max_points=doc["max_points"],
            meta=dict(doc.get("meta") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """One JSON-safe dict (arrays as base64 ``.npz``), e.g. to save to a file."""
        doc, blob = self.to_payload()
        return {**doc, "arrays_npz_b64": base64.b64encode(blob).decode("ascii")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        blob = base64.b64decode(data.get("arrays_npz_b64") or b"")
        return cls.from_payload(data, blob)

    def digest(self) -> str:
        """SHA-256 over the JSON part and the arrays: identifies this exact profile."""
        doc = {
            "n_rows": self.n_rows,
            "bins": self.bins,
            "max_points": self.max_points,
            "features": {k: p.to_json() for k, p in self.features.items()},
        }
        h = hashlib.sha256(json.dumps(doc, sort_keys=True).encode())
        for prof in self.features.values():
            if isinstance(prof, NumericProfile):
                h.update(prof.values.tobytes())
                h.update(prof.le.tobytes())
                h.update(prof.lt.tobytes())
        return h.hexdigest()

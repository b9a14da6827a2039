"""The pandas edge of the drift engine: ``lifecycle.check_drift`` and profile building.

Turns DataFrame columns into the pure core's samples (numeric: a float64 array with NaN for
missing; categorical: category counts), infers column kinds, validates input (every problem
raises :class:`~lifecycle.errors.DataError` naming the column and the fix) and runs the core.

Column kinds: a column listed in ``categorical`` is categorical; otherwise numeric dtypes
(not bool) are numeric, and bool, ``category``, string dtypes and object columns holding only
strings are categorical. An object column mixing numbers with other values (what a logged
window holds when one batch stored a column as text) is numeric when at least half of its
non-missing values are numbers (``int``/``float``, or text that reads as one; booleans are not
numbers), categorical otherwise. Any other column (datetimes, only dates, bytes...) is
rejected: cast it, or list it in ``categorical`` to compare its values as strings.

Non-numeric values in a numeric feature (text, booleans, dates) never stop a check: they are
read as missing, so they raise the feature's missing share (a drift signal of its own), and
:func:`non_numeric_counts` counts them so the job can report them beside the missing share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from lifecycle.drift.decision import DriftPolicy, decide
from lifecycle.drift.engine import check_profile, feature_statistics, parallel_map
from lifecycle.drift.profile import (
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    build_categorical_profile,
    build_numeric_profile,
)
from lifecycle.drift.report import DriftReport
from lifecycle.drift.sample import CategoricalSample, NumericSample
from lifecycle.errors import DataError

__all__ = [
    "build_profile",
    "categorical_sample",
    "check_drift",
    "infer_kinds",
    "non_numeric_counts",
    "numeric_sample",
    "numeric_values",
]

NUMERIC = "numeric"
CATEGORICAL = "categorical"


def _check_frame(df: Any, what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"{what} must be a pandas DataFrame, got {type(df).__name__}; "
            "wrap arrays with pandas.DataFrame(...)"
        )
    if len(df) == 0:
        raise DataError(
            f"{what} is empty (0 rows); choose a window or file that contains data"
        )
    if len(df.columns) == 0:
        raise DataError(f"{what} has no columns; pass the feature columns to compare")
    if df.columns.has_duplicates:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataError(f"{what} has duplicate column names {dup}; rename them")
    return df


def infer_kinds(
    df: pd.DataFrame, categorical: Iterable[str] | None = None
) -> dict[str, str]:
    """``{column: "numeric" | "categorical"}`` for every column of ``df``.

    Raises :class:`DataError` for columns that are neither (see the module docstring).
    """
    declared = set(categorical or ())
    unknown = sorted(declared - {str(c) for c in df.columns})
    if unknown:
        raise DataError(
            f"categorical names column(s) {unknown} that are not in the reference data; "
            f"columns: {[str(c) for c in df.columns]}"
        )
    kinds: dict[str, str] = {}
    for col in df.columns:
        name = str(col)
        s = df[col]
        dtype = s.dtype
        if name in declared:
            kinds[name] = CATEGORICAL
        elif ptypes.is_bool_dtype(dtype):
            kinds[name] = CATEGORICAL
        elif ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
            kinds[name] = NUMERIC
        elif isinstance(dtype, pd.CategoricalDtype) or ptypes.is_string_dtype(dtype) and (
            dtype != object  # noqa: E721 - pandas string dtypes, not plain object
        ):
            kinds[name] = CATEGORICAL
        elif dtype == object:  # noqa: E721
            inferred = ptypes.infer_dtype(s, skipna=True)
            if inferred in ("string", "boolean"):
                kinds[name] = CATEGORICAL
            elif inferred in _MIXED:
                values, n_invalid = numeric_values(s)
                n_numbers = int(np.count_nonzero(~np.isnan(values)))
                kinds[name] = NUMERIC if n_numbers >= n_invalid and n_numbers else CATEGORICAL
            elif inferred == "empty":
                raise DataError(
                    f"column {name!r} has no non-missing values in the reference; drop it "
                    "or fill it before checking drift"
                )
            else:
                raise DataError(
                    f"column {name!r} has dtype object holding {inferred} values, which is "
                    "neither numeric nor categorical; cast it to a numeric dtype, or list it "
                    f"in categorical=[{name!r}] to compare its values as strings"
                )
        else:
            raise DataError(
                f"column {name!r} has dtype {dtype} which drift checks do not support; "
                f"convert it to numbers, or list it in categorical=[{name!r}]"
            )
    return kinds


#: ``pandas.api.types.infer_dtype`` results of object columns that may hold numbers.
_MIXED = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "mixed-integer",
                    "mixed"})


def numeric_values(series: pd.Series) -> tuple[np.ndarray, int]:
    """A column as float64 (NaN = missing) and the number of non-numeric values in it.

    Numbers (and text that reads as a number, ``"2.5"``, ``"inf"``) are kept; every other
    non-missing value - other text, booleans, dates - becomes NaN and is counted as
    non-numeric. A numeric dtype is converted as is (no value is non-numeric).
    """
    dtype = series.dtype
    if ptypes.is_numeric_dtype(dtype) and not (
        ptypes.is_bool_dtype(dtype) or ptypes.is_complex_dtype(dtype)
    ):
        try:
            return series.to_numpy(dtype=np.float64, na_value=np.nan), 0
        except (TypeError, ValueError, OverflowError):
            pass
    present = series.notna().to_numpy()
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.DatetimeTZDtype) or (
        ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype)
    ):
        values = np.full(len(series), np.nan)
    else:
        candidates = series.astype(object)
        if dtype == object:  # noqa: E721 - booleans are not numbers (to_numeric reads True as 1)
            is_bool = np.fromiter((isinstance(v, bool | np.bool_) for v in candidates),
                                  dtype=bool, count=len(candidates))
            candidates = candidates.where(~is_bool, None)
        try:
            values = pd.to_numeric(candidates, errors="coerce").to_numpy(dtype=np.float64,
                                                                           na_value=np.nan)
        except (OverflowError, TypeError, ValueError):  # e.g. an int beyond float range
            values = np.fromiter((_to_float(v) for v in candidates), dtype=np.float64,
                                 count=len(candidates))
    return values, int(np.count_nonzero(present & np.isnan(values)))


def _to_float(value: Any) -> float:
    if value is None or isinstance(value, bool | np.bool_):
        return np.nan
    if isinstance(value, int | np.integer):
        try:
            return float(value)
        except OverflowError:
            return np.inf if value > 0 else -np.inf
    if isinstance(value, float | np.floating | str):
        try:
            return float(value)
        except ValueError:
            return np.nan
    return np.nan


def numeric_sample(series: pd.Series, name: str) -> NumericSample:
    """The sorted finite values of a numeric column (NaN/None/NA and non-numeric = missing)."""
    return NumericSample.from_values(numeric_values(series)[0], name)


def non_numeric_counts(frame: pd.DataFrame, profile: ReferenceProfile) -> dict[str, int]:
    """``{feature: n}`` of the non-numeric values in each numeric feature of ``frame`` (those
    with at least one); :func:`numeric_sample` counts them as missing."""
    by_name = {str(c): c for c in frame.columns}
    out: dict[str, int] = {}
    for name, prof in profile.features.items():
        if prof.kind == NUMERIC and name in by_name:
            n = numeric_values(frame[by_name[name]])[1]
            if n:
                out[name] = n
    return out


def categorical_sample(series: pd.Series, name: str) -> CategoricalSample:
    """Counts of a categorical column; labels become strings (``str(value)``)."""
    n_missing = int(series.isna().sum())
    counts = series.value_counts(dropna=True, sort=False)
    labels = [str(v) for v in counts.index]
    values = counts.to_numpy(dtype=np.int64)
    if len(set(labels)) != len(labels):  # e.g. 1 and "1" in one object column
        merged: dict[str, int] = {}
        for lbl, cnt in zip(labels, values, strict=True):
            merged[lbl] = merged.get(lbl, 0) + int(cnt)
        labels = list(merged)
        values = np.array([merged[k] for k in labels], dtype=np.int64)
    return CategoricalSample(tuple(labels), values, n_missing)


def _profile_one(
    series: pd.Series, name: str, kind: str, bins: int, max_points: int | None
) -> NumericProfile | CategoricalProfile:
    if kind == NUMERIC:
        return build_numeric_profile(
            numeric_sample(series, name), name, bins=bins, max_points=max_points
        )
    return build_categorical_profile(categorical_sample(series, name), name)


def build_profile(
    reference: pd.DataFrame,
    *,
    categorical: Iterable[str] | None = None,
    policy: DriftPolicy | None = None,
    exact: bool = False,
    meta: Mapping[str, Any] | None = None,
) -> ReferenceProfile:
    """Profile every column of ``reference`` (see :mod:`lifecycle.drift.profile`).

    ``exact=True`` keeps every distinct value (what a raw-to-raw check uses); otherwise at
    most ``policy.max_points`` per numeric feature are kept, the form that is stored.
    """
    policy = policy or DriftPolicy()
    reference = _check_frame(reference, "reference data")
    kinds = infer_kinds(reference, categorical)
    max_points = None if exact else policy.max_points
    cols = list(reference.columns)
    def job(col: Any) -> Callable[[], NumericProfile | CategoricalProfile]:
        return lambda: _profile_one(reference[col], str(col), kinds[str(col)], policy.bins,
                                    max_points)

    profiles = parallel_map([job(c) for c in cols])
    return ReferenceProfile(
        features={str(c): p for c, p in zip(cols, profiles, strict=True)},
        n_rows=len(reference),
        bins=policy.bins,
        max_points=max_points,
        meta=dict(meta or {}),
    )


def _current_columns(current: pd.DataFrame, features: Sequence[str]) -> dict[str, Any]:
    by_name = {str(c): c for c in current.columns}
    missing = [f for f in features if f not in by_name]
    if missing:
        raise DataError(
            f"current data lacks column(s) {missing} present in the reference; log them, or "
            "compare only shared columns (select them on both sides)"
        )
    return by_name


def _sample_for(series: pd.Series, name: str, kind: str) -> NumericSample | CategoricalSample:
    if kind == NUMERIC:
        return numeric_sample(series, name)
    return categorical_sample(series, name)


def check_drift(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    *,
    categorical: Iterable[str] | None = None,
    tests: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    policy: DriftPolicy | None = None,
    kind: str = "data",
    importances: Mapping[str, float] | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference`` feature by feature.

    Parameters
    ----------
    reference
        A DataFrame (every column is a feature) or a stored :class:`ReferenceProfile`.
    current
        A DataFrame with at least the reference's columns (extra columns are ignored).
    categorical
        Columns to treat as categorical regardless of dtype (DataFrame reference only; a
        profile already fixes each feature's kind).
    tests
        Distribution statistics that vote, e.g. ``["psi", "ks"]`` (split by kind) or
        ``{"numeric": [...], "categorical": [...]}``; unknown names raise listing the valid
        ones. Default: the policy's.
    policy
        :class:`~lifecycle.drift.DriftPolicy` (thresholds, alpha, min_samples, overrides).
    kind
        Label stored on the report: ``data``, ``prediction`` or ``label``.
    importances
        Optional ``{feature: importance}`` of the model (a fitted estimator's
        ``feature_importances_``, or a permutation estimate from logged traffic), shown
        beside each feature's effect size; the ranking itself is by effect size.

    Returns
    -------
    DriftReport
        Per-feature results, overall verdict, share of drifted features;
        ``ranked_features`` (drifting and warning features, largest effect first),
        ``to_frame()`` / ``to_dict()``. Infinite values (+/-inf) are counted as the
        ``infinite_share`` signal, never an error.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    >>> cur = pd.DataFrame({"x": rng.normal(1.0, 1.0, 5000), "c": rng.choice(["a", "b"], 5000)})
    >>> report = check_drift(ref, cur)
    >>> report.verdict, report.drifted_features
    ('drift', ('x',))
    """
    policy = (policy or DriftPolicy()).with_tests(tests)
    current = _check_frame(current, "current data")
    if isinstance(reference, ReferenceProfile):
        if categorical is not None:
            declared = set(categorical)
            wrong = sorted(f for f in declared if f in reference.features
                           and reference.features[f].kind != CATEGORICAL)
            if wrong:
                raise DataError(
                    f"categorical names {wrong}, which the stored profile holds as numeric; "
                    "set a new reference with them declared categorical"
                )
        by_name = _current_columns(current, list(reference.features))
        samples = {
            name: (lambda name=name, prof=prof: _sample_for(current[by_name[name]], name,
                                                            prof.kind))
            for name, prof in reference.features.items()
        }
        return check_profile(reference, samples, policy, kind=kind, importances=importances)

    reference = _check_frame(reference, "reference data")
    kinds = infer_kinds(reference, categorical)
    by_name = _current_columns(current, list(kinds))

    def job(col: Any) -> Any:
        name = str(col)

        def run() -> Any:
            prof = _profile_one(reference[col], name, kinds[name], policy.bins, None)
            sample = _sample_for(current[by_name[name]], name, kinds[name])
            return feature_statistics(name, prof, sample, policy)

        return run

    stats = parallel_map([job(c) for c in reference.columns])
    return decide(stats, policy, kind=kind, importances=importances)

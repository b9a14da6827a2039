"""The pandas edge: lifecycle.check_drift, type inference, profiles, bad input."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import lifecycle
from lifecycle.drift import DriftPolicy, ReferenceProfile
from lifecycle.drift_check import build_profile, check_drift, infer_kinds, non_numeric_counts
from lifecycle.errors import ConfigError, DataError


def _frames(n: int = 4000, seed: int = 0, shift: float = 0.0) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({
        "age": rng.normal(40, 10, n),
        "income": rng.lognormal(10, 1, n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "active": rng.random(n) < 0.5,
        "region_id": rng.integers(0, 5, n),
    })
    cur = pd.DataFrame({
        "age": rng.normal(40 + shift * 10, 10, n),
        "income": rng.lognormal(10, 1, n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "active": rng.random(n) < 0.5,
        "region_id": rng.integers(0, 5, n),
        "extra": 1.0,
    })
    return ref, cur


def test_public_name_and_defaults() -> None:
    ref, cur = _frames(shift=1.0)
    report = lifecycle.check_drift(ref, cur, categorical=["region_id"])
    assert report.verdict == "drift"
    assert report.drifted_features == ("age",)
    assert report.n_features == 5
    frame = report.to_frame()
    assert {"feature", "statistic_name", "statistic", "p_value", "p_adjusted", "level"} <= set(
        frame.columns
    )
    assert set(frame.feature) == {"age", "income", "plan", "active", "region_id"}
    json.dumps(report.to_dict())
    assert report.summary_frame().set_index("feature").loc["age", "verdict"] == "drift"


def test_type_inference_with_override() -> None:
    ref, _ = _frames()
    assert infer_kinds(ref) == {
        "age": "numeric", "income": "numeric", "plan": "categorical",
        "active": "categorical", "region_id": "numeric",
    }
    assert infer_kinds(ref, ["region_id"])["region_id"] == "categorical"
    obj = pd.DataFrame({"s": pd.Series(["a", None, "b"], dtype=object)})
    assert infer_kinds(obj) == {"s": "categorical"}


def test_raw_check_equals_scipy_exactly() -> None:
    ref, cur = _frames(n=20_000, shift=0.1)
    report = check_drift(ref, cur)
    ks = report.feature("age").stat("ks")
    expected = stats.ks_2samp(ref.age, cur.age)
    assert ks.statistic == expected.statistic
    assert ks.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_profile_roundtrip_and_same_report() -> None:
    ref, cur = _frames(shift=0.5)
    prof = build_profile(ref)
    doc, blob = prof.to_payload()
    again = ReferenceProfile.from_payload(json.loads(json.dumps(doc)), blob)
    assert again.digest() == prof.digest()
    via_dict = ReferenceProfile.from_dict(json.loads(json.dumps(prof.to_dict())))
    assert via_dict.digest() == prof.digest()
    a = check_drift(ref, cur)
    b = check_drift(again, cur)
    assert a.verdict == b.verdict
    for fa, fb in zip(a.features, b.features, strict=True):
        for sa, sb in zip(fa.statistics, fb.statistics, strict=True):
            assert sa.statistic == pytest.approx(sb.statistic, rel=1e-9, abs=1e-12)


def test_tests_argument_selects_and_validates() -> None:
    ref, cur = _frames()
    report = check_drift(ref, cur, tests=["ks", "chi_square"])
    assert report.feature("age").deciding == (
        "ks", "missing_share", "out_of_range_share", "infinite_share"
    )
    assert report.feature("plan").deciding[0] == "chi_square"
    with pytest.raises(ConfigError, match="valid names: chi_square"):
        check_drift(ref, cur, tests=["kolmogorov"])


def test_policy_is_used() -> None:
    ref, cur = _frames(shift=0.35)
    assert check_drift(ref, cur).feature("age").verdict in ("warning", "drift")
    lax = DriftPolicy(min_samples=10_000)
    assert check_drift(ref, cur, policy=lax).verdict == "insufficient_data"


# --------------------------------------------------------------------------- bad input


def test_empty_window() -> None:
    ref, cur = _frames()
    with pytest.raises(DataError, match="empty"):
        check_drift(ref, cur.iloc[:0])
    with pytest.raises(DataError, match="empty"):
        check_drift(ref.iloc[:0], cur)


def test_column_missing_from_current() -> None:
    ref, cur = _frames()
    with pytest.raises(DataError, match=r"lacks column\(s\) \['plan'\]"):
        check_drift(ref, cur.drop(columns=["plan"]))
    with pytest.raises(DataError, match="lacks"):
        check_drift(build_profile(ref), cur.drop(columns=["plan"]))


def test_all_nan_reference_column() -> None:
    ref, cur = _frames()
    ref["age"] = np.nan
    with pytest.raises(DataError, match="'age' has no non-missing values"):
        check_drift(ref, cur)
    ref2, _ = _frames()
    ref2["plan"] = None
    with pytest.raises(DataError, match="'plan'"):
        check_drift(ref2, cur)


def test_constant_reference() -> None:
    ref, cur = _frames()
    ref["income"] = 3.0
    with pytest.raises(DataError, match="'income' is constant.*categorical"):
        check_drift(ref, cur)


@pytest.mark.parametrize("side", ["reference", "current"])
def test_one_infinity_is_counted_not_an_error(side: str) -> None:
    ref, cur = _frames()
    (ref if side == "reference" else cur).loc[3, "income"] = np.inf
    f = check_drift(ref, cur).feature("income")
    inf = f.stat("infinite_share")
    assert (inf.reference_counts[0], inf.current_counts[0]) == (
        (1, 0) if side == "reference" else (0, 1))
    assert inf.effect == pytest.approx(1 / len(ref)) and inf.level == "no_drift"
    assert f.verdict == "no_drift"  # one value in thousands is immaterial
    # excluded from the distribution statistics, not counted as missing
    assert f.stat("ks").n_current + f.stat("ks").n_reference == 2 * len(ref) - 1
    assert f.stat("missing_share").effect == 0.0


def test_infinite_share_of_three_points_drifts() -> None:
    ref, cur = _frames()
    n = len(cur)
    cur.loc[: int(0.03 * n) - 1, "income"] = -np.inf
    f = check_drift(ref, cur).feature("income")
    assert f.verdict == "drift" and f.stat("infinite_share").level == "drift"
    assert f.infinite_share == pytest.approx(0.03, abs=1e-3)
    assert f.top_statistic == "infinite_share"


def test_object_columns_that_are_not_categorical() -> None:
    ref, cur = _frames()
    ref["dates"] = pd.Series([date(2026, 1, 1 + i % 28) for i in range(len(ref))],
                             dtype=object)
    cur["dates"] = ref["dates"]
    with pytest.raises(DataError, match="'dates' has dtype object.*categorical=\\['dates'\\]"):
        check_drift(ref, cur)
    # declared categorical: compared as strings
    assert check_drift(ref, cur, categorical=["dates"]).feature("dates").kind == "categorical"


def test_mixed_object_columns_are_numeric_with_non_numeric_values_as_missing() -> None:
    """Mostly numbers (what a logged window holds when one batch stored text): numeric, and
    the text counts as missing; mostly text: categorical (issue 15)."""
    ref, cur = _frames()
    ref["mixed"] = pd.Series([1, "a", 2.5, None] * 1000, dtype=object)
    cur["mixed"] = ref["mixed"]
    feature = check_drift(ref, cur).feature("mixed")
    assert feature.kind == "numeric"
    assert feature.missing_share_reference == pytest.approx(0.5)  # None and "a"
    assert non_numeric_counts(cur, build_profile(ref)) == {"mixed": 1000}
    ref["texty"] = pd.Series(["a", "b", 3.0, None] * 1000, dtype=object)
    cur["texty"] = ref["texty"]
    assert check_drift(ref, cur).feature("texty").kind == "categorical"
    # declared categorical: compared as strings
    assert check_drift(ref, cur, categorical=["mixed"]).feature("mixed").kind == "categorical"


def test_current_type_mismatch_and_bad_arguments() -> None:
    ref, cur = _frames()
    cur["age"] = "forty"  # every value non-numeric: a missing-value signal, not an error
    age = check_drift(ref, cur).feature("age")
    assert age.missing_share_current == 1.0 and age.verdict == "drift"
    assert non_numeric_counts(cur, build_profile(ref)) == {"age": len(cur)}
    with pytest.raises(DataError, match="DataFrame"):
        check_drift(ref, ref.to_numpy())  # type: ignore[arg-type]
    with pytest.raises(DataError, match="not in the reference"):
        check_drift(ref, cur, categorical=["nope"])

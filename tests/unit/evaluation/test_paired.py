"""Validation of paired samples: every bad input raises a DataError that names the fix."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.errors import DataError
from lifecycle.evaluation import paired_sample


def test_classification_sample_canonicalises_labels_and_classes() -> None:
    s = paired_sample("classification", [1, 0, 1.0], ["1", 0, 0], [True, False, 1],
                      champion_proba=np.array([0.9, 0.2, 0.4]),
                      challenger_proba=np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]),
                      classes=[0, 1])
    assert s.n == 3 and s.classes == ("0", "1")
    assert s.y_true.tolist() == ["1", "0", "1"]
    assert s.champion_proba is not None and s.champion_proba.shape == (3, 2)
    assert s.champion_correct().tolist() == [True, True, False]
    assert s.has_proba


def test_regression_sample_and_swapped_roles() -> None:
    s = paired_sample("regression", [1.0, 2.0], [1.5, 2.0], [1.0, 3.0],
                      champion_latency=[10, 20], challenger_latency=[30, 40])
    assert s.champion_abs_error().tolist() == [0.5, 0.0]
    t = s.swapped()
    assert t.champion.tolist() == [1.0, 3.0] and t.challenger.tolist() == [1.5, 2.0]
    assert t.champion_latency is not None and t.champion_latency.tolist() == [30, 40]
    with pytest.raises(DataError, match="classification"):
        s.champion_correct()


@pytest.mark.parametrize(
    ("kwargs", "fix"),
    [
        ({"task": "ranking"}, "set the model's task"),
        ({"champion": [1, 0]}, "aligned by request id"),
        ({"champion_proba": np.array([0.5, 0.5, 0.5])}, "both models"),
        ({"champion_proba": np.array([0.5, 1.5, 0.5]),
          "challenger_proba": np.array([0.5, 0.5, 0.5])}, "within \\[0, 1\\]"),
        ({"champion_proba": np.array([[0.5, 0.6]] * 3),
          "challenger_proba": np.array([[0.5, 0.5]] * 3)}, "sum to one"),
        ({"champion_latency": [1, 2, 3]}, "challenger_latency together"),
        ({"champion_latency": [1, 2, 3], "challenger_latency": [1, -2, 3]}, "negative"),
        ({"champion_latency": [1, 2], "challenger_latency": [1, 2]}, "one latency per"),
        ({"y_true": [1, 0, 0.5]}, "class labels"),
    ],
)
def test_bad_classification_inputs(kwargs: dict[str, object], fix: str) -> None:
    args: dict[str, object] = {"task": "classification", "y_true": [1, 0, 1],
                               "champion": [1, 0, 0], "challenger": [1, 1, 1]}
    args.update(kwargs)
    with pytest.raises(DataError, match=fix):
        paired_sample(**args)  # type: ignore[arg-type]


def test_bad_regression_inputs() -> None:
    with pytest.raises(DataError, match="NaN"):
        paired_sample("regression", [1.0, np.nan], [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(DataError, match="not a number"):
        paired_sample("regression", [1.0, 2.0], ["a", 2.0], [1.0, 2.0])
    with pytest.raises(DataError, match="no class probabilities"):
        paired_sample("regression", [1.0], [1.0], [1.0], champion_proba=np.array([0.5]),
                      challenger_proba=np.array([0.5]))

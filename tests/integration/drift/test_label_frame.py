"""Label drift reads one text form per class, whatever JSON type the label arrived as."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import lifecycle
from lifecycle.capture import runtime
from lifecycle.errors import DataError
from lifecycle.window_frames import label_frame


@pytest.fixture
def logged(sqlite_url: str, tmp_path: Any) -> Iterator[str]:
    lifecycle.configure(database_url=sqlite_url, spill_dir=str(tmp_path / "spill"),
                        flush_interval_s=0.02, handle_sigterm=False)
    try:
        yield sqlite_url
    finally:
        runtime.reset()


def _log(model: str, labels: list[Any]) -> None:
    @lifecycle.monitor(model, feature_names=["x"], id_column="x")
    def predict(features: Any) -> Any:
        return np.zeros(len(features))

    predict(np.arange(len(labels), dtype=float).reshape(-1, 1))
    assert lifecycle.flush(30)
    lifecycle.log_outcomes(model, list(range(len(labels))), labels)  # keys normalise like x


def test_int_float_and_text_forms_are_one_class(
    logged: str, engine_for: Callable[[str], Any]
) -> None:
    _log("classes", [1, 1.0, "1", 0])
    frame = label_frame(engine_for(logged), "classes", None, None, "classification")
    assert sorted(frame["label"]) == ["0", "1", "1", "1"]
    # no task configured: still classes when the labels are classes
    assert sorted(label_frame(engine_for(logged), "classes", None, None, None)["label"]) == [
        "0", "1", "1", "1"]


def test_continuous_labels(logged: str, engine_for: Callable[[str], Any]) -> None:
    _log("amounts", [2.5, 3.25])
    engine = engine_for(logged)
    assert label_frame(engine, "amounts", None, None, None)["label"].tolist() == [2.5, 3.25]
    assert label_frame(engine, "amounts", None, None, "regression")["label"].tolist() == [
        2.5, 3.25]
    with pytest.raises(DataError, match="not a class"):
        label_frame(engine, "amounts", None, None, "classification")

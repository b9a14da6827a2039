"""Error-stream detectors: known change points, stationary streams, API and batch path."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.detectors import ADWIN, DDM, DETECTORS, PageHinkley

ALL = [PageHinkley, DDM, ADWIN]


def _stream(seed: int, n: int = 20_000, change: int | None = 10_000,
            before: float = 0.1, after: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.full(n, before)
    if change is not None:
        p[change:] = after
    return (rng.random(n) < p).astype(np.float64)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("seed", range(5))
def test_detects_after_the_change_with_a_measured_delay(cls: type, seed: int) -> None:
    stream = _stream(seed)
    detections = cls().run(stream)
    after = detections[detections >= 10_000]
    assert after.size >= 1, "the change was missed"
    delay = int(after[0]) - 10_000
    assert 0 <= delay < 1500, delay
    assert not np.any(detections < 10_000), f"false alarm before the change: {detections}"


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("seed", range(5))
def test_no_detection_on_a_stationary_stream_of_the_same_length(cls: type, seed: int) -> None:
    assert cls().run(_stream(100 + seed, change=None)).size == 0


@pytest.mark.parametrize("cls", ALL)
def test_batch_path_equals_update_path_including_state(cls: type) -> None:
    stream = np.concatenate([_stream(7, 6000, 3000), _stream(8, 6000, 2000, 0.3, 0.05)])
    one = cls()
    sequential = [i for i, x in enumerate(stream) if one.update(x).drift_detected]
    batch = cls()
    # split the batch in uneven chunks: the state must carry over between run() calls
    found: list[int] = []
    for lo, hi in ((0, 1234), (1234, 7000), (7000, stream.size)):
        found.extend((batch.run(stream[lo:hi]) + lo).tolist())
    assert found == sequential
    assert batch.drift_detected == one.drift_detected
    assert batch.n_detections == one.n_detections == len(sequential)
    # and both continue identically
    tail = _stream(9, 3000, 1500)
    assert batch.run(tail).tolist() == [
        i for i, x in enumerate(tail) if one.update(x).drift_detected
    ]


@pytest.mark.parametrize("cls", ALL)
def test_update_returns_the_detector(cls: type) -> None:
    detector = cls()
    assert detector.update(1) is detector
    assert detector.drift_detected is False


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (PageHinkley, {"mode": "sideways"}, "valid values are \\['up', 'down', 'both'\\]"),
        (PageHinkley, {"threshold": 0}, "'threshold'.*> 0"),
        (PageHinkley, {"alpha": 1.5}, "'alpha'.*<= 1"),
        (PageHinkley, {"min_instances": 2.5}, "an integer"),
        (DDM, {"warning_threshold": 3, "drift_threshold": 2}, "'drift_threshold'.*>= 3"),
        (DDM, {"warm_start": 0}, "'warm_start'.*>= 1"),
        (ADWIN, {"delta": 1.0}, "'delta'.*< 1"),
        (ADWIN, {"clock": True}, "'clock'"),
    ],
)
def test_constructor_validates_and_lists_valid_values(cls: type, kwargs: dict,
                                                     message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_ddm_rejects_non_binary_values() -> None:
    with pytest.raises(ValueError, match="0/1 errors"):
        DDM().update(0.5)
    with pytest.raises(ValueError, match="0/1 errors"):
        DDM().run(np.array([0.0, 0.5]))


def test_adwin_rejects_values_outside_unit_interval_and_nan() -> None:
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        ADWIN().run(np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match="NaN"):
        PageHinkley().run(np.array([0.0, np.nan]))


def test_page_hinkley_modes_and_absolute_errors() -> None:
    rng = np.random.default_rng(3)
    # absolute errors of a regressor whose error scale grows by 50 % at 5,000
    stream = np.abs(rng.normal(0, 1, 10_000)) * np.where(np.arange(10_000) < 5000, 1.0, 1.5)
    stream = np.clip(stream / 4, 0, 1)
    up = PageHinkley().run(stream)
    assert up.size and up[0] >= 5000
    assert PageHinkley(mode="down").run(stream).size == 0
    assert PageHinkley(mode="down").run(1 - stream).size >= 1


def test_adwin_window_shrinks_after_a_change() -> None:
    adwin = ADWIN()
    adwin.run(_stream(11))
    assert adwin.n_detections >= 1
    assert adwin.width < 20_000
    assert adwin.estimation == pytest.approx(0.3, abs=0.05)


def test_clone_and_repr() -> None:
    ph = PageHinkley(threshold=10)
    ph.run(_stream(1, 2000, 1000))
    fresh = ph.clone()
    assert fresh.threshold == 10 and fresh.n_detections == 0
    assert repr(fresh).startswith("PageHinkley(min_instances=30")
    assert set(DETECTORS) == {"page_hinkley", "ddm", "adwin"}


@settings(max_examples=30, deadline=None)
@given(
    bits=st.lists(st.sampled_from([0.0, 1.0]), min_size=1, max_size=1500),
    cut=st.integers(min_value=0, max_value=1500),
    which=st.sampled_from(["ph", "ph_both", "ddm", "adwin"]),
)
def test_property_batch_equals_sequential(bits: list[float], cut: int, which: str) -> None:
    make = {
        "ph": lambda: PageHinkley(threshold=3.0, min_instances=5),
        "ph_both": lambda: PageHinkley(threshold=2.0, mode="both", alpha=0.99),
        "ddm": lambda: DDM(warm_start=20, drift_threshold=2.0, warning_threshold=1.0),
        "adwin": lambda: ADWIN(clock=4, delta=0.1),
    }[which]
    stream = np.asarray(bits)
    one = make()
    sequential = [i for i, x in enumerate(bits) if one.update(x).drift_detected]
    other = make()
    cut = min(cut, len(bits))
    batch = other.run(stream[:cut]).tolist() + (other.run(stream[cut:]) + cut).tolist()
    assert batch == sequential
    assert other.drift_detected == one.drift_detected


@pytest.mark.parametrize("cls", ALL)
def test_docs_state_the_defaults_the_code_uses(cls: type) -> None:
    text = (Path(__file__).parents[3] / "docs" / "concept-drift.md").read_text()
    row = re.search(rf"^\| `{cls.__name__}` \| `([^`]*)` \|", text, re.MULTILINE)
    assert row is not None, f"no defaults row for {cls.__name__} in docs/concept-drift.md"
    documented = {k: ast.literal_eval(v)
                  for k, v in (item.split("=") for item in row.group(1).split(", "))}
    actual = {name: p.default for name, p in inspect.signature(cls).parameters.items()}
    assert documented == actual

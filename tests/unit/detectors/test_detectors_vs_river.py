"""The detectors against river itself (a dev dependency) on seeded streams.

ADWIN reproduces river's ``drift.ADWIN`` exactly (same cut points, same test, same reset after
a detection): the same detection indices and the same window width after each detection. With
river's parameters Page–Hinkley and DDM do too. Our defaults raise no more false alarms than
river's on seeded stationary streams.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from river import drift

from lifecycle.detectors import ADWIN, DDM, PageHinkley
from lifecycle.detectors.adwin import bucket_counts


def _errors(seed: int, rates: tuple[float, ...], length: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.random(length) < p for p in rates]).astype(np.float64)


def _river(detector: Any, stream: np.ndarray) -> tuple[list[int], list[int]]:
    found, widths = [], []
    for i, x in enumerate(stream.tolist()):
        detector.update(x)
        if detector.drift_detected:
            found.append(i)
            widths.append(int(getattr(detector, "width", 0)))
    return found, widths


def _ours(detector: Any, stream: np.ndarray) -> tuple[list[int], list[int]]:
    found, widths = [], []
    for i, x in enumerate(stream):
        if detector.update(x).drift_detected:
            found.append(i)
            widths.append(int(getattr(detector, "width", 0)))
    return found, widths


ADWIN_PARAMS = [
    ({}, 2500),  # river's defaults are ours
    ({"delta": 0.1, "clock": 1}, 800),  # tests at every update: many detections and shrinks
    ({"delta": 0.05, "clock": 7, "max_buckets": 3, "min_window_length": 2,
      "grace_period": 40}, 1500),
]


@pytest.mark.parametrize(("params", "length"), ADWIN_PARAMS)
@pytest.mark.parametrize("seed", range(3))
def test_adwin_detects_exactly_where_river_does(params: dict[str, Any], length: int,
                                               seed: int) -> None:
    stream = _errors(seed, (0.1, 0.3, 0.05, 0.15), length)
    expected, widths = _river(drift.ADWIN(**params), stream)
    assert expected, "the seeded stream must have changes river detects"
    assert _ours(ADWIN(**params), stream) == (expected, widths)
    assert ADWIN(**params).run(stream).tolist() == expected


def test_adwin_matches_river_on_bounded_real_valued_errors() -> None:
    rng = np.random.default_rng(5)
    scale = np.where(np.arange(8000) < 4000, 1.0, 1.4)
    stream = np.clip(np.abs(rng.normal(0.0, 1.0, 8000)) * scale / 4.0, 0.0, 1.0)
    expected, widths = _river(drift.ADWIN(delta=0.05), stream)
    assert expected
    assert _ours(ADWIN(delta=0.05), stream) == (expected, widths)


def test_adwin_false_alarms_on_stationary_streams_equal_rivers() -> None:
    # delta 0.5 so that a short stationary stream has false alarms to compare (river's default
    # 0.002 has about 1 per 15 million updates); 12 streams at 5, 15 and 30 % error.
    ours_total = river_total = 0
    for seed in range(12):
        stream = _errors(100 + seed, ((0.05, 0.15, 0.3)[seed % 3],), 5000)
        river_found, _ = _river(drift.ADWIN(delta=0.5), stream)
        ours = ADWIN(delta=0.5).run(stream).tolist()
        assert ours == river_found
        ours_total += len(ours)
        river_total += len(river_found)
    assert ours_total == river_total > 0


@pytest.mark.parametrize("seed", range(3))
def test_page_hinkley_and_ddm_with_rivers_parameters_detect_where_river_does(seed: int) -> None:
    stream = _errors(seed, (0.1, 0.2, 0.1), 4000)
    ph, _ = _river(drift.PageHinkley(), stream)
    ours_ph = PageHinkley(delta=0.005, threshold=50, alpha=0.9999, mode="both").run(stream)
    assert ours_ph.tolist() == ph
    ddm, _ = _river(drift.binary.DDM(), stream)
    assert DDM(warm_start=30, drift_threshold=3.0).run(stream).tolist() == ddm


def test_defaults_raise_no_more_false_alarms_than_rivers_on_stationary_streams() -> None:
    ours = {"page_hinkley": 0, "ddm": 0, "adwin": 0}
    river = dict.fromkeys(ours, 0)
    makers = {"page_hinkley": (PageHinkley, drift.PageHinkley),
              "ddm": (DDM, drift.binary.DDM), "adwin": (ADWIN, drift.ADWIN)}
    for seed in range(6):
        stream = _errors(200 + seed, (0.1,), 20_000)
        for name, (mine, theirs) in makers.items():
            ours[name] += mine().run(stream).size
            river[name] += len(_river(theirs(), stream)[0])
    assert all(ours[name] <= river[name] for name in ours), (ours, river)
    assert ours["page_hinkley"] == 0


def _simulate_buckets(n: int, max_buckets: int) -> list[int]:
    """ADWIN2's bucket insertion and merging, literally (the reference for bucket_counts)."""
    levels: list[int] = [0]
    for _ in range(n):
        levels[0] += 1
        i = 0
        while levels[i] == max_buckets + 1:
            levels[i] -= 2
            if i + 1 == len(levels):
                levels.append(0)
            levels[i + 1] += 1
            i += 1
    while len(levels) > 1 and levels[-1] == 0:
        levels.pop()
    return levels


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=3000), m=st.integers(min_value=2, max_value=9))
def test_bucket_counts_match_the_insertion_process(n: int, m: int) -> None:
    got = bucket_counts(np.asarray([n], dtype=np.int64), m)[0].tolist()
    while len(got) > 1 and got[-1] == 0:
        got.pop()
    assert got == _simulate_buckets(n, m)
    assert sum(c << i for i, c in enumerate(got)) == n


@pytest.mark.parametrize(("seed", "rate"), [(73, 0.15), (10, 0.3)])
def test_adwin_no_second_false_alarm_after_the_first(seed: int, rate: float) -> None:
    # Stationary streams of issue 15 on which the previous ADWIN raised two alarms and river
    # one: keeping the recent part after a false alarm kept the unusual stretch as the new
    # window's start, and the return to the normal rate was then flagged as a second change.
    stream = (np.random.default_rng(seed * 7 + int(rate * 100)).random(200_000) < rate)
    river_found, _ = _river(drift.ADWIN(), stream.astype(np.float64))
    assert len(river_found) == 1
    assert ADWIN().run(stream.astype(np.float64)).tolist() == river_found


def test_page_hinkley_defaults_raise_no_false_alarm_where_the_old_ones_did() -> None:
    # Seeded stationary 10 % error streams on which delta=0.015, threshold=30 alarmed.
    for seed in (0, 51):
        stream = (np.random.default_rng(1000 + seed).random(200_000) < 0.1).astype(np.float64)
        assert PageHinkley(delta=0.015, threshold=30).run(stream).size >= 1
        assert PageHinkley().run(stream).size == 0


"""Pure helpers of the performance job (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.detectors import ADWIN, PageHinkley
from lifecycle.jobs.performance import PH_REFERENCE_SD, _detector


def test_page_hinkley_is_scaled_to_the_reference_spread() -> None:
    rng = np.random.default_rng(0)
    warm = (rng.random(2000) < 0.02).astype(float)
    ph = _detector("page_hinkley", warm)
    assert isinstance(ph, PageHinkley)
    k = float(np.std(warm)) / PH_REFERENCE_SD
    assert ph.delta == pytest.approx(PageHinkley().delta * k)
    assert ph.threshold == pytest.approx(PageHinkley().threshold * k)
    assert isinstance(_detector("adwin", warm), ADWIN)


@pytest.mark.parametrize("rate", [0.02, 0.1, 0.3])
def test_scaled_page_hinkley_is_quiet_on_stationary_streams_and_catches_a_rise(
    rate: float,
) -> None:
    rng = np.random.default_rng(1)
    warm = (rng.random(2000) < rate).astype(float)
    quiet = (rng.random(50_000) < rate).astype(float)
    ph = _detector("page_hinkley", warm)
    ph.run(warm)
    assert ph.run(quiet).size == 0
    rise = (rng.random(5000) < rate * 1.5 + 0.02).astype(float)
    ph = _detector("page_hinkley", warm)
    ph.run(warm)
    assert ph.run(rise).size >= 1

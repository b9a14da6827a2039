"""Error-stream drift detectors (pure core: standard library, numpy and scipy only).

Each detector follows river's API: ``update(x)`` returns the detector, ``drift_detected`` is
True right after the update that detected a change, and the constructor validates its
parameters and lists the valid values. ``run(array)`` is the vectorised batch path.
"""

from __future__ import annotations

from lifecycle.detectors.adwin import ADWIN
from lifecycle.detectors.base import DriftDetector
from lifecycle.detectors.ddm import DDM
from lifecycle.detectors.page_hinkley import PageHinkley

#: name -> detector class (the job and the docs use these names).
DETECTORS: dict[str, type[DriftDetector]] = {
    "page_hinkley": PageHinkley,
    "ddm": DDM,
    "adwin": ADWIN,
}

__all__ = ["ADWIN", "DDM", "DETECTORS", "DriftDetector", "PageHinkley"]

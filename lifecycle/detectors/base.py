"""Tiny base class shared by the error-stream drift detectors (river-style API).

A detector consumes an ordered stream one value at a time with :meth:`DriftDetector.update`
(which returns the detector, so calls chain) and exposes :attr:`DriftDetector.drift_detected`,
True right after the update that detected a change. The next update resets what the detector
forgets after a change, exactly like river.

Every detector also has a vectorised batch path, :meth:`DriftDetector.run`, over a numpy array:
it gives the same detections as calling :meth:`update` on each element (a test proves it) and
leaves the detector in the same state, at a fraction of the cost per element.

This module is part of the pure core: it imports only the standard library and numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

__all__ = ["DriftDetector", "check_choice", "check_number"]


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> None:
    """Validate a constructor parameter; the message states the valid range.

    Raises
    ------
    ValueError
        If ``value`` is not a finite number in the range (an integer when ``integer``).
    """
    kind = "an integer" if integer else "a number"
    lo = "" if low is None else (f"> {low}" if low_open else f">= {low}")
    hi = "" if high is None else (f"< {high}" if high_open else f"<= {high}")
    valid = " and ".join(s for s in (lo, hi) if s) or "finite"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and not float(value).is_integer():
        ok = False
    if ok and not math.isfinite(float(value)):
        ok = False
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise ValueError(f"invalid {name!r}: {value!r}; valid values are {kind} {valid}")


def check_choice(name: str, value: Any, valid: Sequence[str]) -> None:
    """Validate a string parameter against its valid values, listing them on failure."""
    if value not in valid:
        raise ValueError(f"invalid {name!r}: {value!r}; valid values are {list(valid)}")


class DriftDetector:
    """Base class: the state flag, the reset-on-next-update rule and the batch driver.

    Subclasses implement ``_reset`` (forget after a change), ``_update`` (one value, returns
    whether a change is detected) and ``_run_segment`` (vectorised: from the current state,
    process values until the first detection; return its index or -1).
    """

    def __init__(self) -> None:
        self._drift_detected = False
        self.n_detections = 0

    # -- public API -------------------------------------------------------------------------
    @property
    def drift_detected(self) -> bool:
        """True right after the update that detected a change."""
        return self._drift_detected

    def update(self, x: float) -> Self:
        """Feed one value of the stream and return the detector.

        Parameters
        ----------
        x
            The next value: 0/1 error indicator, or a bounded error such as a scaled
            absolute error.
        """
        if self._drift_detected:
            self._reset()
            self._drift_detected = False
        if self._update(float(x)):
            self._drift_detected = True
            self.n_detections += 1
        return self

    def run(self, stream: Iterable[float] | NDArray[Any]) -> NDArray[np.int64]:
        """Feed a whole array at once (vectorised) and return the detection indices.

        Equivalent to calling :meth:`update` on each element in order (same detections, same
        final state), but fast: the work per element is done by numpy.

        Parameters
        ----------
        stream
            One-dimensional array of values, in stream order.

        Returns
        -------
        numpy.ndarray
            Indices into ``stream`` of the updates after which ``drift_detected`` was True.
        """
        x = np.asarray(stream, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"stream must be one-dimensional, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("stream contains NaN or infinite values; drop or impute them first")
        self._validate_batch(x)
        detections: list[int] = []
        pos = 0
        while pos < x.size:
            if self._drift_detected:
                self._reset()
                self._drift_detected = False
            hit = self._run_segment(x[pos:])
            if hit < 0:
                break
            detections.append(pos + hit)
            self._drift_detected = True
            self.n_detections += 1
            pos += hit + 1
        return np.asarray(detections, dtype=np.int64)

    def clone(self) -> Self:
        """A fresh detector with the same parameters and no state."""
        return type(self)(**self._params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    # -- subclass hooks ---------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _reset(self) -> None:
        raise NotImplementedError

    def _update(self, x: float) -> bool:
        raise NotImplementedError

    def _run_segment(self, x: NDArray[np.float64]) -> int:
        raise NotImplementedError

    def _validate_batch(self, x: NDArray[np.float64]) -> None:
        """Reject values the detector cannot take (default: accept every finite value)."""

"""ADWIN: adaptive windowing (Bifet & Gavaldà, 2007) with exact window sums."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lifecycle.detectors.base import DriftDetector, check_number

__all__ = ["ADWIN"]

_TICK_BLOCK = 2048  # ticks examined at once by the batch path (bounds its memory)


class ADWIN(DriftDetector):
    """Adaptive windowing: keep the longest recent window whose mean has not changed.

    Every ``clock`` updates the window :math:`W` is split into an older part :math:`W_0`
    (:math:`n_0` values) and a recent part :math:`W_1` (:math:`n_1` values) at candidate cut
    points; a change is detected when, for some cut,
    :math:`|\\hat\\mu_0 - \\hat\\mu_1| \\ge \\sqrt{2 m \\sigma^2_W \\delta'} + \\tfrac23 \\delta' m`
    with :math:`m = 1/(n_0 - \\ell + 1) + 1/(n_1 - \\ell + 1)`,
    :math:`\\delta' = \\ln(2 \\ln |W| / \\delta)`, :math:`\\ell` = ``min_window_length`` and
    :math:`\\sigma^2_W` the window variance (the Bernstein form used by ADWIN2 and river).
    The older part is then dropped, and the test repeated until no cut fires.

    Unlike ADWIN2's exponential histogram, the window is kept as exact prefix sums
    (16 bytes per value in the window) and the cuts are a geometric grid of ``resolution``
    recent-part lengths per doubling, so the means are exact and the batch path is vectorised.
    Values are expected in [0, 1] (0/1 errors, or absolute errors scaled to [0, 1]).

    Parameters
    ----------
    delta
        Confidence parameter (0 < delta < 1); smaller: fewer false alarms, later detection.
    clock
        Test for a change every ``clock`` updates (integer >= 1).
    resolution
        Candidate cut points per doubling of the recent part's length (integer >= 1).
    min_window_length
        Smallest sub-window length considered at a cut (integer >= 1).
    grace_period
        Values needed in the window before the first test (integer >= 1).

    Examples
    --------
    >>> import numpy as np
    >>> from lifecycle.detectors import ADWIN
    >>> rng = np.random.default_rng(42)
    >>> stream = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.3])
    >>> adwin = ADWIN()
    >>> for i, x in enumerate(stream):
    ...     if adwin.update(x).drift_detected:
    ...         print(f"change detected at update {i}, window now {adwin.width}")
    change detected at update 1183, window now 211
    >>> ADWIN().run(stream)
    array([1183])

    References
    ----------
    A. Bifet, R. Gavaldà (2007). Learning from time-changing data with adaptive windowing.
    *SIAM International Conference on Data Mining*, 443–448.
    """

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        resolution: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        check_number("delta", delta, low=0, high=1, low_open=True, high_open=True)
        check_number("clock", clock, low=1, integer=True)
        check_number("resolution", resolution, low=1, integer=True)
        check_number("min_window_length", min_window_length, low=1, integer=True)
        check_number("grace_period", grace_period, low=1, integer=True)
        super().__init__()
        self.delta = float(delta)
        self.clock = int(clock)
        self.resolution = int(resolution)
        self.min_window_length = int(min_window_length)
        self.grace_period = int(grace_period)
        steps = np.arange(0, 64 * self.resolution, dtype=np.float64)
        grid = np.unique(np.round(self.min_window_length * 2.0 ** (steps / self.resolution)))
        self._grid = grid[grid < 2.0**53].astype(np.int64)
        self._seen = 0
        self._cum = array("d", [0.0])  # prefix sums over the window, [0] = base
        self._cum2 = array("d", [0.0])  # prefix sums of squares

    def _params(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "clock": self.clock,
            "resolution": self.resolution,
            "min_window_length": self.min_window_length,
            "grace_period": self.grace_period,
        }

    @property
    def width(self) -> int:
        """Number of values in the current window."""
        return len(self._cum) - 1

    @property
    def estimation(self) -> float:
        """Mean of the current window (0 when empty)."""
        w = self.width
        return (self._cum[-1] - self._cum[0]) / w if w else 0.0

    def _reset(self) -> None:
        # The window was already cut back to its recent part when the change was detected.
        return None

    def _fire(
        self, c: NDArray[np.float64], q: NDArray[np.float64], start: int, ends: NDArray[np.int64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        """Test every tick in ``ends`` (buffer indices) against the window from ``start``.

        Returns which ticks fire and, per tick, the longest firing recent part (0 if none).
        """
        ell = self.min_window_length
        longest = int(ends.max()) - start - ell
        grid = self._grid[: int(np.searchsorted(self._grid, longest, side="right"))]
        if grid.size == 0:
            return np.zeros(ends.size, dtype=bool), np.zeros(ends.size, dtype=np.int64)
        w = (ends - start).astype(np.float64)[:, None]
        n1 = grid[None, :]
        valid = (n1 >= ell) & (n1 <= w - ell)
        n1f = n1.astype(np.float64)
        n0f = w - n1f
        ce = c[ends][:, None]
        cs = c[start]
        split = np.where(valid, ends[:, None] - n1, start)
        cm = c[split]
        mean = (ce - cs) / w
        var = np.maximum((q[ends][:, None] - q[start]) / w - mean * mean, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = (cm - cs) / n0f - (ce - cm) / n1f
            dprime = np.log(2.0 * np.log(w) / self.delta)
            m = 1.0 / (n0f - ell + 1.0) + 1.0 / (n1f - ell + 1.0)
            eps = np.sqrt(2.0 * m * var * dprime) + (2.0 / 3.0) * dprime * m
            fire = valid & (np.abs(diff) >= eps)
        best = np.where(fire, n1, 0).max(axis=1)
        return best > 0, best

    def _shrink(self, c: NDArray[np.float64], q: NDArray[np.float64], start: int, end: int) -> int:
        """Drop older parts while a cut fires at ``end``; return the new start."""
        ends = np.asarray([end], dtype=np.int64)
        while end - start >= self.grace_period:
            fired, best = self._fire(c, q, start, ends)
            if not fired[0]:
                break
            start = end - int(best[0])
        return start

    def _update(self, x: float) -> bool:
        self._seen += 1
        self._cum.append(self._cum[-1] + x)
        self._cum2.append(self._cum2[-1] + x * x)
        if self._seen % self.clock or self.width < self.grace_period:
            return False
        c = np.frombuffer(self._cum, dtype=np.float64)
        q = np.frombuffer(self._cum2, dtype=np.float64)
        end = len(self._cum) - 1
        start = self._shrink(c, q, 0, end)
        del c, q  # release the buffer views before resizing the arrays
        if start == 0:
            return False
        del self._cum[:start]
        del self._cum2[:start]
        return True

    def _validate_batch(self, x: NDArray[np.float64]) -> None:
        if x.size and (x.min() < 0.0 or x.max() > 1.0):
            raise ValueError("ADWIN expects values in [0, 1]; scale the stream first")

    def _run_segment(self, x: NDArray[np.float64]) -> int:
        old = len(self._cum)
        c = np.concatenate((np.frombuffer(self._cum, dtype=np.float64), np.empty(x.size)))
        q = np.concatenate((np.frombuffer(self._cum2, dtype=np.float64), np.empty(x.size)))
        c[old - 1 :] = np.cumsum(np.concatenate(([c[old - 1]], x)))
        q[old - 1 :] = np.cumsum(np.concatenate(([q[old - 1]], x * x)))
        first = (-self._seen) % self.clock or self.clock  # steps to the next tick
        ticks = np.arange(old - 1 + first, old - 1 + x.size + 1, self.clock, dtype=np.int64)
        ticks = ticks[ticks >= self.grace_period]
        hit_end = -1
        for lo in range(0, ticks.size, _TICK_BLOCK):
            block = ticks[lo : lo + _TICK_BLOCK]
            fired, _ = self._fire(c, q, 0, block)
            if fired.any():
                hit_end = int(block[int(np.argmax(fired))])
                break
        if hit_end < 0:
            self._seen += x.size
            self._store(c, q, 0, len(c) - 1)
            return -1
        start = self._shrink(c, q, 0, hit_end)
        self._seen += hit_end - (old - 1)
        self._store(c, q, start, hit_end)
        return hit_end - old

    def _store(self, c: NDArray[np.float64], q: NDArray[np.float64], start: int, end: int) -> None:
        self._cum = array("d", c[start : end + 1].tobytes())
        self._cum2 = array("d", q[start : end + 1].tobytes())

"""ADWIN: adaptive windowing (Bifet & Gavaldà, 2007), ADWIN2's cut points with exact sums."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lifecycle.detectors.base import DriftDetector, check_number

__all__ = ["ADWIN", "bucket_counts"]

#: prefix sums: the window's own ``array`` (per update) or a numpy buffer (batch path)
_Floats = Sequence[float] | NDArray[np.float64]

_TICK_BLOCK = 2048  # ticks examined at once by the batch path (bounds its memory)


def bucket_counts(n: NDArray[np.int64], max_buckets: int) -> NDArray[np.int64]:
    """ADWIN2's exponential histogram after ``n`` insertions: buckets per level, newest first.

    Level ``i`` holds buckets of ``2**i`` values. A value enters level 0; when a level holds
    ``max_buckets + 1`` buckets its two oldest merge into one bucket of the next level. The
    layout therefore depends on ``n`` alone: level 0 holds ``n`` buckets while
    ``n <= max_buckets``, otherwise ``max_buckets - 1 + (n - max_buckets - 1) mod 2``, and the
    rest (an even number of values) was passed on, in pairs, to level 1, which follows the
    same rule. Returns an array of shape ``(len(n), levels)``.
    """
    m = max_buckets
    rem = np.asarray(n, dtype=np.int64).copy()
    levels: list[NDArray[np.int64]] = []
    while True:
        count = np.where(rem <= m, rem, m - 1 + (rem - m - 1) % 2)
        levels.append(count)
        rem = (rem - count) // 2
        if not rem.any():
            break
    return np.stack(levels, axis=1)


def _bucket_sizes(n: int, max_buckets: int) -> list[int]:
    """Bucket sizes of the histogram after ``n`` insertions, newest first (scalar path)."""
    m, level, sizes = max_buckets, 0, []
    while n:
        count = n if n <= m else m - 1 + (n - m - 1) % 2
        sizes += [1 << level] * count
        n = (n - count) // 2
        level += 1
    return sizes


class ADWIN(DriftDetector):
    """Adaptive windowing: detect a change in the mean of the window since the last change.

    Every ``clock`` updates, once the window holds more than ``grace_period`` values, the
    window :math:`W` is split into an older part :math:`W_0` (:math:`n_0` values) and a recent
    part :math:`W_1` (:math:`n_1` values) at every boundary of ADWIN2's exponential histogram
    (buckets of 1, 2, 4, ... values, at most ``max_buckets`` of each size, so about
    ``max_buckets`` cut points per doubling of :math:`n_1`). A change is detected when, for a
    cut with :math:`n_0, n_1 \\ge \\ell`,
    :math:`|\\hat\\mu_0 - \\hat\\mu_1| > \\sqrt{2 m \\sigma^2_W \\delta'} + \\tfrac23 \\delta' m`
    with :math:`m = 1/(n_0 - \\ell + 1) + 1/(n_1 - \\ell + 1)`,
    :math:`\\delta' = \\ln(2 \\ln |W| / \\delta)`, :math:`\\ell` = ``min_window_length`` and
    :math:`\\sigma^2_W` the window's (population) variance. The oldest bucket is then dropped
    and the test repeated until no cut fires (so :attr:`width` right after a detection is the
    part that differs); the next update starts a new, empty window, as river's ``ADWIN`` does.

    This is river's algorithm with river's defaults, and it gives river's detections (a test
    compares them on seeded streams): the cut points are the same bucket boundaries, computed
    from the number of values in the window, while the sums over them come from exact prefix
    sums (16 bytes per value in the window), so the batch path is vectorised over many clock
    ticks at once. Values are expected in [0, 1] (0/1 errors, or absolute errors scaled to
    [0, 1]).

    Parameters
    ----------
    delta
        Confidence parameter (0 < delta < 1); smaller: fewer false alarms, later detection.
    clock
        Test for a change every ``clock`` updates (integer >= 1).
    max_buckets
        Buckets of each size kept before two merge (integer >= 2): the cut points per doubling
        of the recent part's length.
    min_window_length
        Smallest sub-window length considered at a cut (integer >= 1).
    grace_period
        The first test needs more than this many values in the window (integer >= 1).

    Examples
    --------
    >>> import numpy as np
    >>> from lifecycle.detectors import ADWIN
    >>> rng = np.random.default_rng(42)
    >>> stream = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.3])
    >>> adwin = ADWIN()
    >>> for i, x in enumerate(stream):
    ...     if adwin.update(x).drift_detected:
    ...         print(f"change detected at update {i}, recent part {adwin.width}")
    change detected at update 1183, recent part 672
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
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        check_number("delta", delta, low=0, high=1, low_open=True, high_open=True)
        check_number("clock", clock, low=1, integer=True)
        check_number("max_buckets", max_buckets, low=2, integer=True)
        check_number("min_window_length", min_window_length, low=1, integer=True)
        check_number("grace_period", grace_period, low=1, integer=True)
        super().__init__()
        self.delta = float(delta)
        self.clock = int(clock)
        self.max_buckets = int(max_buckets)
        self.min_window_length = int(min_window_length)
        self.grace_period = int(grace_period)
        self._reset()

    def _params(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "clock": self.clock,
            "max_buckets": self.max_buckets,
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
        self._cum = array("d", [0.0])  # prefix sums over the window, [0] = base
        self._cum2 = array("d", [0.0])  # prefix sums of squares

    def _recent_lengths(self, n: NDArray[np.int64]) -> NDArray[np.int64]:
        """Per window size in ``n``: the recent-part length at every bucket boundary (0 = none)."""
        counts = bucket_counts(n, self.max_buckets)
        sizes = np.int64(1) << np.arange(counts.shape[1], dtype=np.int64)
        below = np.cumsum(counts * sizes, axis=1) - counts * sizes  # values in newer levels
        j = np.arange(1, self.max_buckets + 1, dtype=np.int64)
        n1 = below[:, :, None] + j[None, None, :] * sizes[None, :, None]
        n1 = np.where(j[None, None, :] <= counts[:, :, None], n1, 0)
        return n1.reshape(n.size, -1)

    def _fire(
        self, c: NDArray[np.float64], q: NDArray[np.float64], start: int,
        ends: NDArray[np.int64], n1: NDArray[np.int64],
    ) -> NDArray[np.bool_]:
        """Whether any cut ``n1[t]`` fires for the window ``start..ends[t]`` (buffer indices)."""
        ell = self.min_window_length
        w = (ends - start).astype(np.float64)[:, None]
        n1f = n1.astype(np.float64)
        n0f = w - n1f
        valid = (n1f >= ell) & (n0f >= ell)
        split = np.where(valid, ends[:, None] - n1, start)
        ce = c[ends][:, None]
        cs = c[start]
        cm = c[split]
        mean = (ce - cs) / w
        var = np.maximum((q[ends][:, None] - q[start]) / w - mean * mean, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = (cm - cs) / n0f - (ce - cm) / n1f
            dprime = np.log(2.0 * np.log(w) / self.delta)
            m = 1.0 / (n0f - ell + 1.0) + 1.0 / (n1f - ell + 1.0)
            eps = np.sqrt(2.0 * m * var * dprime) + 2.0 / 3.0 * dprime * m
            fire = valid & (np.abs(diff) > eps)
        return fire.any(axis=1)

    def _fires(self, c: _Floats, q: _Floats, start: int, end: int, sizes: list[int]) -> bool:
        """Scalar :meth:`_fire` for one tick: the window ``start..end``, buckets newest first."""
        ell = self.min_window_length
        w = float(end - start)
        cs, ce = float(c[start]), float(c[end])
        mean = (ce - cs) / w
        var = max((float(q[end]) - float(q[start])) / w - mean * mean, 0.0)
        dprime = math.log(2.0 * math.log(w) / self.delta)
        n1 = 0
        for size in sizes[:-1]:
            n1 += size
            n1f = float(n1)
            n0f = w - n1f
            if n1f < ell or n0f < ell:
                continue
            cm = float(c[end - n1])
            diff = (cm - cs) / n0f - (ce - cm) / n1f
            m = 1.0 / (n0f - ell + 1.0) + 1.0 / (n1f - ell + 1.0)
            if abs(diff) > math.sqrt(2.0 * m * var * dprime) + 2.0 / 3.0 * dprime * m:
                return True
        return False

    def _shrink(self, c: _Floats, q: _Floats, end: int) -> int:
        """Drop the oldest bucket while a cut fires at ``end`` (window from 0); the new start."""
        sizes = _bucket_sizes(end, self.max_buckets)
        start = 0
        while sizes and self._fires(c, q, start, end, sizes):
            start += sizes.pop()  # the oldest bucket
        return start

    def _update(self, x: float) -> bool:
        self._cum.append(self._cum[-1] + x)
        self._cum2.append(self._cum2[-1] + x * x)
        end = len(self._cum) - 1
        if end % self.clock or end <= self.grace_period:
            return False
        sizes = _bucket_sizes(end, self.max_buckets)
        if not self._fires(self._cum, self._cum2, 0, end, sizes):
            return False
        start = self._shrink(self._cum, self._cum2, end)
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
        first = (-(old - 1)) % self.clock or self.clock  # steps to the next tick
        ticks = np.arange(old - 1 + first, old - 1 + x.size + 1, self.clock, dtype=np.int64)
        ticks = ticks[ticks > self.grace_period]
        hit_end = -1
        for lo in range(0, ticks.size, _TICK_BLOCK):
            block = ticks[lo : lo + _TICK_BLOCK]
            fired = self._fire(c, q, 0, block, self._recent_lengths(block))
            if fired.any():
                hit_end = int(block[int(np.argmax(fired))])
                break
        if hit_end < 0:
            self._store(c, q, 0, len(c) - 1)
            return -1
        start = self._shrink(c, q, hit_end)
        self._store(c, q, start, hit_end)
        return hit_end - old

    def _store(self, c: NDArray[np.float64], q: NDArray[np.float64], start: int, end: int) -> None:
        self._cum = array("d", c[start : end + 1].tobytes())
        self._cum2 = array("d", q[start : end + 1].tobytes())

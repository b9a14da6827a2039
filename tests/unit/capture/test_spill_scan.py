"""Spill frames: one flipped byte anywhere costs exactly the frame it falls in."""

from __future__ import annotations

from functools import cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.capture.spill import _frame, scan


@cache
def _frames() -> tuple[list[str], list[bytes]]:
    spec = CaptureSpec(name="m")
    ids, frames = [], []
    for seed, n in enumerate((1, 4, 2, 9)):
        rng = np.random.default_rng(seed)
        rec = (spec, rng.normal(size=(n, 2)), rng.normal(size=n), 1.7e9, 0.001, seed, "call",
               None)
        batch = encode(build_batch([rec], lambda kind, msg: None))
        ids.append(batch.batch_id)
        frames.append(_frame(batch))
    return ids, frames


def test_an_intact_file_is_all_frames() -> None:
    ids, frames = _frames()
    found = list(scan(b"".join(frames)))
    assert [b.batch_id for _, _, b in found if b is not None] == ids
    assert [size for _, size, _ in found] == [len(f) for f in frames]
    assert list(scan(b"")) == []


@settings(max_examples=300, deadline=None)
@given(where=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_one_flipped_byte_costs_its_frame_only(where: float, mask: int) -> None:
    ids, frames = _frames()
    data = bytearray(b"".join(frames))
    pos = int(where * len(data))
    data[pos] ^= mask
    starts = np.cumsum([0] + [len(f) for f in frames])
    hit = int(np.searchsorted(starts, pos, side="right")) - 1
    found = list(scan(bytes(data)))
    assert [b.batch_id for _, _, b in found if b is not None] == ids[:hit] + ids[hit + 1:]
    bad = [(offset, size) for offset, size, b in found if b is None]
    assert bad == [(int(starts[hit]), len(frames[hit]))]
    # every byte is accounted for: readable frames and unreadable stretches tile the file
    assert sum(size for _, size, _ in found) == len(data)


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(1, 10_000))
def test_a_torn_tail_costs_the_last_frame_only(cut: int) -> None:
    ids, frames = _frames()
    whole = b"".join(frames)
    cut = min(cut, len(frames[-1]) - 1)
    found = list(scan(whole[:len(whole) - cut]))
    assert [b.batch_id for _, _, b in found if b is not None] == ids[:-1]
    assert [(o, s) for o, s, b in found if b is None] == [
        (len(whole) - len(frames[-1]), len(frames[-1]) - cut)]

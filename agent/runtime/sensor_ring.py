"""Recent sensor blocks of one stream, placed on the agent's clock.

Sensor blocks carry their own timestamps (a chip driver's injected clock, the virtual
elevator's simulated epoch time, a recording's start); controller samples carry the poller's.
Trips are found in controller time, so each stream's offset to the agent clock is estimated
as the smallest `received_at - block_end` over recent blocks: the transport delay floor, which
is what is left once queueing jitter is taken out. A replayed session stamps its blocks on
the controller trace's clock, as its rows (drivers/replay/timeline.py): the offset is pinned
to 0 there, since arrival times say nothing about an unpaced replay.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

from drivers.blocks import SampleBlock

OFFSET_WINDOW = 64  # blocks over which the delay floor is taken (a few seconds of data)


class SensorRing:
    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self._blocks: deque[SampleBlock] = deque()
        self._offsets: deque[float] = deque(maxlen=OFFSET_WINDOW)
        self.channels: tuple[str, ...] = ()
        self.fs = 0.0
        self.pinned: float | None = None
        self.ends_at = math.inf  # a replayed recording's last sample time: nothing after it

    @property
    def offset(self) -> float:
        if self.pinned is not None:
            return self.pinned
        return min(self._offsets) if self._offsets else 0.0

    def pin(self, offset: float, ends_at: float = math.inf) -> None:
        """Blocks are stamped on the agent's clock minus `offset` and end at `ends_at`."""
        self.pinned, self.ends_at = offset, ends_at

    def covers(self, t: float) -> bool:
        """The ring holds samples up to agent time `t` (a window ending there can be cut),
        or will never hold more of them (the recording ends before)."""
        if t > self.ends_at + self.offset:
            return True
        if not self._blocks:
            return False
        last = self._blocks[-1]
        return last.t0 + last.duration + self.offset >= t

    def add(self, block: SampleBlock, received_at: float) -> None:
        if block.fs != self.fs or block.channels != self.channels:
            self._blocks.clear()  # a new rate or channel set starts a new history
            self.fs, self.channels = block.fs, block.channels
        self._offsets.append(received_at - (block.t0 + block.duration))
        self._blocks.append(block)
        horizon = block.t0 + block.duration - self.keep_s
        while self._blocks and self._blocks[0].t0 + self._blocks[0].duration < horizon:
            self._blocks.popleft()

    def window(self, start: float, end: float) -> npt.NDArray[np.float64] | None:
        """Samples between agent times `start` and `end`, (n, channels); None when the ring
        does not cover the whole window or samples were lost inside it."""
        if not self._blocks or end <= start:
            return None
        lo, hi = start - self.offset, end - self.offset
        first, last = self._blocks[0], self._blocks[-1]
        if first.t0 > lo or last.t0 + last.duration < hi:
            return None
        parts = []
        for i, b in enumerate(self._blocks):
            b_end = b.t0 + b.duration
            if b_end <= lo or b.t0 >= hi:
                continue
            if b.dropped and i and b.t0 > lo:
                return None  # a gap inside the window would smear the spectrum
            a = max(0, int(round((lo - b.t0) * b.fs)))
            z = min(b.n, int(round((hi - b.t0) * b.fs)))
            if z > a:
                parts.append(b.data[a:z])
        if not parts:
            return None
        return np.concatenate(parts).astype(np.float64)

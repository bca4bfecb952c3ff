"""What every accel and noise backend is to the runtime: a source of `SampleBlock`s.

The runtime calls `read()` from its loop; it returns the blocks that are ready now (possibly
none) and never blocks longer than the backend's documented bound. Gaps are not hidden: a
block's `dropped` counts samples lost just before it (FIFO overrun, socket gap, ALSA xrun).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from drivers.blocks import SampleBlock

Clock = Callable[[], float]


class BlockSource(Protocol):
    stream: str

    def read(self) -> list[SampleBlock]: ...

    def close(self) -> None: ...

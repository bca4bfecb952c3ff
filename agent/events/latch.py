"""A debounced boolean: the building block of every event's start and end.

A condition must hold for `raise_after_s` before the event starts and be gone for
`clear_after_s` before it ends (time hysteresis), so a chattering input cannot make an event
flap. An unknown condition (`None`: the readings it needs were not in the sample, e.g. during a
comm loss) freezes the latch: an active event is neither confirmed nor cleared by missing data.
Time comes from the caller (sample timestamps), never from a wall clock.
"""

from __future__ import annotations

from typing import Literal

Edge = Literal["start", "end"]


class Latch:
    def __init__(self, raise_after_s: float, clear_after_s: float) -> None:
        if raise_after_s < 0 or clear_after_s < 0:
            raise ValueError("latch timers must be >= 0")
        self.raise_after_s = raise_after_s
        self.clear_after_s = clear_after_s
        self.active = False
        self._since: float | None = None

    def update(self, condition: bool | None, t: float) -> Edge | None:
        if condition is None:
            return None
        if condition == self.active:
            self._since = None
            return None
        if self._since is None:
            self._since = t
        hold = self.raise_after_s if condition else self.clear_after_s
        if t - self._since < hold:
            return None
        self.active = condition
        self._since = None
        return "start" if condition else "end"

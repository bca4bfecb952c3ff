"""A debounced boolean: the building block of every event's start and end.

A condition must hold for `raise_after_s` before the event starts and be gone for
`clear_after_s` before it ends (time hysteresis), so a chattering input cannot make an event
flap. Time comes from the caller (sample timestamps), never from a wall clock.

Missing data. An unknown condition (`None`: the readings it needs were not in the sample, e.g.
a failed poll) decides nothing: an active event is neither confirmed nor cleared by it. What
matters is how the timer treats the time *between* two known observations:

- up to `bridge_s` apart, the interval counts as held. One or two lost polls are far shorter
  than anything that could end a condition and bring it back unseen (a door dwell, a door
  movement, a passenger leaving all take seconds), so a noisy bus does not slow alarms down.
- further apart, we did not see the condition hold, and the policy decides:
  * `"restart"` (default): the timer starts again from the next observation. Only time seen
    to hold continuously counts. This is what keeps a door command seen before a gap and a
    *new* door command seen after it from adding up to a false door fault: the two
    observations look the same, yet the door reached its limit in between.
  * `"pause"`: the gap adds nothing but keeps what was already counted. For conditions whose
    hidden resolution shows in the next observation (trapped passengers: if the door opened
    and they left, the load has dropped and the condition reads False, which does restart the
    timer). Restarting these on every long gap would let an intermittent bus suppress a
    trapped-passenger alarm for as long as the bus stays bad; pausing still raises it after
    `raise_after_s` of time actually observed, just later.
"""

from __future__ import annotations

from typing import Literal

Edge = Literal["start", "end"]
GapPolicy = Literal["restart", "pause"]


class Latch:
    def __init__(self, raise_after_s: float, clear_after_s: float, *, bridge_s: float = 0.5,
                 on_gap: GapPolicy = "restart") -> None:
        if raise_after_s < 0 or clear_after_s < 0 or bridge_s < 0:
            raise ValueError("latch timers must be >= 0")
        if on_gap not in ("restart", "pause"):
            raise ValueError(f"latch gap policy must be restart or pause, not {on_gap!r}")
        self.raise_after_s = raise_after_s
        self.clear_after_s = clear_after_s
        self.bridge_s = bridge_s
        self.on_gap = on_gap
        self.active = False
        self._pending = False  # the condition differs from `active`: a change is being timed
        self._held = 0.0  # seconds the pending change has been seen to hold
        self._last: float | None = None  # time of the last known observation

    def update(self, condition: bool | None, t: float) -> Edge | None:
        if condition is None:
            return None
        last, self._last = self._last, t
        if condition == self.active:
            self._pending = False
            return None
        if not self._pending:
            self._pending, self._held = True, 0.0
        elif last is not None:
            dt = t - last
            if dt <= self.bridge_s:
                self._held += dt
            elif self.on_gap == "restart":
                self._held = 0.0
        hold = self.raise_after_s if condition else self.clear_after_s
        if self._held < hold - 1e-9:  # tolerance for sums of float poll periods
            return None
        self.active = condition
        self._pending = False
        return "start" if condition else "end"

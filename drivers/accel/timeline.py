"""Timestamps for FIFO reads, and overrun accounting.

A chip FIFO tells how many samples wait in it, not when they were taken. When the host reads
at time `now` and finds `n` samples, the newest was taken within the last sample period, so
the first was taken about (n - 1/2) periods before `now`. Consecutive reads without an
overrun are contiguous, so a block starts exactly where the previous one ended (the DSP wants
an exact grid); the estimate from the FIFO level is used to start, after an overrun, and to
re-anchor when the chip's oscillator and the host clock have drifted apart by more than
`slip_periods` sample periods (datasheet ODR tolerances are a few per cent).

After an overrun the FIFO holds the newest samples and an unknown number were overwritten:
the gap between the previous block's end and the estimated start gives that number, counted
in the block's `dropped` (at least 1: the chip said some were lost), never hidden.
"""

from __future__ import annotations


class FifoTimeline:
    def __init__(self, odr_hz: float, *, slip_periods: float = 4.0) -> None:
        self.odr = odr_hz
        self._slip = slip_periods / odr_hz
        self._next: float | None = None
        self.dropped_total = 0

    def restart(self, t_start: float | None = None) -> None:
        """Forget the past; `t_start`, when known, is when sampling began (so an overrun
        before the first read is still counted)."""
        self._next = t_start

    def place(self, now: float, n: int, overrun: bool, lost: int = 0) -> tuple[float, int]:
        """(t0, dropped) for a block of `n` samples read at `now`; `lost` samples are known
        to be missing just before it (e.g. a partial sample discarded while realigning)."""
        period = 1.0 / self.odr
        estimate = now - (n - 0.5) * period
        dropped = lost
        if self._next is None:
            t0 = estimate
        elif overrun:
            dropped = max(1, lost, round((estimate - self._next) * self.odr))
            t0 = self._next + dropped * period
        elif lost:
            t0 = self._next + lost * period
        elif abs(estimate - self._next) > self._slip:
            t0 = estimate
        else:
            t0 = self._next
        self._next = t0 + n * period
        self.dropped_total += dropped
        return t0, dropped

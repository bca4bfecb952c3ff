"""Time, injected: every module that waits or stamps takes a clock object.

`SystemClock` wraps MicroPython's `time` (ticks_us wraps around, so differences go through
ticks_diff); under CPython it falls back to time.monotonic_ns. Tests pass a fake with the same
four methods and move it by hand.
"""

import time

try:
    _ticks_us = time.ticks_us  # type: ignore[attr-defined]
    _ticks_diff = time.ticks_diff  # type: ignore[attr-defined]
    _sleep_us = time.sleep_us  # type: ignore[attr-defined]
except AttributeError:  # CPython

    def _ticks_us() -> int:
        return time.monotonic_ns() // 1000

    def _ticks_diff(a: int, b: int) -> int:
        return a - b

    def _sleep_us(us: int) -> None:
        time.sleep(us / 1e6)


EPOCH_OFFSET = 0 if time.gmtime(0)[0] == 1970 else 946684800


class SystemClock:
    def ticks_us(self) -> int:
        return _ticks_us()

    def ticks_diff(self, a: int, b: int) -> int:
        return _ticks_diff(a, b)

    def sleep_us(self, us: int) -> None:
        if us > 0:
            _sleep_us(us)

    def time(self) -> float:
        """Unix time (seconds since 1970, after NTP on the board). Ports whose own epoch is
        2000 get the 30-year offset added, so timestamps mean the same on every box."""
        return time.time() + EPOCH_OFFSET

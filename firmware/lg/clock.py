"""Time, injected: every module that waits or stamps takes a clock object.

`SystemClock` wraps MicroPython's `time` (ticks_us wraps around, so differences go through
ticks_diff); under CPython it falls back to time.monotonic_ns. Tests pass a fake with the same
methods and move it by hand.
"""

import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any

_time: "Any" = time
MICROPYTHON = hasattr(time, "ticks_us")
# Unix time on every box: ports whose own epoch is 2000 get the 30-year offset added.
EPOCH_OFFSET = 0 if time.gmtime(0)[0] == 1970 else 946684800


class SystemClock:
    def ticks_us(self) -> int:
        if MICROPYTHON:
            return _time.ticks_us()
        return _time.monotonic_ns() // 1000

    def ticks_diff(self, a: int, b: int) -> int:
        return _time.ticks_diff(a, b) if MICROPYTHON else a - b

    def sleep_us(self, us: int) -> None:
        if us > 0:
            if MICROPYTHON:
                _time.sleep_us(us)
            else:
                _time.sleep(us / 1e6)

    def time(self) -> float:
        """Unix time (seconds since 1970, after NTP on the board)."""
        return _time.time() + EPOCH_OFFSET

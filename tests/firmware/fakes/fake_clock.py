"""A clock for tests (MicroPython and CPython): time moves only when code sleeps or the test
advances it, so timing logic is checked without real waits."""


class FakeClock:
    def __init__(self, start_us=0, wall=1_800_000_000.0):
        self.us = start_us
        self.wall0 = wall

    def ticks_us(self):
        return self.us

    def ticks_diff(self, a, b):
        return a - b

    def sleep_us(self, us):
        if us > 0:
            self.us += us

    def advance_ms(self, ms):
        self.us += int(ms * 1000)

    def time(self):
        return self.wall0 + self.us / 1e6

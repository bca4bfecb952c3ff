"""A fake `machine` module for the firmware tests only (never deployed).

Each class has the methods of MicroPython's machine class that the firmware uses, and the
behaviour the firmware relies on: `UART` delivers a peer's answer only after the request and
the answer have been on the wire for their character times (so t3.5 and deadlines are real);
`Pin` keeps a history; `SPI` forwards transfers to a device model (see adxl345_model.py);
`I2S` reads from a supplied PCM buffer; `WDT` counts feeds.
"""

events = []  # (kind, value) in order across all fakes: DE pin changes, UART writes
HISTORY = 256  # the fakes keep this many recent entries, so a long run does not fill the heap


def _keep(lst, item):
    lst.append(item)
    if len(lst) > 2 * HISTORY:
        del lst[:HISTORY]


class Pin:
    OUT = 1
    IN = 0

    def __init__(self, pin_id, mode=-1, value=None):
        self.id = pin_id
        self.history = []
        self._v = 0
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = 1 if v else 0
        _keep(self.history, self._v)
        _keep(events, ("pin", self.id, self._v))
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class _RealTime:
    """Default clock of a UART nobody attached: the port's own time."""

    def ticks_us(self):
        import time

        return time.ticks_us()

    def sleep_us(self, us):
        import time

        time.sleep_us(us)


class UART:
    def __init__(self, uart_id, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self.id = uart_id
        self.baudrate = baudrate
        self.char_us = (1 + bits + (0 if parity is None else 1) + stop) * 1000000 // baudrate
        self.clock = _RealTime()
        self.peer = None  # no slave attached: the bus stays silent
        self.turnaround_us = 500
        # The answer on the wire: its bytes arrive one character time apart from rx_t0.
        self.rx = b""
        self.rx_t0 = 0
        self.taken = 0
        self.written = []

    def attach(self, clock, peer):
        """Connect a slave: peer(request_bytes) -> answer bytes (or None: stays silent)."""
        self.clock, self.peer = clock, peer

    def write(self, data):
        data = bytes(data)
        _keep(self.written, data)
        _keep(events, ("write", self.id, data))
        done = self.clock.ticks_us() + len(data) * self.char_us
        answer = self.peer(data) if self.peer else None
        if answer:
            self.rx = self.rx[self.taken:] + bytes(answer)
            self.taken = 0
            self.rx_t0 = done + self.turnaround_us
        return len(data)

    def flush(self):
        # machine.UART.flush() blocks until the transmit shift register is empty.
        if self.written:
            self.clock.sleep_us(len(self.written[-1]) * self.char_us)

    def _arrived(self):
        elapsed = self.clock.ticks_us() - self.rx_t0
        return min(len(self.rx), max(0, elapsed // self.char_us)) if self.rx else 0

    def any(self):
        return self._arrived() - self.taken

    def read(self, n=-1):
        end = self._arrived()
        if n is not None and n >= 0:
            end = min(end, self.taken + n)
        if end <= self.taken:
            return None
        data = self.rx[self.taken:end]
        self.taken = end
        if self.taken == len(self.rx):
            self.rx, self.taken = b"", 0
        return data


class SPI:
    MSB = 0

    def __init__(self, spi_id, baudrate=1000000, polarity=0, phase=0, **kw):
        self.id = spi_id
        self.baudrate, self.polarity, self.phase = baudrate, polarity, phase
        self.device = SPI.default_device

    default_device = None  # what a board-built SPI bus talks to (the ADXL345 model)

    def write_readinto(self, wbuf, rbuf):
        out = self.device.transfer(bytes(wbuf))
        for i in range(len(rbuf)):
            rbuf[i] = out[i]

    def write(self, wbuf):
        self.device.transfer(bytes(wbuf))


class I2S:
    RX = 0
    MONO = 0
    STEREO = 1

    def __init__(self, i2s_id, **kw):
        self.kw = kw
        self.source = b""
        self.pos = 0

    loop = False  # True: the source repeats, a microphone that never runs dry

    def readinto(self, buf):
        if self.loop and self.pos >= len(self.source):
            self.pos = 0
        n = min(len(buf), len(self.source) - self.pos)
        buf[:n] = self.source[self.pos:self.pos + n]
        self.pos += n
        return n

    def deinit(self):
        pass


class Stop(Exception):
    """Raised by a WDT with `stop_after` set: ends a boot test's endless main loop."""


class WDT:
    stop_after = None
    last = None

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0
        WDT.last = self

    def feed(self):
        self.feeds += 1
        if WDT.stop_after is not None and self.feeds >= WDT.stop_after:
            raise Stop(self.feeds)


def reset():
    raise SystemExit("machine.reset()")

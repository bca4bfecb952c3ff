"""Modbus RTU master on a half-duplex RS-485 UART with a DE/RE direction pin.

Framing is pure (bytes in, values out) and byte-exact with "MODBUS over Serial Line V1.02":
CRC-16 (poly 0xA001 reflected, init 0xFFFF, low byte first; section 6.2.2), function 03 read
holding registers (request 8 bytes, response 5 + 2N). `RtuMaster` adds the wire rules: a
silence of at least t3.5 before each request (section 2.5.1.1), DE high only while sending,
a deadline per transaction, retries, and typed errors (never None).
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x: int) -> int:  # type: ignore[misc]
        return x


READ_HOLDING = const(0x03)
MAX_READ = const(125)  # Modbus Application Protocol V1.1b3 section 6.3


class ModbusError(Exception):
    kind = "frame"


class ModbusTimeout(ModbusError):
    kind = "timeout"


class CrcError(ModbusError):
    kind = "crc"


class FrameError(ModbusError):
    kind = "frame"


class ExceptionResponse(ModbusError):
    kind = "exception"

    def __init__(self, function: int, code: int) -> None:
        super().__init__(f"exception {code} to function {function}")
        self.code = code


def _crc_table() -> list:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    table = _TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    crc = crc16(body)
    return bytes(body) + bytes((crc & 0xFF, crc >> 8))


def read_request(unit: int, address: int, count: int) -> bytes:
    if not 1 <= unit <= 247:  # 0 is broadcast, 248-255 reserved (Serial Line V1.02 2.2)
        raise ValueError(f"unit {unit} outside 1..247")
    if not 1 <= count <= MAX_READ or not 0 <= address <= 0xFFFF:
        raise ValueError(f"read of {count} registers at {address} is not valid")
    return with_crc(bytes((unit, READ_HOLDING, address >> 8, address & 0xFF, count >> 8,
                           count & 0xFF)))


def response_length(head) -> int:
    """Total frame length known from the first 3 bytes of a response (0: not known yet)."""
    if len(head) < 3:
        return 0
    if head[1] & 0x80:
        return 5
    return 5 + head[2]


def parse_read_response(unit: int, count: int, frame: bytes) -> list:
    """Register values from a complete response frame, or a typed error."""
    if len(frame) < 5:
        raise FrameError(f"short frame of {len(frame)} bytes")
    if crc16(frame[:-2]) != frame[-2] | frame[-1] << 8:
        raise CrcError(f"CRC mismatch in {len(frame)}-byte frame")
    if frame[0] != unit:
        raise FrameError(f"answer from unit {frame[0]}, asked {unit}")
    if frame[1] == READ_HOLDING | 0x80:
        raise ExceptionResponse(READ_HOLDING, frame[2])
    if frame[1] != READ_HOLDING or frame[2] != 2 * count or len(frame) != 5 + 2 * count:
        raise FrameError(f"unexpected function {frame[1]} / byte count {frame[2]}")
    return [frame[3 + 2 * i] << 8 | frame[4 + 2 * i] for i in range(count)]


def char_time_us(baud: int, bits_per_char: int = 11) -> int:
    return (bits_per_char * 1000000 + baud - 1) // baud


def t35_us(baud: int, bits_per_char: int = 11) -> int:
    # Serial Line V1.02 2.5.1.1: above 19200 baud a fixed 1.750 ms.
    if baud > 19200:
        return 1750
    return (35 * char_time_us(baud, bits_per_char) + 9) // 10


class RtuMaster:
    """One transaction at a time on `uart` (machine.UART or a fake with write/read/any/flush).

    `de` is the transceiver's tied DE/RE pin (high = drive the bus) or None for a transceiver
    with automatic direction control. `echo` strips the local echo of adapters that hear
    themselves. Retries only repeat timeouts and corrupted frames, not exception responses:
    the slave answered, repeating will not change its mind.
    """

    def __init__(self, uart, de, clock, baud: int, bits_per_char: int = 11,
                 timeout_ms: int = 100, retries: int = 2, echo: bool = False,
                 gap_ms: int = 20) -> None:
        self.uart, self.de, self.clock = uart, de, clock
        self.t35 = t35_us(baud, bits_per_char)
        # A frame is known complete by its length; silence only ends a broken one. A polling
        # loop cannot see gaps shorter than its own jitter, so that silence is at least
        # gap_ms (the UART driver's RX FIFO keeps bytes meanwhile; nothing is lost).
        self.gap_us = max(self.t35, gap_ms * 1000)
        self.char_us = char_time_us(baud, bits_per_char)
        self.timeout_us = timeout_ms * 1000
        self.retries = retries
        self.echo = echo
        self._last_us = clock.ticks_us()
        self.stats = {"requests": 0, "timeout": 0, "crc": 0, "frame": 0, "exception": 0}
        if de is not None:
            de.value(0)

    def read_holding(self, unit: int, address: int, count: int) -> list:
        request = read_request(unit, address, count)
        error = None
        for _ in range(1 + self.retries):
            try:
                return parse_read_response(unit, count, self._transact(request))
            except ExceptionResponse as exc:
                self.stats["exception"] += 1
                raise exc
            except ModbusError as exc:
                self.stats[exc.kind] += 1
                error = exc
        raise error  # type: ignore[misc]

    def _transact(self, request: bytes) -> bytes:
        clock, uart = self.clock, self.uart
        self.stats["requests"] += 1
        quiet = clock.ticks_diff(clock.ticks_us(), self._last_us)
        if quiet < self.t35:
            clock.sleep_us(self.t35 - quiet)
        if uart.any():
            uart.read()  # a late answer to an earlier, abandoned request
        if self.de is not None:
            self.de.value(1)
        uart.write(request)
        uart.flush()  # returns when the last stop bit has left the shift register
        if self.de is not None:
            self.de.value(0)
        start = clock.ticks_us()
        try:
            if self.echo:
                heard = self._receive(start, len(request))
                if heard != request:
                    raise FrameError("local echo differs from the request")
            return self._receive(start, 0)
        finally:
            self._last_us = clock.ticks_us()

    def _receive(self, start: int, want: int) -> bytes:
        clock, uart = self.clock, self.uart
        buf = bytearray()
        last_byte = start
        while True:
            n = uart.any()
            now = clock.ticks_us()
            if n:
                chunk = uart.read(min(n, want - len(buf)) if want else n)
                if chunk:
                    buf.extend(chunk)
                    last_byte = now
            total = want or response_length(buf)
            if total and len(buf) >= total:
                return bytes(buf[:total])
            if buf and clock.ticks_diff(now, last_byte) > self.gap_us:
                raise FrameError(f"frame ended after {len(buf)} bytes (silence)")
            if clock.ticks_diff(now, start) > self.timeout_us:
                if buf:
                    raise FrameError(f"incomplete frame of {len(buf)} bytes at deadline")
                raise ModbusTimeout(f"no answer within {self.timeout_us // 1000} ms")
            clock.sleep_us(self.char_us)

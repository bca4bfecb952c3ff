"""Modbus RTU framing as pure functions: bytes in, frames or typed errors out.

Only what a monitoring master needs: function 03/04 (read holding/input registers) requests,
their responses and exception responses. Everything here is I/O-free so it is tested with
tables of bytes and hypothesis; `drivers.controller.link` does the serial I/O around it.

References: Modbus over Serial Line V1.02 (MOSL) section 2.5.1 (RTU framing, CRC-16 with
polynomial 0xA001 reflected, initial 0xFFFF, low byte first) and section 2.5.1.1 (t1.5, t3.5);
Modbus Application Protocol V1.1b3 (MAP) sections 6.3/6.4 (read registers) and 7 (exceptions).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.controller.errors import CrcError, ExceptionResponse, FrameError

READ_HOLDING = 0x03
READ_INPUT = 0x04
MAX_READ_REGISTERS = 125  # MAP 6.3: quantity of registers 1..125
EXCEPTION_FRAME_LEN = 5  # address, function | 0x80, code, CRC lo, CRC hi


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """Modbus CRC-16 (MOSL 6.2.2); the wire carries it low byte first."""
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ b) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    crc = crc16(body)
    return body + bytes((crc & 0xFF, crc >> 8))


def crc_ok(frame: bytes | bytearray | memoryview) -> bool:
    return len(frame) >= 4 and crc16(frame[:-2]) == (frame[-2] | frame[-1] << 8)


@dataclass(frozen=True)
class ReadRequest:
    device_id: int
    address: int
    count: int
    function: int = READ_HOLDING

    def __post_init__(self) -> None:
        if not 1 <= self.device_id <= 247:  # MOSL 2.2: 0 is broadcast, 248-255 reserved
            raise ValueError(f"device id {self.device_id} must be 1..247")
        if not 1 <= self.count <= MAX_READ_REGISTERS:
            raise ValueError(f"register count {self.count} must be 1..{MAX_READ_REGISTERS}")
        if not 0 <= self.address <= 0xFFFF or self.address + self.count > 0x10000:
            raise ValueError(f"registers {self.address:#x}+{self.count} outside 0..0xFFFF")
        if self.function not in (READ_HOLDING, READ_INPUT):
            raise ValueError(f"function {self.function} is not a register read")

    def encode(self) -> bytes:
        return with_crc(
            bytes((self.device_id, self.function))
            + self.address.to_bytes(2, "big")
            + self.count.to_bytes(2, "big")
        )

    @property
    def response_len(self) -> int:
        """Length of a normal response: address, function, byte count, 2N data, CRC."""
        return 5 + 2 * self.count


def parse_request(frame: bytes) -> ReadRequest:
    """Decode a read request (the slave side; used by the bench paced link and tests)."""
    if len(frame) != 8:
        raise FrameError(f"request of {len(frame)} bytes, a register read is 8")
    if not crc_ok(frame):
        raise CrcError("request CRC mismatch")
    try:
        return ReadRequest(
            frame[0], int.from_bytes(frame[2:4], "big"), int.from_bytes(frame[4:6], "big"),
            frame[1],
        )
    except ValueError as exc:
        raise FrameError(str(exc)) from None


def encode_response(req: ReadRequest, registers: list[int]) -> bytes:
    if len(registers) != req.count:
        raise ValueError(f"{len(registers)} registers for a read of {req.count}")
    data = b"".join((r & 0xFFFF).to_bytes(2, "big") for r in registers)
    return with_crc(bytes((req.device_id, req.function, len(data))) + data)


def encode_exception(req: ReadRequest, code: int) -> bytes:
    return with_crc(bytes((req.device_id, req.function | 0x80, code)))


@dataclass(frozen=True)
class Scan:
    """Result of looking for a response in received bytes.

    `registers` is set when a valid response was found; `error` when a complete, addressed,
    CRC-valid exception was found. `need` is how many more bytes could complete a frame at the
    current candidate (0 when done), and `skipped` how many leading bytes were discarded as
    garbage while resynchronising.
    """

    registers: tuple[int, ...] | None = None
    error: ExceptionResponse | None = None
    need: int = 0
    skipped: int = 0
    crc_failures: int = 0


def scan_response(req: ReadRequest, buf: bytes | bytearray) -> Scan:
    """Find the response to `req` in `buf`, skipping garbage before it.

    A candidate starts at a byte equal to the device id followed by the request's function
    (or its exception form). A candidate whose CRC fails is counted and skipped, so a frame
    with a bad CRC is never accepted, while a good frame after line noise still is (MOSL 2.5.1
    lets a master discard a damaged frame; resynchronising on the next address byte is what
    lets us read the next good frame without waiting for a timeout).
    """
    n = len(buf)
    fn = req.function
    crc_failures = 0
    i = 0
    while i < n:
        if buf[i] != req.device_id:
            i += 1
            continue
        if i + 1 >= n:
            return Scan(need=1, skipped=i, crc_failures=crc_failures)
        f = buf[i + 1]
        if f == fn:
            if i + 2 >= n:
                return Scan(need=1, skipped=i, crc_failures=crc_failures)
            if buf[i + 2] != 2 * req.count:
                i += 1
                continue
            end = i + req.response_len
            if end > n:
                return Scan(need=end - n, skipped=i, crc_failures=crc_failures)
            frame = buf[i:end]
            if crc_ok(frame):
                data = frame[3:-2]
                regs = tuple(
                    int.from_bytes(data[k : k + 2], "big") for k in range(0, len(data), 2)
                )
                return Scan(registers=regs, skipped=i, crc_failures=crc_failures)
            crc_failures += 1
        elif f == fn | 0x80:
            end = i + EXCEPTION_FRAME_LEN
            if end > n:
                return Scan(need=end - n, skipped=i, crc_failures=crc_failures)
            frame = buf[i:end]
            if crc_ok(frame):
                return Scan(
                    error=ExceptionResponse(frame[2], req.device_id, req.address),
                    skipped=i,
                    crc_failures=crc_failures,
                )
            crc_failures += 1
        i += 1
    return Scan(need=1, skipped=n, crc_failures=crc_failures)


def char_bits(parity: str, stopbits: int, bytesize: int = 8) -> int:
    """Bits per character on the wire: start + data + parity + stop (MOSL 2.5.1)."""
    return 1 + bytesize + (0 if parity == "N" else 1) + stopbits


def t35(baudrate: int, bits: int) -> float:
    """Inter-frame silence t3.5 in seconds (MOSL 2.5.1.1: fixed 1.75 ms above 19200 baud)."""
    if baudrate > 19200:
        return 0.00175
    return 3.5 * bits / baudrate


def t15(baudrate: int, bits: int) -> float:
    """Inter-character limit t1.5 in seconds (MOSL 2.5.1.1: fixed 750 us above 19200 baud)."""
    if baudrate > 19200:
        return 0.00075
    return 1.5 * bits / baudrate


def min_transaction_s(count: int, baudrate: int, bits: int) -> float:
    """Wire-limited time of one read of `count` registers (REFERENCE.md section 3).

    Request 8 bytes + response 5 + 2N bytes = (13 + 2N) characters, plus two t3.5 gaps.
    """
    return (13 + 2 * count) * bits / baudrate + 2 * t35(baudrate, bits)

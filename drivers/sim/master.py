"""A small Modbus RTU master for looking at the virtual elevator from the agent's side.

The demo's live view, the wire benchmark and the served-mode tests read the controller port
with it, so they see exactly what a master on the bus sees: paced bytes, silence when the
controller is unplugged, CRC errors when the bus is noisy. It reads registers (FC03/FC04)
and nothing else; the agent's own client lives in drivers/controller/.

Framing per Modbus over Serial Line V1.02 2.5.1 (CRC-16, polynomial 0xA001 reflected,
initial 0xFFFF, low byte first) and Modbus Application Protocol V1.1b3 6.3/6.4 and 7.
"""

from __future__ import annotations

from typing import Protocol

# One CRC and framing for every master in the tree: the agent's RTU layer's.
from drivers.controller.rtu import crc16 as crc16
from drivers.controller.rtu import with_crc as frame


class ProbeError(Exception):
    """A read failed; subclasses say how."""


class NoResponse(ProbeError):
    """Nothing (or not a whole frame) arrived before the timeout."""


class CrcMismatch(ProbeError):
    """A frame arrived but its CRC does not match: the bus garbled it."""


class BadFrame(ProbeError):
    """A frame with a valid CRC that is not the answer to our request."""


class ExceptionReply(ProbeError):
    """The slave answered with a Modbus exception (MAP 7)."""

    def __init__(self, function: int, code: int) -> None:
        super().__init__(f"exception {code:02d} to function {function:02d}")
        self.code = code


class SerialLike(Protocol):
    timeout: float | None

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    def reset_input_buffer(self) -> None: ...


def read_request(device_id: int, address: int, count: int, function: int = 3) -> bytes:
    return frame(bytes((device_id, function, address >> 8, address & 0xFF, 0, count)))


def parse_read_response(data: bytes, device_id: int, function: int, count: int) -> list[int]:
    """Registers from a complete response frame, or the typed error it amounts to."""
    if len(data) >= 5 and data[1] == function | 0x80:
        if crc16(data[:3]) != int.from_bytes(data[3:5], "little"):
            raise CrcMismatch(f"CRC error in exception frame {data[:5].hex()}")
        raise ExceptionReply(function, data[2])
    expected = 5 + 2 * count
    if len(data) < expected:
        raise NoResponse(f"short frame: {len(data)} of {expected} bytes")
    body = data[: expected - 2]
    if crc16(body) != int.from_bytes(data[expected - 2 : expected], "little"):
        raise CrcMismatch(f"CRC error in {data[:expected].hex()}")
    if body[0] != device_id or body[1] != function or body[2] != 2 * count:
        raise BadFrame(f"unexpected frame {data[:expected].hex()}")
    return [int.from_bytes(body[3 + 2 * i : 5 + 2 * i], "big") for i in range(count)]


class RegisterProbe:
    """Reads registers over an open serial port (pyserial; its timeout is set per read)."""

    def __init__(self, port: SerialLike, device_id: int = 1, timeout: float = 0.5) -> None:
        self._port = port
        self.device_id = device_id
        self.timeout = timeout

    def read(self, address: int, count: int, function: int = 3) -> list[int]:
        port = self._port
        port.reset_input_buffer()  # stale garbage from a noisy idle line
        port.timeout = self.timeout
        port.write(read_request(self.device_id, address, count, function))
        head = port.read(5)  # enough to tell an exception reply (5 bytes) from data
        if len(head) < 5:
            raise NoResponse(f"no answer from device {self.device_id} within {self.timeout} s")
        if head[1] == function | 0x80:
            return parse_read_response(head, self.device_id, function, count)
        rest = port.read(2 * count)
        return parse_read_response(head + rest, self.device_id, function, count)

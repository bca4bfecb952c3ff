"""Typed failures of the controller link.

A failed transaction raises one of these, never returns None. `kind` is a short stable name
used in `ControllerSample.error`, in log de-duplication and by the comm_lost rule.
"""

from __future__ import annotations

from agent.errors import LiftguardError

# MAP V1.1b3 section 7: exception codes a slave may return.
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}


class ControllerError(LiftguardError):
    """A transaction with the controller failed."""

    kind = "error"
    exit_code = 4


class ControllerTimeout(ControllerError):
    """No complete, valid response arrived before the transaction deadline."""

    kind = "timeout"


class CrcError(ControllerError):
    """Only frames with a bad CRC arrived (line noise, wrong baud or parity)."""

    kind = "crc"


class FrameError(ControllerError):
    """Bytes arrived but never formed a response to our request (garbage, wrong framing)."""

    kind = "frame"


class EchoError(ControllerError):
    """Local-echo suppression expected our own request back and heard something else."""

    kind = "echo"


class PortGone(ControllerError):
    """The serial port cannot be opened or vanished (USB adapter pulled, pty closed)."""

    kind = "port_gone"


class ExceptionResponse(ControllerError):
    """The slave answered with a Modbus exception (MAP section 7)."""

    kind = "exception"

    def __init__(self, code: int, device_id: int, address: int) -> None:
        self.code = code
        self.device_id = device_id
        self.address = address
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        super().__init__(
            f"device {device_id} answered exception {code} ({name}) reading {address:#06x}"
        )

"""The RS-485 wire between the agent and the virtual controller, as a timing and fault model.

Everything here is pure: byte strings and timestamps in, delivery times and bytes out. The
thread that moves bytes between two ptys on this schedule lives in drivers/sim/relay.py.

Timing follows Modbus over Serial Line V1.02 (section 2.5.1.1):
- a character is start + 8 data + parity + stop bits. Parity is charged here even though the
  pty link itself runs 8N1, because ptys on our machines reject PARENB with EINVAL; an 8E1
  line therefore moves 11 bits per character, exactly like the real bus;
- frames are separated by at least 3.5 character times of silence (t3.5); above 19200 baud
  the spec fixes t1.5 = 750 us and t3.5 = 1.750 ms;
- the bus is half duplex and shared: a station that starts talking while the line is still
  busy (or inside the t3.5 gap) waits for it, as a well-behaved RTU master or slave must.

Bytes written in one burst by a station form one frame; bytes that arrive while that frame is
still on the wire (or less than t1.5 after it) continue it without a gap, as a UART with a
transmit FIFO would send them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from agent.errors import InputError

# Standard rates of RS-485 adapters and controllers; the NICE3000+ offers 9600-115200.
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
PARITIES = ("N", "E", "O")

# Modbus over Serial Line V1.02, 2.5.1.1: fixed inter-frame timers above 19200 baud.
FIXED_T1_5 = 750e-6
FIXED_T3_5 = 1.750e-3

TO_SLAVE = 0  # agent (master) -> controller (slave)
TO_MASTER = 1  # controller -> agent


@dataclass(frozen=True)
class LineSettings:
    """Serial line parameters of the controller link (default 19200 8N1, REFERENCE 3)."""

    baud: int = 19200
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8

    def __post_init__(self) -> None:
        if self.baud not in BAUD_RATES:
            rates = ", ".join(map(str, BAUD_RATES))
            raise InputError(f"baud rate {self.baud} is not one of {rates}")
        if self.parity not in PARITIES:
            raise InputError(f"parity {self.parity!r} must be N, E or O")
        if self.stopbits not in (1, 2):
            raise InputError(f"stop bits {self.stopbits} must be 1 or 2")
        if self.bytesize != 8:
            raise InputError("Modbus RTU needs 8 data bits")

    @property
    def bits_per_char(self) -> int:
        return 1 + self.bytesize + (self.parity != "N") + self.stopbits

    @property
    def char_time(self) -> float:
        return self.bits_per_char / self.baud

    @property
    def t1_5(self) -> float:
        return FIXED_T1_5 if self.baud > 19200 else 1.5 * self.char_time

    @property
    def t3_5(self) -> float:
        return FIXED_T3_5 if self.baud > 19200 else 3.5 * self.char_time

    def read_transaction_time(self, registers: int) -> float:
        """Shortest possible FC03/FC04 transaction: an 8-byte request, a (5 + 2N)-byte
        response and two t3.5 gaps (REFERENCE 3); the wire limit the emulator must not beat."""
        return (13 + 2 * registers) * self.char_time + 2 * self.t3_5

    def describe(self) -> str:
        return f"{self.baud} {self.bytesize}{self.parity}{self.stopbits}"


class WireSchedule:
    """Decides when each byte finishes arriving at the far station.

    `place()` is called with the time a station wrote a burst; it returns, per byte, the time
    its stop bit ends on the wire. With `paced=False` bytes are delivered on arrival (the
    `--no-wire-emulation` mode); faults still apply.
    """

    def __init__(self, line: LineSettings, paced: bool = True) -> None:
        self.line = line
        self.paced = paced
        self._line_end = float("-inf")  # when the last character on the wire ended
        self._last_direction = -1

    def place(self, direction: int, arrival: float, size: int) -> list[float]:
        if not self.paced:
            return [arrival] * size
        ct = self.line.char_time
        continues = (
            direction == self._last_direction and arrival <= self._line_end + self.line.t1_5
        )
        start = max(arrival, self._line_end) if continues else max(
            arrival, self._line_end + self.line.t3_5
        )
        due = [start + (i + 1) * ct for i in range(size)]
        if size:
            self._line_end = due[-1]
            self._last_direction = direction
        return due

    def idle_since(self) -> float:
        return self._line_end


@dataclass
class NoiseHit:
    """What noise did to one frame (kept so tests and logs can say what happened)."""

    kind: str  # "clean", "bitflip", "garbage_before", "garbage_after", "truncated"
    data: bytes


class BusNoise:
    """Interference on the bus, from 0 (clean) to 1 (every frame hit).

    Each frame is hit with probability `level`. A hit flips bits in one byte (the receiver's
    CRC check fails: CRC-16 catches every burst up to 16 bits), puts a burst of random bytes
    before or after the frame, or cuts the frame short (the receiver times out). Between
    frames, bursts of garbage also appear at `level` x IDLE_BURST_RATE per second, as
    ground loops and contactor switching put them on a real line.
    """

    IDLE_BURST_RATE = 4.0  # bursts per second at level 1

    def __init__(self, rng: random.Random, level: float = 0.0) -> None:
        self._rng = rng
        self.level = level

    def corrupt(self, frame: bytes) -> NoiseHit:
        rng = self._rng
        if not frame or self.level <= 0 or rng.random() >= self.level:
            return NoiseHit("clean", frame)
        kind = rng.choice(("bitflip", "bitflip", "garbage_before", "garbage_after", "truncated"))
        data = bytearray(frame)
        if kind == "bitflip":
            i = rng.randrange(len(data))
            data[i] ^= rng.randrange(1, 256)
        elif kind == "garbage_before":
            data[0:0] = rng.randbytes(rng.randint(1, 6))
        elif kind == "garbage_after":
            data += rng.randbytes(rng.randint(1, 6))
        else:
            del data[rng.randrange(1, len(data)) if len(data) > 1 else 0 :]
        return NoiseHit(kind, bytes(data))

    def idle_burst(self, quiet_seconds: float) -> bytes:
        """Garbage that appeared during `quiet_seconds` of an idle line (often nothing)."""
        if self.level <= 0 or quiet_seconds <= 0:
            return b""
        p = min(1.0, self.level * self.IDLE_BURST_RATE * quiet_seconds)
        if self._rng.random() >= p:
            return b""
        return self._rng.randbytes(self._rng.randint(1, 4))

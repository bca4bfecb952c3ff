"""A register-level ADXL355 (data sheet Rev. D) behind the SPI seam.

Implements reset values and the 0x52 soft reset, the SPI command byte (register << 1 | R/W)
with auto-increment except at FIFO_DATA, sampling at the FILTER ODR while POWER_CTL.STANDBY is
clear, the 96-word FIFO (oldest sample lost on overrun, STATUS.FIFO_OVR set until STATUS is
read), the x marker and empty flags of FIFO words, 20-bit scaling per RANGE, writes to
FILTER/RANGE refused outside standby, and the temperature registers.
"""

from __future__ import annotations

import math
from collections import deque

STATUS, FIFO_ENTRIES, TEMP2, TEMP1, FIFO_DATA = 0x04, 0x05, 0x06, 0x07, 0x11
FILTER, FIFO_SAMPLES, RANGE, POWER_CTL, RESET = 0x28, 0x29, 0x2C, 0x2D, 0x2F
READ_ONLY = set(range(0x00, 0x12))
RESET_VALUES = {0x00: 0xAD, 0x01: 0x1D, 0x02: 0xED, 0x03: 0x01, FIFO_SAMPLES: 0x60,
                RANGE: 0x81, POWER_CTL: 0x01}


class ProtocolViolation(AssertionError):
    pass


class FakeAdxl355:
    def __init__(self, clock, signal=lambda t: (0.0, 0.0, 1.0), temp_c=31.0):
        self.clock = clock
        self.signal = signal
        self.temp_c = temp_c
        self.log: list[tuple[bytes, bytes]] = []
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.regs = bytearray(0x30)
        for k, v in RESET_VALUES.items():
            self.regs[k] = v
        self.words: deque[tuple[int, int]] = deque()  # (axis, value)
        self.overrun = False
        self.t_start: float | None = None
        self.k_next = 0
        self.produced = 0
        self.latest = (0, 0, 0)

    @property
    def odr(self) -> float:
        return 4000.0 / 2 ** (self.regs[FILTER] & 0x0F)

    @property
    def standby(self) -> bool:
        return bool(self.regs[POWER_CTL] & 0x01)

    def _encode(self, g: float) -> int:
        lsb = 256000.0 / (1 << ((self.regs[RANGE] & 0x03) - 1))
        return max(-(1 << 19), min((1 << 19) - 1, round(g * lsb)))

    def _advance(self) -> None:
        if self.standby or self.t_start is None:
            return
        last = math.floor((self.clock() - self.t_start) * self.odr + 1e-9)
        while self.k_next <= last:
            s = tuple(self._encode(v) for v in self.signal(self.t_start + self.k_next / self.odr))
            self.k_next += 1
            self.produced += 1
            self.latest = s
            if len(self.words) + 3 > 96:
                for _ in range(3):
                    self.words.popleft()
                self.overrun = True
            self.words.extend(enumerate(s))

    @staticmethod
    def _word(value: int, flags: int) -> bytes:
        v = value & 0xFFFFF
        return bytes([v >> 12, (v >> 4) & 0xFF, ((v & 0x0F) << 4) | flags])

    def _read(self, reg: int, n: int) -> bytes:
        if reg == FIFO_DATA:
            out = bytearray()
            while len(out) < n:
                if self.words:
                    axis, value = self.words.popleft()
                    out += self._word(value, 1 if axis == 0 else 0)
                else:
                    out += self._word(0, 0x02)
            return bytes(out[:n])
        out = bytearray()
        for r in range(reg, reg + n):
            if r == STATUS:
                wm = self.regs[FIFO_SAMPLES]
                v = 0x01 | (0x02 if len(self.words) >= wm else 0) | (0x04 if self.overrun else 0)
                self.overrun = False  # cleared by reading STATUS
                out.append(v)
            elif r == FIFO_ENTRIES:
                out.append(len(self.words))
            elif r in (TEMP2, TEMP1):
                raw = round(1885 - 9.05 * (self.temp_c - 25.0))
                out.append((raw >> 8) & 0x0F if r == TEMP2 else raw & 0xFF)
            elif 0x08 <= r <= 0x10:
                i = r - 0x08
                out.append(self._word(self.latest[i // 3], 0)[i % 3])
            else:
                out.append(self.regs[r] if r < len(self.regs) else 0)
        return bytes(out)

    def _write(self, reg: int, value: int) -> None:
        if reg in READ_ONLY or reg >= 0x30:
            raise ProtocolViolation(f"write to read-only register {reg:#04x}")
        if reg == RESET:
            if value == 0x52:
                self._reset()
            return
        if reg in (FILTER, RANGE) and not self.standby:
            raise ProtocolViolation(f"{reg:#04x} written outside standby")
        if reg == POWER_CTL and not (value & 0x01) and self.standby:
            self.t_start, self.k_next = self.clock(), 0
        self.regs[reg] = value

    def transfer(self, data: bytes) -> bytes:
        if len(data) < 2:
            raise ProtocolViolation("an SPI transaction needs a command and a data byte")
        self._advance()
        reg, read = data[0] >> 1, data[0] & 1
        if read:
            rx = b"\x00" + self._read(reg, len(data) - 1)
        else:
            for i, v in enumerate(data[1:]):
                self._write(reg + i, v)
            rx = bytes(len(data))
        self.log.append((bytes(data), rx))
        return rx

    def close(self) -> None:
        self.closed = True

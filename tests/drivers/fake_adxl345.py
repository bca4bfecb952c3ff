"""A register-level ADXL345 (data sheet Rev. G) behind the SPI and I2C seams.

It implements what the driver relies on, from the data sheet rather than from the driver:
reset values, the SPI command byte (read and multiple-byte bits) and I2C addressing, sampling
at the ODR set in BW_RATE while POWER_CTL.Measure is set (time from an injected clock), the
32-level FIFO in bypass/FIFO/stream modes with the watermark and overrun bits of INT_SOURCE,
the pop after the data registers are read, DATA_FORMAT scaling (full resolution or 10-bit,
range clipping) and the self-test deflection. Bus misuse raises `ProtocolViolation` so a test
fails instead of reading garbage.
"""

from __future__ import annotations

import math
from collections import deque

DEVID, BW_RATE, POWER_CTL, INT_SOURCE, DATA_FORMAT, FIFO_CTL, FIFO_STATUS = (
    0x00, 0x2C, 0x2D, 0x30, 0x31, 0x38, 0x39)
DATA = range(0x32, 0x38)
READ_ONLY = {DEVID, INT_SOURCE, FIFO_STATUS, *DATA}
# typical self-test deflection in g (within the Vs = 3.3 V limits of Table 1 x Table 14)
SELF_TEST_G = (0.8, -0.8, 1.2)


class ProtocolViolation(AssertionError):
    pass


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.t += dt


class FakeAdxl345:
    def __init__(self, clock, signal=lambda t: (0.0, 0.0, 1.0), i2c_address=0x53):
        self.clock = clock
        self.signal = signal  # acceleration in g at time t
        self.i2c_address = i2c_address
        self.regs = bytearray(0x40)
        self.regs[DEVID] = 0xE5
        self.regs[BW_RATE] = 0x0A  # reset value: 100 Hz (Table 19)
        self.fifo: deque[tuple[int, int, int]] = deque()
        self.overrun = False
        self.t_start: float | None = None
        self.k_next = 0
        self.log: list[tuple[bytes, bytes]] = []  # SPI (tx, rx) or I2C ops as bytes
        self.writes_while_measuring: list[int] = []
        self.produced = 0
        self.closed = False

    # --- chip semantics ---------------------------------------------------------------

    @property
    def odr(self) -> float:
        return 3200.0 / 2 ** (15 - (self.regs[BW_RATE] & 0x0F))

    @property
    def measuring(self) -> bool:
        return bool(self.regs[POWER_CTL] & 0x08)

    def _encode(self, g: float, axis: int) -> int:
        fmt = self.regs[DATA_FORMAT]
        rng = fmt & 0x03
        if fmt & 0x80:
            g += SELF_TEST_G[axis]
        if fmt & 0x04:
            raise ProtocolViolation("left-justified data not modelled")
        if fmt & 0x08:  # full resolution: 3.9 mg/LSB, 10 to 13 bits as the range grows
            lsb, limit = 256.0, 1 << (9 + rng)
        else:  # 10-bit: the LSB grows with the range
            lsb, limit = 256.0 / (1 << rng), 1 << 9
        return max(-limit, min(limit - 1, round(g * lsb)))

    def _advance(self) -> None:
        if not self.measuring or self.t_start is None:
            return
        last = math.floor((self.clock() - self.t_start) * self.odr + 1e-9)
        mode = self.regs[FIFO_CTL] >> 6
        while self.k_next <= last:
            t = self.t_start + self.k_next / self.odr
            s = tuple(self._encode(v, i) for i, v in enumerate(self.signal(t)))
            self.k_next += 1
            self.produced += 1
            if mode == 0:  # bypass: only the data registers
                self.fifo.clear()
                self.fifo.append(s)
            elif mode == 1:  # FIFO: stops collecting when full
                if len(self.fifo) < 32:
                    self.fifo.append(s)
                else:
                    self.overrun = True
            else:  # stream (and trigger, not used): keeps the newest 32
                self.fifo.append(s)
                if len(self.fifo) > 32:
                    self.fifo.popleft()
                    self.overrun = True

    def _read(self, reg: int) -> int:
        if reg == INT_SOURCE:
            wm = self.regs[FIFO_CTL] & 0x1F
            v = (0x80 if self.fifo else 0) | (0x02 if len(self.fifo) >= wm else 0)
            return v | (0x01 if self.overrun else 0)
        if reg == FIFO_STATUS:
            return 0 if (self.regs[FIFO_CTL] >> 6) == 0 else min(len(self.fifo), 32)
        if reg in DATA:
            s = self.fifo[0] if self.fifo else (0, 0, 0)
            i = reg - 0x32
            return (s[i // 2] & 0xFFFF) >> (8 * (i % 2)) & 0xFF
        return self.regs[reg]

    def _write(self, reg: int, value: int) -> None:
        if reg in READ_ONLY or reg > 0x39 or 0x01 <= reg <= 0x1C:
            raise ProtocolViolation(f"write to read-only/reserved register {reg:#04x}")
        if self.measuring and reg not in (POWER_CTL,) and not (
            reg == DATA_FORMAT and (value & 0x7F) == (self.regs[DATA_FORMAT] & 0x7F)
        ):
            self.writes_while_measuring.append(reg)
        if reg == FIFO_CTL and value >> 6 == 0:
            self.fifo.clear()
            self.overrun = False
        if reg == POWER_CTL and value & 0x08 and not self.measuring:
            self.t_start, self.k_next = self.clock(), 0
        self.regs[reg] = value

    def _access(self, reg: int, n: int, write: bytes | None) -> bytes:
        self._advance()
        if write is not None:
            for i, v in enumerate(write):
                self._write(reg + i, v)
            return b""
        out = bytes(self._read(reg + i) for i in range(n))
        if any(r in DATA for r in range(reg, reg + n)) and self.fifo:
            self.fifo.popleft()  # the FIFO pops once the data registers have been read
            self.overrun = False  # "cleared by reading data" (INT_SOURCE)
        return out

    # --- SPI seam -----------------------------------------------------------------------

    def transfer(self, data: bytes) -> bytes:
        if len(data) < 2:
            raise ProtocolViolation("an SPI transaction needs a command and a data byte")
        cmd = data[0]
        reg, multi, read = cmd & 0x3F, bool(cmd & 0x40), bool(cmd & 0x80)
        if len(data) > 2 and not multi:
            raise ProtocolViolation(f"{len(data) - 1} data bytes without the MB bit")
        if read:
            rx = b"\x00" + self._access(reg, len(data) - 1, None)
        else:
            self._access(reg, 0, data[1:])
            rx = bytes(len(data))
        self.log.append((bytes(data), rx))
        return rx

    # --- I2C seam -----------------------------------------------------------------------

    def _check_addr(self, address: int) -> None:
        if address != self.i2c_address:
            raise ProtocolViolation(f"I2C address {address:#04x}: no ACK")

    def read_block(self, address: int, register: int, n: int) -> bytes:
        self._check_addr(address)
        out = self._access(register, n, None)
        self.log.append((bytes([address << 1 | 1, register, n]), out))
        return out

    def write_byte(self, address: int, register: int, value: int) -> None:
        self._check_addr(address)
        self._access(register, 0, bytes([value]))
        self.log.append((bytes([address << 1, register, value]), b""))

    def close(self) -> None:
        self.closed = True

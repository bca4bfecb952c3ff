"""Analog Devices ADXL355 low-noise 3-axis accelerometer over SPI (data sheet Rev. D).

20-bit samples, ODR up to 4 kHz, a 96-word FIFO (32 samples of x, y, z) read in one burst
from FIFO_DATA. Section and table names below are the data sheet's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from agent.errors import HardwareUnavailable
from drivers.accel.bus import SpiBus
from drivers.accel.timeline import FifoTimeline
from drivers.blocks import SampleBlock

# Register map (Table 13).
DEVID_AD = 0x00
DEVID_MST = 0x01
PARTID = 0x02
STATUS = 0x04
FIFO_ENTRIES = 0x05
TEMP2 = 0x06  # TEMP[11:8] in D3:D0; TEMP1 = 0x07 holds TEMP[7:0]
XDATA3 = 0x08
FIFO_DATA = 0x11
FILTER = 0x28
FIFO_SAMPLES = 0x29
RANGE = 0x2C
POWER_CTL = 0x2D
RESET = 0x2F

IDS = bytes([0xAD, 0x1D, 0xED])  # DEVID_AD, DEVID_MST, PARTID reset values
RESET_CODE = 0x52  # "Write Code 0x52 to reset the device"

# SPI (Serial Communications, SPI Protocol): command = register << 1 | R/W (1 = read);
# multibyte transfers auto-increment, except that FIFO_DATA reads keep popping the FIFO.
SPI_MAX_HZ = 10_000_000
SPI_MODE = 0

STATUS_FIFO_FULL = 0x02  # FIFO watermark reached
STATUS_FIFO_OVR = 0x04  # FIFO overrun: the oldest data is lost
POWER_CTL_STANDBY = 0x01
FIFO_WORDS = 96
FIFO_X_MARKER = 0x01  # bit 0 of the last byte of a FIFO word: this word is x
FIFO_EMPTY = 0x02  # bit 1: the FIFO was empty, the word is not data

RANGES_G = {2: 0b01, 4: 0b10, 8: 0b11}  # RANGE D1:D0
LSB_PER_G = {2: 256000.0, 4: 128000.0, 8: 64000.0}  # Table 1, sensitivity (3.9 ug/LSB at 2 g)
# FILTER ODR_LPF D3:D0 (Table 44): ODR = 4000 Hz / 2^code.
RATE_CODES = {4000.0 / 2**code: code for code in range(0, 11)}
STANDARD_GRAVITY = 9.80665
# Temperature (Table 1): 1885 LSB nominal at 25 C, -9.05 LSB/C. Parts vary by tens of LSB;
# calibration corrects the intercept.
TEMP_INTERCEPT_LSB = 1885.0
TEMP_SLOPE_LSB_PER_C = -9.05


class Adxl355Spi:
    def __init__(self, bus: SpiBus) -> None:
        self.bus = bus

    def read(self, register: int, n: int = 1) -> bytes:
        return self.bus.transfer(bytes([register << 1 | 1]) + bytes(n))[1:]

    def write(self, register: int, value: int) -> None:
        self.bus.transfer(bytes([register << 1, value]))


def decode_words(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """3-byte FIFO/data words -> (signed 20-bit values, flag bits of each word)."""
    b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
    v = (b[:, 0] << 12) | (b[:, 1] << 4) | (b[:, 2] >> 4)
    v = np.where(v >= 1 << 19, v - (1 << 20), v)
    return v, b[:, 2] & 0x03


class Adxl355:
    stream = "accel"
    channels = ("x", "y", "z")

    def __init__(
        self, regs: Adxl355Spi, *, odr_hz: float = 4000.0, range_g: int = 2,
        watermark: int = 16, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if odr_hz not in RATE_CODES:
            raise ValueError(f"ADXL355 ODR {odr_hz} Hz not one of {sorted(RATE_CODES)}")
        if range_g not in RANGES_G:
            raise ValueError(f"ADXL355 range +/-{range_g} g not one of {sorted(RANGES_G)}")
        if not 1 <= watermark <= 32:
            raise ValueError(f"ADXL355 watermark {watermark} samples not in 1-32")
        self.regs = regs
        self.odr = odr_hz
        self.range_g = range_g
        self.watermark = watermark
        self._clock = clock
        self._sleep = sleep
        self._timeline = FifoTimeline(odr_hz)
        self._seq = 0
        self.overruns = 0
        self.resyncs = 0
        self._scale = STANDARD_GRAVITY / LSB_PER_G[range_g]

    @property
    def dropped(self) -> int:
        return self._timeline.dropped_total

    @property
    def read_deadline_s(self) -> float:
        """Read at least this often or the FIFO overruns (8 ms at 4000 Hz): the runtime
        polls from a thread of its own at a fraction of it."""
        return FIFO_WORDS // 3 / self.odr

    def configure(self) -> None:
        """Check the IDs, reset, then (in standby, where FILTER and RANGE are writable)
        set ODR, range and watermark, and start measuring with the temperature sensor on."""
        ids = self.regs.read(DEVID_AD, 3)
        if ids != IDS:
            raise HardwareUnavailable(
                f"ADXL355: IDs = {ids.hex(' ')}, expected {IDS.hex(' ')} "
                "(check wiring, chip select and SPI mode 0)"
            )
        self.regs.write(RESET, RESET_CODE)
        self._sleep(0.005)  # the reset reloads trim from NVM before registers answer again
        self.regs.write(FILTER, RATE_CODES[self.odr])  # no high-pass filter
        # keep I2C_HS and INT_POL (D7:D6) as they are; only the range bits change
        keep = self.regs.read(RANGE)[0] & 0xC0
        self.regs.write(RANGE, keep | RANGES_G[self.range_g])
        self.regs.write(FIFO_SAMPLES, self.watermark * 3)  # counted in words
        self.regs.write(POWER_CTL, 0x00)  # measure, temperature and DRDY on
        self._timeline.restart(self._clock())  # sampling starts now

    def read(self) -> list[SampleBlock]:
        now = self._clock()
        status, entries = self.regs.read(STATUS, 2)  # STATUS and FIFO_ENTRIES in one read
        overrun = bool(status & STATUS_FIFO_OVR)
        entries &= 0x7F
        if entries < self.watermark * 3 and not overrun:
            return []
        n = entries // 3
        if n == 0:
            return []
        values, flags = decode_words(self.regs.read(FIFO_DATA, 9 * n))
        lost = 0
        if not (np.all(flags[0::3] & FIFO_X_MARKER) and not np.any(flags[1::3] & FIFO_X_MARKER)):
            values = self._realign(values, flags)
            lost = 1  # the partial sample in front of the first x marker
            tail = values.size % 3
            if tail:  # finish the last sample so the next read starts on an x word
                more, more_flags = decode_words(self.regs.read(FIFO_DATA, 3 * (3 - tail)))
                values = np.concatenate([values, more[(more_flags & FIFO_EMPTY) == 0]])
        counts = values[: values.size - values.size % 3].reshape(-1, 3)
        if overrun:
            self.overruns += 1
        t0, dropped = self._timeline.place(now, counts.shape[0], overrun, lost)
        block = SampleBlock(
            stream=self.stream, seq=self._seq, t0=t0, fs=self.odr, channels=self.channels,
            units="m/s^2", data=(counts * self._scale).astype(np.float32), dropped=dropped,
        )
        self._seq += 1
        return [block]

    def _realign(self, values: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """Drop words before the first x marker and any empty-FIFO words (a read that
        started mid-sample, e.g. after an overrun discarded part of one)."""
        self.resyncs += 1
        valid = (flags & FIFO_EMPTY) == 0
        values, flags = values[valid], flags[valid]
        xs = np.flatnonzero(flags & FIFO_X_MARKER)
        return values[xs[0] :] if xs.size else values[:0]

    def temperature_c(self) -> float:
        hi, lo = self.regs.read(TEMP2, 2)
        raw = ((hi & 0x0F) << 8) | lo
        return 25.0 + (raw - TEMP_INTERCEPT_LSB) / TEMP_SLOPE_LSB_PER_C

    def close(self) -> None:
        try:
            self.regs.write(POWER_CTL, POWER_CTL_STANDBY)
        finally:
            self.regs.bus.close()

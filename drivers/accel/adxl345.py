"""Analog Devices ADXL345 3-axis accelerometer over SPI or I2C (data sheet Rev. G).

The driver puts the FIFO in stream mode with a watermark and drains it when the watermark
is reached; it never opens hardware itself: it is handed a `SpiBus` or an `I2cBus`.
Section names below are the data sheet's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agent.errors import HardwareUnavailable
from drivers.accel.bus import I2cBus, SpiBus
from drivers.accel.timeline import FifoTimeline
from drivers.blocks import SampleBlock

# Register map (Table 19).
DEVID = 0x00
BW_RATE = 0x2C
POWER_CTL = 0x2D
INT_ENABLE = 0x2E
INT_SOURCE = 0x30
DATA_FORMAT = 0x31
DATAX0 = 0x32  # DATAX0..DATAZ1: 6 bytes, little-endian int16 x, y, z
FIFO_CTL = 0x38
FIFO_STATUS = 0x39

DEVID_VALUE = 0xE5  # "Register 0x00-DEVID: a fixed device ID code of 0xE5 (345 octal)"

# SPI command byte (Serial Communications, SPI): bit 7 = read, bit 6 = multiple bytes.
SPI_READ = 0x80
SPI_MB = 0x40
SPI_MAX_HZ = 5_000_000  # "maximum SPI clock speed is 5 MHz"
SPI_MODE = 3  # CPOL = 1, CPHA = 1
I2C_ADDRESSES = (0x53, 0x1D)  # ALT ADDRESS pin low / high (Serial Communications, I2C)

# Register bits.
POWER_CTL_MEASURE = 0x08  # Register 0x2D, D3
DATA_FORMAT_SELF_TEST = 0x80  # Register 0x31, D7
DATA_FORMAT_SPI_3WIRE = 0x40  # D6
DATA_FORMAT_FULL_RES = 0x08  # D3
INT_SOURCE_OVERRUN = 0x01  # Register 0x30, D0
INT_SOURCE_WATERMARK = 0x02  # D1
FIFO_MODE_BYPASS = 0b00 << 6  # Register 0x38, D7:D6 (Table 22)
FIFO_MODE_STREAM = 0b10 << 6
FIFO_ENTRIES_MASK = 0x3F  # Register 0x39, D5:D0
FIFO_DEPTH = 32  # "32-level FIFO"

RANGES_G = {2: 0b00, 4: 0b01, 8: 0b10, 16: 0b11}  # DATA_FORMAT D1:D0 (Table 21)
# BW_RATE rate code (Table 7): ODR = 3200 Hz / 2^(15 - code).
RATE_CODES = {3200.0 / 2 ** (15 - code): code for code in range(6, 16)}
LSB_PER_G = 256.0  # full resolution and +/-2 g 10-bit: 3.9 mg/LSB typical (Table 1)
STANDARD_GRAVITY = 9.80665  # m/s^2, CGPM 1901

# Self-test output change at Vs = 2.5 V, full resolution +/-16 g, in LSB (Table 1), and the
# scale factors for the box's Vs = 3.3 V (Table 14: X, Y 1.77; Z 1.47).
SELF_TEST_LIMITS_2V5 = ((50, 540), (-540, -50), (75, 875))
SELF_TEST_SCALE_3V3 = (1.77, 1.77, 1.47)


class Adxl345Spi:
    def __init__(self, bus: SpiBus) -> None:
        self.bus = bus
        # the FIFO drain repeats one transaction up to 33 times per read: build it once
        self._sample_cmd = bytes([SPI_READ | SPI_MB | DATAX0]) + bytes(6)

    def read_sample(self) -> bytes:
        """DATAX0..DATAZ1 in one multiple-byte read (pops one FIFO entry)."""
        return self.bus.transfer(self._sample_cmd)[1:]

    def read(self, register: int, n: int = 1) -> bytes:
        cmd = SPI_READ | (SPI_MB if n > 1 else 0) | register
        return self.bus.transfer(bytes([cmd]) + bytes(n))[1:]

    def write(self, register: int, value: int) -> None:
        self.bus.transfer(bytes([register, value]))


class Adxl345I2c:
    def __init__(self, bus: I2cBus, address: int = 0x53) -> None:
        if address not in I2C_ADDRESSES:
            raise ValueError(f"ADXL345 I2C address {address:#04x} is not 0x53 or 0x1d")
        self.bus = bus
        self.address = address

    def read(self, register: int, n: int = 1) -> bytes:
        return self.bus.read_block(self.address, register, n)

    def write(self, register: int, value: int) -> None:
        self.bus.write_byte(self.address, register, value)

    def read_sample(self) -> bytes:
        return self.bus.read_block(self.address, DATAX0, 6)


@dataclass(frozen=True)
class SelfTest:
    change_lsb: tuple[float, float, float]
    limits_lsb: tuple[tuple[float, float], ...]

    @property
    def passed(self) -> bool:
        return all(lo <= v <= hi for v, (lo, hi) in zip(self.change_lsb, self.limits_lsb,
                                                         strict=True))


class Adxl345:
    stream = "accel"
    channels = ("x", "y", "z")

    def __init__(
        self, regs: Adxl345Spi | Adxl345I2c, *, odr_hz: float = 3200.0, range_g: int = 16,
        watermark: int = 16, spi_3wire: bool = False, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if odr_hz not in RATE_CODES:
            raise ValueError(f"ADXL345 ODR {odr_hz} Hz not one of {sorted(RATE_CODES)}")
        if range_g not in RANGES_G:
            raise ValueError(f"ADXL345 range +/-{range_g} g not one of {sorted(RANGES_G)}")
        if not 1 <= watermark <= 31:
            raise ValueError(f"ADXL345 watermark {watermark} not in 1-31")
        self.regs = regs
        self.odr = odr_hz
        self.range_g = range_g
        self.watermark = watermark
        self.spi_3wire = spi_3wire
        self._clock = clock
        self._sleep = sleep
        self._timeline = FifoTimeline(odr_hz)
        self._seq = 0
        self.overruns = 0
        # full resolution keeps 3.9 mg/LSB in every range (DATA_FORMAT, FULL_RES bit)
        self._scale = np.float32(STANDARD_GRAVITY / LSB_PER_G)

    @property
    def dropped(self) -> int:
        return self._timeline.dropped_total

    @property
    def read_deadline_s(self) -> float:
        """Read at least this often or the FIFO overruns (10 ms at 3200 Hz): the runtime
        polls from a thread of its own at a fraction of it."""
        return FIFO_DEPTH / self.odr

    def check_id(self) -> None:
        devid = self.regs.read(DEVID)[0]
        if devid != DEVID_VALUE:
            raise HardwareUnavailable(
                f"ADXL345: DEVID = {devid:#04x}, expected {DEVID_VALUE:#04x} "
                "(check wiring, chip select and SPI mode 3)"
            )

    def _data_format(self, self_test: bool = False) -> int:
        return (
            DATA_FORMAT_FULL_RES | RANGES_G[self.range_g]
            | (DATA_FORMAT_SPI_3WIRE if self.spi_3wire else 0)
            | (DATA_FORMAT_SELF_TEST if self_test else 0)
        )

    def configure(self) -> None:
        """Standby, data format, rate, FIFO reset then stream with watermark, measure.

        The data sheet asks for configuration in standby ("Power Sequencing"); going through
        bypass mode empties the FIFO of samples from an earlier run.
        """
        self.check_id()
        self.regs.write(POWER_CTL, 0x00)
        self.regs.write(DATA_FORMAT, self._data_format())
        self.regs.write(BW_RATE, RATE_CODES[self.odr])
        self.regs.write(FIFO_CTL, FIFO_MODE_BYPASS)
        self.regs.write(FIFO_CTL, FIFO_MODE_STREAM | self.watermark)
        self.regs.write(POWER_CTL, POWER_CTL_MEASURE)
        self._timeline.restart(self._clock())  # sampling starts now

    def _drain(self, n: int) -> np.ndarray:
        # One 6-byte multiple-byte read per FIFO entry: the FIFO pops when the data registers
        # have been read ("Retrieving Data from FIFO"); the CS toggle between reads leaves the
        # required 5 us gap at any SPI clock the Pi produces.
        read_sample = self.regs.read_sample
        raw = b"".join([read_sample() for _ in range(n)])
        return np.frombuffer(raw, "<i2").reshape(n, 3)

    def read(self) -> list[SampleBlock]:
        """Drain the FIFO if it has reached the watermark (or overrun); [] otherwise."""
        now = self._clock()
        overrun = bool(self.regs.read(INT_SOURCE)[0] & INT_SOURCE_OVERRUN)
        entries = self.regs.read(FIFO_STATUS)[0] & FIFO_ENTRIES_MASK
        if entries < self.watermark and not overrun:
            return []
        if entries == 0:
            return []
        counts = self._drain(entries)
        if overrun:
            self.overruns += 1
        t0, dropped = self._timeline.place(now, entries, overrun)
        block = SampleBlock(
            stream=self.stream, seq=self._seq, t0=t0, fs=self.odr, channels=self.channels,
            units="m/s^2", data=counts.astype(np.float32) * self._scale, dropped=dropped,
        )
        self._seq += 1
        return [block]

    def self_test(self, samples: int = 16, supply_v: float = 3.3) -> SelfTest:
        """The data sheet's self-test: mean output with and without the electrostatic force,
        at full resolution +/-16 g and 100 Hz; restores the running configuration after."""
        saved = (self.odr, self.range_g)
        self.odr, self.range_g = 100.0, 16
        try:
            self.configure()
            off = self._settled_mean(samples)
            self.regs.write(DATA_FORMAT, self._data_format(self_test=True))
            on = self._settled_mean(samples)
        finally:
            self.odr, self.range_g = saved
            self.configure()
        scale = SELF_TEST_SCALE_3V3 if supply_v > 3.0 else (1.0, 1.0, 1.0)
        limits = tuple((lo * s, hi * s) for (lo, hi), s in zip(SELF_TEST_LIMITS_2V5, scale,
                                                                strict=True))
        change = tuple(float(v) for v in on - off)
        return SelfTest((change[0], change[1], change[2]), limits)

    def _settled_mean(self, samples: int) -> np.ndarray:
        # Throw away what is in the FIFO (taken before the change) plus 4 samples of settling.
        self._sleep(4 / 100.0)
        self._drain(self.regs.read(FIFO_STATUS)[0] & FIFO_ENTRIES_MASK)
        self._sleep(4 / 100.0)
        self._drain(self.regs.read(FIFO_STATUS)[0] & FIFO_ENTRIES_MASK)
        self._sleep(samples / 100.0)
        n = self.regs.read(FIFO_STATUS)[0] & FIFO_ENTRIES_MASK
        return self._drain(max(n, 1)).astype(np.float64).mean(axis=0)

    def close(self) -> None:
        try:
            self.regs.write(POWER_CTL, 0x00)  # standby: 0.1 uA instead of 140 uA
        finally:
            self.regs.bus.close()

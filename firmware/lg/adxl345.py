"""ADXL345 accelerometer on SPI, streaming through its FIFO (Analog Devices ADXL345 Rev. G).

The driver gets the SPI bus and the chip-select pin; it never opens hardware itself. SPI mode
3 (CPOL = 1, CPHA = 1), at most 5 MHz (datasheet p. 15). The FIFO runs in stream mode with a
watermark (FIFO_CTL, p. 27): the loop drains it when FIFO_STATUS reports at least the
watermark, reading one 6-byte entry per multi-byte burst from DATAX0, which pops that entry
(p. 20). Full resolution keeps 3.9 mg/LSB at every range (DATA_FORMAT, p. 27).
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x: int) -> int:  # type: ignore[misc]
        return x


DEVID = const(0x00)
BW_RATE = const(0x2C)
POWER_CTL = const(0x2D)
INT_SOURCE = const(0x30)
DATA_FORMAT = const(0x31)
DATAX0 = const(0x32)
FIFO_CTL = const(0x38)
FIFO_STATUS = const(0x39)

DEVICE_ID = const(0xE5)  # table 19
READ, MULTI = const(0x80), const(0x40)  # SPI address byte, figure 36-38
MEASURE = const(0x08)  # POWER_CTL bit 3
FULL_RES = const(0x08)  # DATA_FORMAT bit 3
STREAM = const(0x80)  # FIFO_CTL bits 7:6 = 10
OVERRUN = const(0x01)  # INT_SOURCE bit 0
RATE_CODES = {3200: 0x0F, 1600: 0x0E, 800: 0x0D, 400: 0x0C, 200: 0x0B, 100: 0x0A}  # table 7
RANGE_CODES = {2: 0, 4: 1, 8: 2, 16: 3}
G = 9.80665
SCALE = 0.0039 * G  # m/s^2 per LSB in full resolution (table 1: 3.9 mg/LSB)


class SensorError(Exception):
    pass


class ADXL345:
    def __init__(self, spi, cs, odr_hz: int = 1600, range_g: int = 16, watermark: int = 16):
        if odr_hz not in RATE_CODES or range_g not in RANGE_CODES or not 1 <= watermark <= 31:
            raise ValueError(f"unsupported ADXL345 setting {odr_hz} Hz / {range_g} g / "
                             f"watermark {watermark}")
        self.spi, self.cs = spi, cs
        self.watermark = watermark
        self.overruns = 0
        self._tx = bytearray(7)
        self._rx = bytearray(7)
        cs.value(1)
        dev = self.read_reg(DEVID)
        if dev != DEVICE_ID:
            raise SensorError(f"ADXL345 not found: DEVID reads 0x{dev:02x}, expected 0xe5")
        self.write_reg(POWER_CTL, 0)  # standby while configuring (p. 26)
        self.write_reg(BW_RATE, RATE_CODES[odr_hz])
        self.write_reg(DATA_FORMAT, FULL_RES | RANGE_CODES[range_g])
        self.write_reg(FIFO_CTL, STREAM | watermark)
        self.write_reg(POWER_CTL, MEASURE)

    def read_reg(self, reg: int) -> int:
        tx, rx = self._tx, self._rx
        tx[0], tx[1] = READ | reg, 0
        self.cs.value(0)
        self.spi.write_readinto(memoryview(tx)[:2], memoryview(rx)[:2])
        self.cs.value(1)
        return rx[1]

    def write_reg(self, reg: int, value: int) -> None:
        self.cs.value(0)
        self.spi.write(bytes((reg & 0x3F, value & 0xFF)))
        self.cs.value(1)

    def available(self) -> int:
        return self.read_reg(FIFO_STATUS) & 0x3F

    def drain(self, x, y, z, start: int, raw: bool = False) -> int:
        """Move every FIFO entry into the arrays x, y, z from index `start` (at most to the
        arrays' end), in m/s^2, or with raw=True as counts for integer arrays ('h'; times
        SCALE gives m/s^2). Returns how many samples were read."""
        k = 1 if raw else SCALE
        if self.read_reg(INT_SOURCE) & OVERRUN:
            self.overruns += 1  # samples were lost: the loop fell behind the data rate
        n = min(self.available(), len(x) - start)
        tx, rx = self._tx, self._rx
        tx[0] = READ | MULTI | DATAX0
        for i in range(n):
            self.cs.value(0)  # CS high between entries pops one entry (p. 20)
            self.spi.write_readinto(tx, rx)
            self.cs.value(1)
            j = start + i
            x[j] = _s16(rx[1], rx[2]) * k
            y[j] = _s16(rx[3], rx[4]) * k
            z[j] = _s16(rx[5], rx[6]) * k
        return n


def _s16(lo: int, hi: int) -> int:
    v = lo | hi << 8
    return v - 0x10000 if v & 0x8000 else v

"""ADXL345 driver and I2S microphone in real MicroPython, on a register-level chip model."""

import math

import pytest

from tests.firmware.mpy import result

ADXL = """
import json, machine
from adxl345_model import ADXL345Model
from lg.adxl345 import ADXL345, SensorError
from array import array
model = ADXL345Model(lambda i: (i, -i, 256))
spi = machine.SPI(2, baudrate=5000000, polarity=1, phase=1)
spi.device = model
cs = machine.Pin(5, machine.Pin.OUT)
"""


def test_configuration_follows_the_datasheet_register_values():
    got = result(ADXL + """
acc = ADXL345(spi, cs, odr_hz=1600, range_g=16, watermark=16)
print(json.dumps([[r, v] for r, v in model.writes]))
""")
    # POWER_CTL standby, BW_RATE 1600 Hz = 0x0E, DATA_FORMAT FULL_RES|+-16 g = 0x0B,
    # FIFO_CTL stream|watermark 16 = 0x90, POWER_CTL measure = 0x08 (ADXL345 Rev. G p. 24-27)
    assert got == [[0x2D, 0x00], [0x2C, 0x0E], [0x31, 0x0B], [0x38, 0x90], [0x2D, 0x08]]


def test_a_missing_chip_is_a_typed_error_naming_the_id_read():
    got = result(ADXL + """
model.regs[0] = 0xFF
try:
    ADXL345(spi, cs)
except SensorError as exc:
    print(json.dumps(str(exc)))
""")
    assert "0xff" in got


def test_fifo_drain_converts_counts_to_metres_per_second_squared_in_order():
    got = result(ADXL + """
acc = ADXL345(spi, cs, 1600, 16, 16)
model.produce(20)
x, y, z = (array('f', bytes(4 * 64)) for _ in range(3))
n = acc.drain(x, y, z, 0)
print(json.dumps([n, list(x[:n]), list(y[:n]), list(z[:n]), acc.overruns]))
""")
    n, x, y, z, overruns = got
    lsb = 0.0039 * 9.80665
    assert n == 20 and overruns == 0
    assert x == pytest.approx([i * lsb for i in range(20)], rel=1e-6)
    assert y == pytest.approx([-i * lsb for i in range(20)], rel=1e-6)
    assert z == pytest.approx([256 * lsb] * 20, rel=1e-6)


def test_fifo_overflow_is_counted_as_an_overrun_and_the_newest_32_are_kept():
    got = result(ADXL + """
acc = ADXL345(spi, cs, 1600, 16, 16)
model.produce(40)
x, y, z = (array('f', bytes(4 * 64)) for _ in range(3))
n = acc.drain(x, y, z, 0)
print(json.dumps([n, round(x[0] / (0.0039 * 9.80665)), acc.overruns]))
""")
    assert got == [32, 8, 1]


def test_drain_never_writes_past_the_end_of_the_frame():
    got = result(ADXL + """
acc = ADXL345(spi, cs, 1600, 16, 16)
model.produce(30)
x, y, z = (array('f', bytes(4 * 16)) for _ in range(3))
print(json.dumps([acc.drain(x, y, z, 10), len(model.fifo)]))
""")
    assert got == [6, 24]


def test_microphone_level_of_a_full_scale_sine_is_0_dbfs_and_spl_follows_sensitivity():
    got = result("""
import json, math, machine, struct
from lg.mic import Microphone
i2s = machine.I2S(0)
amp = 8388607  # 24-bit full scale, MSB-aligned in 32-bit slots (INMP441 data format)
i2s.source = b''.join(struct.pack('<i', int(amp * math.sin(2 * math.pi * 16 * i / 1024)) << 8)
                      for i in range(1024))
mic = Microphone(i2s, 1024, sensitivity_dbfs=-26.0)
n = mic.capture()
print(json.dumps([n, mic.level(n)]))
""")
    n, (dbfs, spl) = got
    assert n == 1024
    assert dbfs == pytest.approx(0.0, abs=0.01)
    assert spl == pytest.approx(94.0 + 26.0, abs=0.01)
    assert math.isfinite(spl)

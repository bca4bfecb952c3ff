"""ADXL355 driver against the register-level fake."""

import numpy as np
import pytest

from agent.errors import HardwareUnavailable
from drivers.accel.adxl355 import Adxl355, Adxl355Spi, decode_words
from tests.drivers.fake_adxl345 import FakeClock
from tests.drivers.fake_adxl355 import FakeAdxl355

G = 9.80665


def make(signal=lambda t: (0.0, 0.0, 1.0), **kw):
    clock = FakeClock()
    chip = FakeAdxl355(clock, signal)
    dev = Adxl355(Adxl355Spi(chip), clock=clock, sleep=clock.sleep, **kw)
    return dev, chip, clock


def test_configuration_sequence_is_byte_exact():
    dev, chip, _ = make(odr_hz=1000.0, range_g=4, watermark=20)
    dev.configure()
    assert [tx.hex(" ") for tx, _ in chip.log] == [
        "01 00 00 00",  # read DEVID_AD, DEVID_MST, PARTID
        "5e 52",  # RESET <- 0x52
        "50 02",  # FILTER: ODR 1000 Hz, no high-pass
        "59 00",  # read RANGE (keep I2C_HS, INT_POL)
        "58 82",  # RANGE: +/-4 g, I2C_HS kept
        "52 3c",  # FIFO_SAMPLES: 60 words = 20 samples
        "5a 00",  # POWER_CTL: measure
    ]
    assert chip.log[0][1] == bytes([0, 0xAD, 0x1D, 0xED])


def test_wrong_ids_are_a_one_line_hardware_error():
    dev, chip, _ = make()
    chip.regs[2] = 0xE9
    with pytest.raises(HardwareUnavailable, match="IDs = ad 1d e9, expected ad 1d ed"):
        dev.configure()


@pytest.mark.parametrize("raw, value, flags", [
    (bytes([0x7F, 0xFF, 0xF0]), (1 << 19) - 1, 0),
    (bytes([0x80, 0x00, 0x01]), -(1 << 19), 1),
    (bytes([0xFF, 0xFF, 0xF2]), -1, 2),
    (bytes([0x00, 0x00, 0x10]), 1, 0),
])
def test_word_decoding_is_20_bit_twos_complement(raw, value, flags):
    v, f = decode_words(raw)
    assert (int(v[0]), int(f[0])) == (value, flags)


def test_fifo_is_burst_read_in_one_transaction_at_the_watermark():
    dev, chip, clock = make(odr_hz=4000.0, watermark=16)
    dev.configure()
    clock.t += 10 / 4000
    assert dev.read() == []
    clock.t += 10 / 4000
    start = len(chip.log)
    (block,) = dev.read()
    assert [tx[:1].hex() for tx, _ in chip.log[start:]] == ["09", "23"]
    burst = chip.log[start + 1][0]
    assert len(burst) == 1 + 9 * block.n and block.n == 21
    assert len(chip.words) == 0


@pytest.mark.parametrize("range_g", [2, 4, 8])
def test_scaling_to_m_per_s2(range_g):
    dev, _, clock = make(signal=lambda t: (0.25, -1.0, 1.5), range_g=range_g, watermark=1)
    dev.configure()
    clock.t += 3 / 4000
    (block,) = dev.read()
    np.testing.assert_allclose(block.data, np.tile([0.25 * G, -G, 1.5 * G], (block.n, 1)),
                               rtol=1e-5)


def test_overrun_counts_dropped_samples_and_keeps_time():
    dev, chip, clock = make(odr_hz=4000.0, watermark=16)
    dev.configure()
    clock.t += 20 / 4000
    (first,) = dev.read()
    clock.t += 200.25 / 4000  # between two samples
    (second,) = dev.read()
    assert second.n == 32 and second.dropped == 168 and dev.overruns == 1
    assert second.t0 == pytest.approx(first.t0 + (first.n + 168) / 4000)
    assert first.n + second.n + second.dropped == chip.produced


def test_contiguous_blocks_have_exact_spacing():
    dev, _, clock = make(odr_hz=2000.0, watermark=8)
    dev.configure()
    blocks = []
    for _ in range(30):
        clock.t += 0.0071
        blocks += dev.read()
    assert sum(b.dropped for b in blocks) == 0
    for a, b in zip(blocks, blocks[1:], strict=False):
        assert b.t0 == pytest.approx(a.t0 + a.n / 2000.0)


def test_misaligned_fifo_read_is_realigned_on_the_x_marker():
    dev, chip, clock = make(signal=lambda t: (0.1, 0.2, 0.3), odr_hz=4000.0, watermark=4)
    dev.configure()
    clock.t += 10 / 4000
    chip._advance()
    chip.words.popleft()  # a word lost (as if a previous read stopped mid-sample)
    (block,) = dev.read()
    assert dev.resyncs == 1 and block.dropped >= 1
    np.testing.assert_allclose(block.data, np.tile([0.1 * G, 0.2 * G, 0.3 * G], (block.n, 1)),
                               rtol=1e-5)
    clock.t += 10 / 4000
    (after,) = dev.read()
    assert dev.resyncs == 1 and after.dropped == 0  # the next read starts on an x word


def test_temperature():
    dev, chip, _ = make()
    dev.configure()
    chip.temp_c = 40.0
    assert dev.temperature_c() == pytest.approx(40.0, abs=0.1)


def test_close_returns_to_standby():
    dev, chip, _ = make()
    dev.configure()
    dev.close()
    assert chip.regs[0x2D] & 1 and chip.closed

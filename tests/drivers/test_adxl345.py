"""ADXL345 driver against the register-level fake, over SPI and I2C."""

import math

import numpy as np
import pytest

from agent.errors import HardwareUnavailable
from drivers.accel.adxl345 import Adxl345, Adxl345I2c, Adxl345Spi
from tests.drivers.fake_adxl345 import FakeAdxl345, FakeClock

G = 9.80665


def make(bus="spi", signal=lambda t: (0.0, 0.0, 1.0), **kw):
    clock = FakeClock()
    chip = FakeAdxl345(clock, signal)
    regs = Adxl345Spi(chip) if bus == "spi" else Adxl345I2c(chip, 0x53)
    dev = Adxl345(regs, clock=clock, sleep=clock.sleep, **kw)
    return dev, chip, clock


def test_spi_configuration_sequence_is_byte_exact():
    dev, chip, _ = make(odr_hz=3200.0, range_g=16, watermark=16)
    dev.configure()
    assert [tx.hex(" ") for tx, _ in chip.log] == [
        "80 00",  # read DEVID
        "2d 00",  # POWER_CTL: standby while configuring
        "31 0b",  # DATA_FORMAT: FULL_RES, +/-16 g
        "2c 0f",  # BW_RATE: 3200 Hz
        "38 00",  # FIFO_CTL: bypass (empties the FIFO)
        "38 90",  # FIFO_CTL: stream, watermark 16
        "2d 08",  # POWER_CTL: measure
    ]
    assert chip.log[0][1] == b"\x00\xe5"
    assert chip.writes_while_measuring == []


def test_i2c_configuration_sequence_is_byte_exact():
    dev, chip, _ = make("i2c", odr_hz=800.0, range_g=4, watermark=20)
    dev.configure()
    assert [op.hex(" ") for op, _ in chip.log] == [
        "a7 00 01", "a6 2d 00", "a6 31 09", "a6 2c 0d", "a6 38 00", "a6 38 94", "a6 2d 08"]


def test_spi_3wire_sets_the_spi_bit():
    dev, chip, _ = make(spi_3wire=True, range_g=2)
    dev.configure()
    assert chip.regs[0x31] == 0x48


def test_wrong_devid_is_a_one_line_hardware_error():
    dev, chip, _ = make()
    chip.regs[0] = 0xFF  # MISO floating high: nothing answers
    with pytest.raises(HardwareUnavailable, match="DEVID = 0xff, expected 0xe5"):
        dev.configure()


def test_nothing_is_read_before_the_watermark():
    dev, chip, clock = make(odr_hz=3200.0, watermark=16)
    dev.configure()
    clock.t += 10 / 3200
    assert dev.read() == []
    assert [tx[0] for tx, _ in chip.log[-2:]] == [0xB0, 0xB9]  # INT_SOURCE, FIFO_STATUS only


def test_fifo_drains_at_the_watermark_with_burst_reads():
    dev, chip, clock = make(odr_hz=3200.0, watermark=16)
    dev.configure()
    clock.t += 20.2 / 3200
    start = len(chip.log)
    (block,) = dev.read()
    reads = chip.log[start + 2 :]
    assert block.n == 21 and len(reads) == 21
    assert all(tx == bytes([0xF2]) + bytes(6) for tx, _ in reads)  # read | MB | DATAX0
    assert chip.fifo == type(chip.fifo)()  # drained


def test_full_resolution_scales_to_m_per_s2_in_every_range():
    for range_g in (2, 4, 8, 16):
        dev, _, clock = make(signal=lambda t: (0.5, -1.0, 1.0), range_g=range_g, watermark=1)
        dev.configure()
        clock.t += 4 / 3200
        (block,) = dev.read()
        np.testing.assert_allclose(block.data[0], [0.5 * G, -G, G], rtol=0, atol=G / 256)


def test_samples_beyond_the_range_clip():
    dev, _, clock = make(signal=lambda t: (3.0, -3.0, 1.0), range_g=2, watermark=1)
    dev.configure()
    clock.t += 2 / 3200
    (block,) = dev.read()
    assert block.data[0, 0] == pytest.approx(511 * G / 256)
    assert block.data[0, 1] == pytest.approx(-512 * G / 256)


def test_blocks_are_contiguous_in_time_and_carry_the_signal():
    f = 50.0
    dev, _, clock = make(signal=lambda t: (0.0, 0.0, 1.0 + 0.5 * math.sin(2 * math.pi * f * t)),
                         odr_hz=800.0, watermark=16)
    dev.configure()
    blocks = []
    for _ in range(40):
        clock.t += 0.023  # host wakes irregularly relative to the FIFO
        blocks += dev.read()
    for a, b in zip(blocks, blocks[1:], strict=False):
        assert b.t0 == pytest.approx(a.t0 + a.n / 800.0)
        assert b.seq == a.seq + 1 and b.dropped == 0
    z = np.concatenate([b.channel("z") for b in blocks])
    t = blocks[0].t0 + np.arange(z.size) / 800.0
    expect = (1.0 + 0.5 * np.sin(2 * np.pi * f * t)) * G
    # the timestamps are right to within a sample period: the residual is the phase error
    assert np.max(np.abs(z - expect)) < 0.5 * G * 2 * np.pi * f / 800.0 + G / 128


def test_overrun_is_counted_as_dropped_samples():
    dev, chip, clock = make(odr_hz=3200.0, watermark=16)
    dev.configure()
    clock.t += 20 / 3200
    (first,) = dev.read()
    clock.t += 100.25 / 3200  # host stalls: 100 samples arrive, the FIFO keeps 32
    (second,) = dev.read()
    assert second.n == 32 and dev.overruns == 1
    assert second.dropped == 68
    assert second.t0 == pytest.approx(first.t0 + (first.n + 68) / 3200)
    assert dev.dropped == 68
    assert first.n + second.n + second.dropped == chip.produced


def test_overrun_bit_clears_after_the_drain():
    dev, chip, clock = make(odr_hz=3200.0, watermark=16)
    dev.configure()
    clock.t += 100 / 3200
    dev.read()
    clock.t += 17 / 3200
    (block,) = dev.read()
    assert block.dropped == 0 and dev.overruns == 1


def test_self_test_passes_on_a_healthy_chip_and_restores_configuration():
    dev, chip, _ = make(odr_hz=3200.0, range_g=4, watermark=16)
    dev.configure()
    result = dev.self_test()
    assert result.passed
    assert result.change_lsb == pytest.approx((205, -205, 307), abs=1)
    assert chip.regs[0x31] == 0x09 and chip.regs[0x2C] == 0x0F and chip.regs[0x38] == 0x90


def test_self_test_fails_when_the_proof_mass_does_not_move(monkeypatch):
    import tests.drivers.fake_adxl345 as fake

    monkeypatch.setattr(fake, "SELF_TEST_G", (0.0, 0.0, 0.0))
    dev, _, _ = make()
    dev.configure()
    assert not dev.self_test().passed


@pytest.mark.parametrize("kw", [{"odr_hz": 3000.0}, {"range_g": 3}, {"watermark": 0},
                                {"watermark": 32}])
def test_invalid_settings_are_refused(kw):
    with pytest.raises(ValueError):
        make(**kw)


def test_close_puts_the_chip_in_standby_and_closes_the_bus():
    dev, chip, _ = make()
    dev.configure()
    dev.close()
    assert chip.regs[0x2D] == 0 and chip.closed


def test_read_deadline_is_the_fifo_fill_time():
    dev, _, _ = make(odr_hz=3200.0)
    assert dev.read_deadline_s == pytest.approx(0.01)


def test_i2c_drain_reads_each_sample_as_one_6_byte_block():
    dev, chip, clock = make("i2c", signal=lambda t: (0.0, 1.0, -1.0), odr_hz=800.0,
                            watermark=8)
    dev.configure()
    clock.t += 9.2 / 800
    start = len(chip.log)
    (block,) = dev.read()
    ops = [op.hex(" ") for op, _ in chip.log[start:]]
    assert ops == ["a7 30 01", "a7 39 01"] + ["a7 32 06"] * block.n
    assert chip.log[-1][1] == bytes([0x00, 0x00, 0x00, 0x01, 0x00, 0xFF])  # 0, +256, -256 LSB
    np.testing.assert_allclose(block.data[-1], [0.0, G, -G], atol=1e-5)

"""The ALSA microphone backend against a fake PCM with ALSA's capture semantics: periods
fill at the sample rate (injected clock), the ring holds a fixed number of periods, and a
read after the ring overflowed returns -EPIPE once and restarts the stream."""

import errno
import math
import sys

import numpy as np
import pytest

from agent.errors import HardwareUnavailable
from drivers.noise.alsa_mic import AlsaMicrophone, open_pcm


class Clock:
    def __init__(self):
        self.t = 10.0

    def __call__(self):
        return self.t


class FakePcm:
    def __init__(self, clock, rate, period, periods=8, signal=lambda t: 0.0):
        self.clock, self.rate, self.period, self.periods = clock, rate, period, periods
        self.signal = signal  # normalised amplitude at time t
        self.start = clock()
        self.frames_done = 0  # frames captured into the ring so far
        self.read_upto = 0
        self.xrun = False
        self.closed = False

    def _fill(self):
        captured = math.floor((self.clock() - self.start) * self.rate + 1e-9)
        if captured - self.read_upto > self.period * self.periods:
            self.xrun = True
        self.frames_done = captured

    def read(self):
        self._fill()
        if self.xrun:
            self.xrun = False
            self.start, self.frames_done, self.read_upto = self.clock(), 0, 0  # restarted
            return -errno.EPIPE, b""
        if self.frames_done - self.read_upto < self.period:
            return 0, b""
        idx = np.arange(self.read_upto, self.read_upto + self.period)
        x = np.array([self.signal(self.start + i / self.rate) for i in idx])
        self.read_upto += self.period
        return self.period, np.round(x * 2**31).clip(-2**31, 2**31 - 1).astype("<i4").tobytes()

    def close(self):
        self.closed = True


def test_one_pascal_tone_at_the_data_sheet_sensitivity():
    clock = Clock()
    amp = 10 ** (-26 / 20)  # 94 dB SPL reads -26 dBFS on an INMP441-class microphone
    pcm = FakePcm(clock, 48000, 480, signal=lambda t: amp * math.sin(2 * math.pi * 1000 * t))
    mic = AlsaMicrophone(pcm, clock, rate=48000, period_frames=480, sensitivity_dbfs=-26.0)
    clock.t += 0.05
    (block,) = mic.read()
    assert block.units == "Pa" and block.channels == ("p",) and block.n == 2400
    assert np.max(np.abs(block.data)) == pytest.approx(1.0, rel=1e-3)


def test_periods_come_as_contiguous_blocks():
    clock = Clock()
    mic = AlsaMicrophone(FakePcm(clock, 16000, 160), clock, rate=16000, period_frames=160)
    blocks = []
    for _ in range(20):
        clock.t += 0.013
        blocks += mic.read()
    assert all(b.dropped == 0 for b in blocks)
    for a, b in zip(blocks, blocks[1:], strict=False):
        assert b.t0 == pytest.approx(a.t0 + a.n / 16000)


def test_overrun_is_counted_not_hidden():
    clock = Clock()
    pcm = FakePcm(clock, 16000, 160, periods=4)
    mic = AlsaMicrophone(pcm, clock, rate=16000, period_frames=160)
    clock.t += 0.02
    (first,) = mic.read()
    clock.t += 0.5  # stalled far past the 4-period ring
    assert mic.read() == []  # -EPIPE: the ring restarted empty
    clock.t += 0.02
    (after,) = mic.read()
    assert mic.overruns == 1 and after.dropped > 7000
    assert after.t0 == pytest.approx(first.t0 + (first.n + after.dropped) / 16000)


def test_missing_library_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "alsaaudio", None)
    with pytest.raises(HardwareUnavailable, match="pyalsaaudio"):
        open_pcm("default", 48000, 1, 480)


def test_read_error_is_counted_and_the_gap_accounted():
    clock = Clock()
    pcm = FakePcm(clock, 16000, 160)
    mic = AlsaMicrophone(pcm, clock, rate=16000, period_frames=160)
    clock.t += 0.02
    (first,) = mic.read()
    real_read = pcm.read

    def unplugged():
        raise OSError("ALSA capture: No such device [hw:1,0]")

    pcm.read = unplugged
    clock.t += 0.03
    assert mic.read() == [] and mic.read_errors == 1
    pcm.read = real_read
    clock.t += 0.02
    (after,) = mic.read()
    assert after.dropped > 0

"""Machine-room sound: plausible A-weighted levels and tones locked to the drive."""

import math

import numpy as np
import pytest

from tests.sim.helpers import quiet_model


def a_weighting_db(f):
    """IEC 61672-1:2013 A-weighting, dB (A(1 kHz) = 0)."""
    f2 = np.maximum(f, 1e-3) ** 2
    ra = (12194.0**2 * f2**2) / ((f2 + 20.6**2) * np.sqrt((f2 + 107.7**2) * (f2 + 737.9**2))
                                 * (f2 + 12194.0**2))
    return 20 * np.log10(ra) + 2.0


def dba(p, fs):
    spec = np.fft.rfft(p - p.mean())
    freqs = np.fft.rfftfreq(len(p), 1 / fs)
    power = np.abs(spec) ** 2 * 10 ** (a_weighting_db(freqs) / 10)
    rms2 = 2 * power.sum() / len(p) ** 2
    return 10 * math.log10(rms2 / (20e-6) ** 2)


def audio(model, seconds):
    model.drain_blocks()
    model.advance(seconds)
    return np.concatenate([b.data[:, 0] for b in model.drain_blocks() if b.stream == "audio"])


def test_running_lift_is_60_to_80_dba_and_louder_than_idle():
    model = quiet_model(("lift.floors=20", "thermal.fan_after_run_s=0"), synthesize=True)
    idle = dba(audio(model, 2.0).astype(float), 16000)
    model.call(20)
    while model.readings()["speed_mps"] < 1.75:
        model.advance(0.1)
    running = dba(audio(model, 2.0).astype(float), 16000)
    assert 60.0 <= running <= 80.0
    assert idle < running - 10


def test_motor_tone_follows_the_electrical_frequency():
    model = quiet_model(("lift.floors=20",), synthesize=True)
    model.call(20)
    while model.readings()["speed_mps"] < 1.75:
        model.advance(0.1)
    f_e = model.readings()["output_hz"]
    p = audio(model, 2.0).astype(float)
    mag = np.abs(np.fft.rfft(p * np.hanning(len(p))))
    freqs = np.fft.rfftfreq(len(p), 1 / 16000)
    band = (freqs > 6 * f_e - 20) & (freqs < 6 * f_e + 20)
    assert freqs[band][np.argmax(mag[band])] == pytest.approx(6 * f_e, abs=1.0)

"""The integer block-floating-point FFT (firmware/lg/fixfft.py) in real MicroPython: power
spectra against numpy, no heap allocated by a transform, and the board's vibration features
from raw ADXL345 counts through it equal to those of the float path."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.firmware.mpy import result
from tests.firmware.test_features import FRAMES, FS, LIFT, SPEED, N, _segment

SCALE = 0.0039 * 9.80665  # m/s^2 per ADXL345 full-resolution count


def _signal(amp: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    x = amp * (0.3 * rng.standard_normal(N) + np.sin(2 * np.pi * 100.3 * t / N)
               + 0.01 * np.sin(2 * np.pi * 301.7 * t / N)) + 7 * amp
    return np.round(x).astype(np.int64)


@pytest.mark.parametrize("amp", [3, 300, 3000, 3_000_000],
                         ids=["3-counts", "300-counts", "13-bit", "24-bit"])
def test_power_spectrum_matches_numpy_within_the_blocks_precision(amp):
    x = _signal(amp, 5)
    got = result(f"""
import json
from array import array
from lg.fixfft import FixedFFT
x = array('i', {x.tolist()!r})
f = FixedFFT({N})
mean = (2 * sum(x) + {N}) // (2 * {N})
up = f.window(x, mean, max(max(x) - mean, mean - min(x)))
e = f.run(f.frame)
print(json.dumps([list(f.power), e, up, list(f.hann), mean]))
""")
    power, e, up, hann, mean = got
    p = np.array(power, dtype=float) * 4.0 ** (e - up)
    ref = np.abs(np.fft.rfft((x - mean) * np.array(hann) / 2**14)) ** 2
    strong = ref > ref.max() * 1e-5  # within 50 dB of the strongest bin
    err = np.abs(10 * np.log10(p[strong] / ref[strong]))
    assert strong.sum() > 400
    assert np.median(err) < 0.05 and err.max() < 1.5
    k = int(round(100.3))  # the tone's bin holds its power to 0.01 dB
    assert 10 * np.log10(p[k] / ref[k]) == pytest.approx(0.0, abs=0.01)


def test_a_transform_allocates_nothing_on_the_heap_the_float_one_does():
    got = result(f"""
import gc, json
from array import array
from lg.fft import RealFFT
from lg.fixfft import FixedFFT
q = FixedFFT({N})
x = array('i', ((i * 7919) % 2001 - 1000 for i in range({N})))
q.window(x, 0, 1000)
q.run(q.frame)
f = RealFFT({N}, use_ulab=False)
xf = array('f', x)
out = []
for run in (lambda: q.run(q.frame), lambda: f.run(xf)):
    gc.collect()
    a0 = gc.mem_alloc()
    run()
    out.append(gc.mem_alloc() - a0)
print(json.dumps(out))
""")
    fixed, floating = got
    assert fixed < 512  # an iterator or two, not one object per sample or bin
    assert floating > 100_000  # the float transform's boxed floats, for comparison


def test_features_from_raw_counts_through_the_integer_fft_equal_the_float_paths(tmp_path):
    x = _segment(strand_amp=0.05)
    counts = np.round(x / SCALE).astype(np.int16)
    flash = tmp_path / "flash"
    flash.mkdir()
    with open(flash / "accel.i16", "wb") as f:
        for i in range(FRAMES):
            for c in range(3):
                f.write(np.ascontiguousarray(counts[i * N:(i + 1) * N, c]).tobytes())
    got = result(f"""
import json
from array import array
from lg.features import WelchPSD, vibration_features
out = []
for counts in (True, False):
    w = WelchPSD({N}, {FS}, channels=3, use_ulab=False, scale={SCALE}, counts=counts)
    buf = array('h', bytes(2 * {N}))
    with open('accel.i16', 'rb') as f:
        for _ in range({FRAMES} * 3):
            f.readinto(buf)
            w.add(buf)
    out.append([w.fixed, vibration_features(w, {SPEED}, {LIFT!r})])
print(json.dumps(out))
""", flash=flash)
    (fixed_used, fixed), (float_used, floating) = got
    assert fixed_used and not float_used
    assert fixed.keys() == floating.keys() and "rope.strand_prom" in fixed
    for k in fixed:
        assert fixed[k] == pytest.approx(floating[k], abs=0.02, rel=1e-3), k
    assert json.dumps(fixed)  # plain numbers, publishable

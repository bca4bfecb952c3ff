"""The real FFT core against numpy.fft.rfft, and the properties any DFT must have."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import cext
from cext import spectral
from tests.cext.oracle import DTYPES, SIZES, TOLERANCE, assert_close_to_max

FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)
PROPERTY = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_spectrum_matches_numpy_rfft(n, dtype):
    x = np.random.default_rng(n).normal(size=(3, n)).astype(dtype)
    plan = spectral._plan(n, np.dtype(dtype))
    out = np.empty((3, n // 2 + 1), dtype=np.complex64 if dtype == np.float32 else np.complex128)
    plan.spectrum(x, out)
    assert_close_to_max(out, np.fft.rfft(x.astype(np.float64), axis=-1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_rfft_power_matches_numpy(n, dtype):
    rng = np.random.default_rng(n + 1)
    frame = (rng.normal(size=n) + 2.0).astype(dtype)
    w = cext.window("blackmanharris", n)
    expected = np.abs(np.fft.rfft(frame.astype(np.float64) * w)) ** 2
    power = cext.rfft_power(frame, "blackmanharris")
    assert power.dtype == dtype
    assert_close_to_max(power, expected, dtype)


def test_rfft_power_takes_a_window_array():
    frame = np.random.default_rng(3).normal(size=256)
    w = np.random.default_rng(4).uniform(size=256)
    assert_close_to_max(cext.rfft_power(frame, w), np.abs(np.fft.rfft(frame * w)) ** 2,
                        np.float64)


def test_rfft_power_matches_reference():
    frame = np.random.default_rng(5).normal(size=1024)
    w = cext.window("hann", 1024)
    assert_close_to_max(cext.rfft_power(frame, w), cext.reference.rfft_power(frame, w),
                        np.float64)


def _power(x):
    return cext.rfft_power(x, np.ones(x.size, dtype=x.dtype)).astype(np.float64)


@PROPERTY
@given(x=arrays(np.float64, st.sampled_from([64, 256, 1024]), elements=FINITE))
def test_parseval(x):
    # sum |x|^2 = (|X0|^2 + 2 sum |Xk|^2 + |Xn/2|^2) / n for a real x of even length n
    p = _power(x)
    folded = (p[0] + 2 * p[1:-1].sum() + p[-1]) / x.size
    assert abs(folded - np.sum(x * x)) <= 1e-10 * max(np.sum(x * x), 1e-300) + 1e-12


@PROPERTY
@given(x=arrays(np.float64, 256, elements=FINITE), y=arrays(np.float64, 256, elements=FINITE),
       a=st.floats(-10, 10), b=st.floats(-10, 10))
def test_linearity(x, y, a, b):
    plan = spectral._plan(256, np.dtype(np.float64))
    out = np.empty((3, 129), dtype=np.complex128)
    plan.spectrum(np.stack([x, y, a * x + b * y]), out)
    assert_close_to_max(out[2], a * out[0] + b * out[1], np.float64)


@PROPERTY
@given(x=arrays(np.float64, 512, elements=FINITE), shift=st.integers(0, 511))
def test_circular_shift_leaves_power_spectrum_unchanged(x, shift):
    assert_close_to_max(_power(np.roll(x, shift)), _power(x), np.float64)


@PROPERTY
@given(n=st.sampled_from(SIZES), data=st.data())
def test_pure_tone_lands_in_its_bin(n, data):
    k = data.draw(st.integers(1, n // 2 - 1))
    phase = data.draw(st.floats(0, 2 * np.pi))
    tone = np.cos(2 * np.pi * k * np.arange(n) / n + phase)
    p = _power(tone)
    assert int(np.argmax(p)) == k
    assert p[k] == pytest.approx((n / 2) ** 2, rel=1e-10)
    leak = np.delete(p, k)
    assert leak.max() <= TOLERANCE[np.dtype(np.float64)] * p[k]


@pytest.mark.parametrize("dtype", DTYPES)
def test_float32_tone_in_its_bin(dtype):
    n, k = 4096, 300
    tone = np.sin(2 * np.pi * k * np.arange(n) / n).astype(dtype)
    p = cext.rfft_power(tone, "hann")
    assert int(np.argmax(p)) == k

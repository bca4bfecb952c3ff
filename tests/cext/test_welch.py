"""cext.welch has scipy.signal.welch's defaults and meaning for 1-D float signals."""

import numpy as np
import pytest
import scipy.signal

import cext
from tests.cext.oracle import assert_close_to_max

CASES = [  # fs, nperseg, noverlap, window, detrend, scaling, seconds
    (3200.0, 256, None, "hann", "constant", "density", 1.0),
    (4000.0, 1024, None, "hamming", "constant", "spectrum", 1.0),
    (26700.0, 1024, 0, "blackmanharris", False, "density", 1.0),
    (26700.0, 4096, 3072, "flattop", "constant", "density", 1.0),
    (16000.0, 8192, None, "hann", False, "spectrum", 2.0),
    (1000.0, 64, 63, "hann", "constant", "density", 0.5),
    (1000.0, 128, 10, "hann", "constant", "density", 0.333),  # leftover tail samples unused
]


def _signal(fs, seconds, dtype, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(fs * seconds)) / fs
    return (3.0 + np.sin(2 * np.pi * 97.0 * t) + 0.3 * rng.normal(size=t.size)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("fs", "n", "overlap", "window", "detrend", "scaling", "secs"), CASES)
def test_welch_matches_scipy(fs, n, overlap, window, detrend, scaling, secs, dtype):
    x = _signal(fs, secs, dtype, n)
    f, p = cext.welch(x, fs, n, overlap, window, detrend, scaling)
    f_ref, p_ref = scipy.signal.welch(x, fs, window, n, overlap, detrend=detrend,
                                      scaling=scaling)
    np.testing.assert_array_equal(f, f_ref)
    assert p.dtype == p_ref.dtype == dtype
    assert_close_to_max(p, p_ref.astype(np.float64), dtype)


@pytest.mark.parametrize(("fs", "n", "overlap", "window", "detrend", "scaling", "secs"), CASES)
def test_welch_matches_numpy_reference(fs, n, overlap, window, detrend, scaling, secs):
    x = _signal(fs, secs, np.float64, 7)
    f, p = cext.welch(x, fs, n, overlap, window, detrend, scaling)
    w = cext.window(window, n)
    noverlap = n // 2 if overlap is None else overlap
    f_ref, p_ref = cext.reference.welch(x, fs, n, noverlap, w, detrend == "constant", scaling)
    np.testing.assert_array_equal(f, f_ref)
    assert_close_to_max(p, p_ref, np.float64)


def test_welch_defaults_are_scipys():
    x = _signal(1000.0, 1.0, np.float64, 1)
    f, p = cext.welch(x)
    f_ref, p_ref = scipy.signal.welch(x)
    np.testing.assert_array_equal(f, f_ref)
    assert_close_to_max(p, p_ref, np.float64)


def test_welch_takes_a_window_array():
    x = _signal(1000.0, 1.0, np.float64, 2)
    w = scipy.signal.get_window(("kaiser", 8.0), 256)
    f, p = cext.welch(x, 1000.0, 256, window=w)
    assert_close_to_max(p, scipy.signal.welch(x, 1000.0, w, 256)[1], np.float64)


def test_welch_of_white_noise_integrates_to_its_variance():
    x = np.random.default_rng(9).normal(scale=2.0, size=200_000)
    f, p = cext.welch(x, 1000.0, 1024)
    assert np.sum(p) * (f[1] - f[0]) == pytest.approx(4.0, rel=0.02)


def test_welch_tone_peaks_at_its_frequency():
    fs, n = 4000.0, 1024
    t = np.arange(4000) / fs
    f, p = cext.welch(np.sin(2 * np.pi * 250.0 * t), fs, n)
    assert f[np.argmax(p)] == pytest.approx(250.0, abs=fs / n)


def test_welch_frequencies_are_read_only_and_shared():
    x = _signal(1000.0, 1.0, np.float64, 3)
    f1, _ = cext.welch(x, 1000.0, 256)
    f2, _ = cext.welch(x, 1000.0, 256)
    assert f1 is f2
    with pytest.raises(ValueError):
        f1[0] = 1.0

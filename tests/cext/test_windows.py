"""Windows are scipy's periodic windows (the ones scipy.signal.welch uses), with their gains."""

import numpy as np
import pytest
import scipy.signal

import cext

NAMES = [  # (our name, scipy's name)
    ("hann", "hann"),
    ("hamming", "hamming"),
    ("blackmanharris", "blackmanharris"),
    ("blackman-harris", "blackmanharris"),
    ("flattop", "flattop"),
    ("flat-top", "flattop"),
]


@pytest.mark.parametrize("n", [64, 1000, 4096])
@pytest.mark.parametrize(("name", "scipy_name"), NAMES)
def test_window_matches_scipy_periodic_window(name, scipy_name, n):
    expected = scipy.signal.get_window(scipy_name, n, fftbins=True)
    np.testing.assert_allclose(cext.window(name, n), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("name", "coherent", "noise"),
    [
        # periodic cosine sums: mean(w) = a0, mean(w^2) = a0^2 + sum(a_k^2)/2 (k >= 1)
        ("hann", 0.5, 0.375),
        ("hamming", 0.54, 0.54**2 + 0.46**2 / 2),
        ("blackmanharris", 0.35875, 0.35875**2 + (0.48829**2 + 0.14128**2 + 0.01168**2) / 2),
        ("flattop", 0.21557895,
         0.21557895**2 + (0.41663158**2 + 0.277263158**2 + 0.083578947**2 + 0.006947368**2) / 2),
    ],
)
def test_window_gains(name, coherent, noise):
    g = cext.gains(cext.window(name, 1024))
    assert g.coherent == pytest.approx(coherent, rel=1e-12)
    assert g.noise == pytest.approx(noise, rel=1e-12)
    assert g.enbw_bins == pytest.approx(noise / coherent**2, rel=1e-12)


def test_hann_equivalent_noise_bandwidth_is_one_and_a_half_bins():
    assert cext.gains(cext.window("hann", 256)).enbw_bins == pytest.approx(1.5)


def test_window_in_float32():
    assert cext.window("hann", 64, np.float32).dtype == np.float32


@pytest.mark.parametrize("name", ["kaiser", "", "Hann"])
def test_unknown_window_is_a_value_error(name):
    with pytest.raises(ValueError, match="unknown window"):
        cext.window(name, 64)

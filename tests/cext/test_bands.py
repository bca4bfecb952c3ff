"""Band energies: the integral of the PSD over [lo, hi), in Hz or in orders of a reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cext

FS, N = 4000.0, 1024


@pytest.fixture(scope="module")
def spectrum():
    x = np.random.default_rng(11).normal(size=4000)
    return cext.welch(x, FS, N)


def test_band_energies_match_reference(spectrum):
    f, p = spectrum
    edges = np.array([0.0, 10.0, 97.3, 500.0, 1999.0, 2100.0])
    np.testing.assert_allclose(cext.band_energies(f, p, edges),
                               cext.reference.band_energies(f, p, edges), rtol=1e-12)


def test_bin_on_an_edge_belongs_to_the_band_above(spectrum):
    f, p = spectrum
    df = f[1] - f[0]
    lower, upper = cext.band_energies(f, p, [f[10], f[20], f[30]])
    assert lower == pytest.approx(np.sum(p[10:20]) * df, rel=1e-12)
    assert upper == pytest.approx(np.sum(p[20:30]) * df, rel=1e-12)


def test_band_without_bins_is_zero(spectrum):
    f, p = spectrum
    assert cext.band_energies(f, p, [f[3] + 0.1, f[3] + 0.2]).tolist() == [0.0]


def test_float32_psd_is_summed_in_float64():
    x = np.random.default_rng(12).normal(size=4000).astype(np.float32)
    f, p = cext.welch(x, FS, N)
    e = cext.band_energies(f, p, [0.0, 1000.0])
    assert e.dtype == np.float64
    assert e[0] == pytest.approx(np.sum(p[:256].astype(np.float64)) * (FS / N), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.floats(0.0, FS / 2), min_size=0, max_size=12, unique=True))
def test_bands_covering_the_spectrum_sum_to_the_total(spectrum, cuts):
    f, p = spectrum
    edges = np.unique(np.concatenate([[0.0, FS / 2 + 1.0], cuts]))
    total = np.sum(p) * (f[1] - f[0])
    assert np.sum(cext.band_energies(f, p, edges)) == pytest.approx(total, rel=1e-10)


def test_order_bands_scale_with_the_reference_frequency(spectrum):
    f, p = spectrum
    orders = [0.5, 1.5, 2.5, 4.0]
    for ref_hz in (12.5, 40.0, 173.0):
        np.testing.assert_array_equal(cext.order_band_energies(f, p, orders, ref_hz),
                                      cext.band_energies(f, p, np.array(orders) * ref_hz))


def test_order_band_follows_a_tone_as_speed_changes():
    # a tone at 3x the shaft rate stays in the order band around 3 whatever the speed
    fs, n = 8000.0, 2048
    t = np.arange(16000) / fs
    for shaft_hz in (20.0, 35.0, 50.0):
        f, p = cext.welch(np.sin(2 * np.pi * 3 * shaft_hz * t), fs, n)
        bands = cext.order_band_energies(f, p, [0.5, 2.5, 3.5, 6.0], shaft_hz)
        assert int(np.argmax(bands)) == 1
        assert bands[1] == pytest.approx(0.5, rel=0.01)  # the mean square of a unit sine

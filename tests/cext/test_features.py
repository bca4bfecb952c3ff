"""Time-domain features: RMS, peak, peak-to-peak, crest factor, Pearson kurtosis (normal = 3)."""

import math

import numpy as np
import pytest
import scipy.stats

import cext


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_features_match_numpy_and_scipy(dtype):
    x = (np.random.default_rng(1).standard_t(5, size=5000) + 0.2).astype(dtype)
    a = x.astype(np.float64)
    got = cext.time_features(x)
    assert got.rms == pytest.approx(np.sqrt(np.mean(a * a)), rel=1e-12)
    assert got.peak == np.max(np.abs(a))
    assert got.peak_to_peak == np.ptp(a)
    assert got.crest_factor == pytest.approx(got.peak / got.rms, rel=1e-12)
    assert got.kurtosis == pytest.approx(scipy.stats.kurtosis(a, fisher=False), rel=1e-10)


def test_features_match_reference():
    x = np.random.default_rng(2).normal(size=3200)
    assert cext.time_features(x) == pytest.approx(cext.reference.time_features(x), rel=1e-12)


def test_sine_has_crest_factor_root_two_and_kurtosis_one_and_a_half():
    x = np.sin(2 * np.pi * np.arange(4000) / 100)
    f = cext.time_features(x)
    assert f.crest_factor == pytest.approx(math.sqrt(2), rel=1e-9)
    assert f.kurtosis == pytest.approx(1.5, rel=1e-9)
    assert f.peak_to_peak == pytest.approx(2.0, rel=1e-9)


def test_normal_noise_kurtosis_is_near_three():
    x = np.random.default_rng(3).normal(size=200_000)
    assert cext.time_features(x).kurtosis == pytest.approx(3.0, abs=0.05)


def test_impulsive_signal_has_high_kurtosis():
    x = np.random.default_rng(4).normal(scale=0.01, size=4000)
    x[::500] += 1.0  # bearing-like impacts
    assert cext.time_features(x).kurtosis > 20


@pytest.mark.parametrize("value", [0.0, 0.1, -7.25, 1e6])
def test_constant_block_has_no_kurtosis(value):
    f = cext.time_features(np.full(1000, value))
    assert math.isnan(f.kurtosis)
    assert f.peak_to_peak == 0.0


def test_all_zero_block_has_no_crest_factor():
    f = cext.time_features(np.zeros(64))
    assert f.rms == 0.0
    assert math.isnan(f.crest_factor)


def test_single_sample():
    f = cext.time_features(np.array([-2.0]))
    assert (f.rms, f.peak, f.peak_to_peak, f.crest_factor) == (2.0, 2.0, 0.0, 1.0)

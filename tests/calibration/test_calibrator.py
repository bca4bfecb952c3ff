"""Microphone sensitivity from a 94/114 dB SPL calibrator; implausible readings are refused."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.calibrator import (
    CalibratorImplausible,
    background_dba,
    sensitivity,
)

FS = 16000.0


def tone(db_spl, f=1000.0, seconds=2.0, noise_pa=2e-4, seed=0):
    t = np.arange(int(seconds * FS)) / FS
    amp = 20e-6 * 10 ** (db_spl / 20) * np.sqrt(2)
    rng = np.random.default_rng(seed)
    return (amp * np.sin(2 * np.pi * f * t) + noise_pa * rng.standard_normal(t.size))[:, None]


@pytest.mark.parametrize("reference, mic_error_db", [(94.0, -2.5), (94.0, 1.2), (114.0, -0.4)])
def test_the_correction_is_what_the_microphone_misses_of_the_calibrator(reference, mic_error_db):
    cal = sensitivity(tone(reference + mic_error_db), FS, reference)
    assert cal.correction_db == pytest.approx(-mic_error_db, abs=0.05)
    assert cal.tone_hz == pytest.approx(1000, abs=2)


@pytest.mark.parametrize("measured, reference, why", [
    (60.0, 94.0, "reads 60.0 dB SPL, expected 94 dB"),
    (94.0, 114.0, "reads 94.0 dB SPL, expected 114 dB"),
])
def test_a_calibrator_level_no_microphone_could_be_off_by_is_refused(measured, reference, why):
    with pytest.raises(CalibratorImplausible, match=why) as exc:
        sensitivity(tone(measured), FS, reference)
    assert "\n" not in str(exc.value)


def test_no_calibrator_tone_is_refused():
    rng = np.random.default_rng(3)
    with pytest.raises(CalibratorImplausible, match="no steady 1 kHz calibrator tone"):
        sensitivity(0.05 * rng.standard_normal((32000, 1)), FS, 94.0)


def test_a_calibrator_at_the_wrong_frequency_is_refused():
    with pytest.raises(CalibratorImplausible, match="no steady 1 kHz"):
        sensitivity(tone(94.0, f=250.0), FS, 94.0)


def test_the_background_level_carries_the_correction():
    x = tone(60.0)  # a 1 kHz hum at 60 dB SPL: A-weighting is 0 dB at 1 kHz
    assert background_dba(x, FS, 2.0) == pytest.approx(62.0, abs=0.3)

"""Microphone sensitivity from a sound calibrator, and the background level.

A class 1 sound calibrator (IEC 60942) seals over the microphone and produces 94.0 dB SPL
(1 Pa rms) or 114.0 dB SPL (10 Pa rms) at 1 kHz, +/-0.3 dB for class 1. What the box measures
at 1 kHz against what the calibrator produces is the correction to add to every level.

A real microphone channel is within a few dB of its nominal sensitivity (MEMS parts: +/-1 dB
to +/-3 dB). A reading far from the calibrator level is therefore not a sensitivity but a
mistake (calibrator off, not seated, set to the other level, wrong microphone), and is refused
rather than "corrected": `MAX_CORRECTION_DB` is that bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.detectors import spectra
from agent.detectors.acoustic import sound_features
from agent.errors import InputError

TONE_HZ = 1000.0
TONE_TOLERANCE = 0.02  # IEC 60942 class 1/2 allow +/-1 % / +/-2 % on the frequency
MAX_CORRECTION_DB = 6.0
MIN_TONE_SHARE_DB = -1.0  # the tone must carry (almost) all the energy: it is sealed on
LEVELS_DB = (94.0, 114.0)


class CalibratorImplausible(InputError):
    """The calibrator reading cannot be a microphone's sensitivity; nothing is changed."""


@dataclass(frozen=True)
class MicCalibration:
    reference_db: float
    measured_db: float
    tone_hz: float
    background_dba: float | None = None

    @property
    def correction_db(self) -> float:
        return self.reference_db - self.measured_db

    def to_json(self) -> dict[str, Any]:
        return {"reference_db": self.reference_db, "measured_db": round(self.measured_db, 2),
                "tone_hz": round(self.tone_hz, 1), "correction_db": round(self.correction_db, 2),
                "background_dba": (round(self.background_dba, 1)
                                   if self.background_dba is not None else None)}


def tone_level(pressure_pa: np.ndarray, fs: float) -> tuple[float, float, float]:
    """(tone level dB SPL, tone frequency Hz, whole-signal level dB SPL)."""
    x = np.asarray(pressure_pa, dtype=np.float64)
    x = (x.mean(axis=1) if x.ndim > 1 else x) - float(np.mean(x))
    f, p = spectra.welch_psd(x, fs, 5.0)
    peak = spectra.refine_peak(f, p, TONE_HZ, 0.1)
    df = float(f[1] - f[0])
    tone = float(spectra.band_powers(f, p, [(peak - 4 * df, peak + 4 * df)])[0])
    total = float(np.sum(p) * df)
    ref2 = spectra.P_REF_PA ** 2
    return spectra.db(tone / ref2), peak, spectra.db(total / ref2)


def sensitivity(pressure_pa: np.ndarray, fs: float, reference_db: float) -> MicCalibration:
    if reference_db not in LEVELS_DB:
        raise InputError(f"calibrator level {reference_db:g} dB: use 94 or 114 dB SPL")
    level, f0, total = tone_level(pressure_pa, fs)
    delta = level - reference_db
    if not math.isclose(f0, TONE_HZ, rel_tol=TONE_TOLERANCE) or level - total < MIN_TONE_SHARE_DB:
        raise CalibratorImplausible(
            f"noise: no steady 1 kHz calibrator tone (strongest line {f0:.0f} Hz, "
            f"{level:.1f} of {total:.1f} dB SPL): fit the calibrator and switch it on")
    if abs(delta) > MAX_CORRECTION_DB:
        raise CalibratorImplausible(
            f"noise: calibrator reads {level:.1f} dB SPL, expected {reference_db:g} dB "
            f"({delta:+.1f} dB is beyond +/-{MAX_CORRECTION_DB:g} dB for a microphone): check "
            "the calibrator is seated and switched on, and its level setting (94/114 dB)")
    return MicCalibration(reference_db, level, f0)


def background_dba(pressure_pa: np.ndarray, fs: float, correction_db: float) -> float:
    laeq, _ = sound_features(pressure_pa, fs)
    return laeq + correction_db

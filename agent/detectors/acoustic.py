"""Sound: A-weighted level and the drive's and fan's tonal bands.

The level is L_Aeq over the record, computed from the Welch PSD weighted by |A(f)|^2
(IEC 61672-1 Annex E), in dB re 20 uPa. Whether the record is a trip or the lift at rest comes
from its speed (the sidecar's speed_mps, or the trip phase it was cut from); each has its own
configured limit (GB/T 10058 family figures, shared/REFERENCE.md section 1, are the defaults).

The drive's switching noise and the cooling fan show up as tones; their third-octave band
levels (IEC 61260-1 base-10 bands) are kept as features so a change against the baseline
(a fan slowing or stopping, a new whine from the drive) scores as inverter wear.

While the car runs, some bands follow the drive current: the motor's torque-ripple orders and
the PWM carrier's magnetostriction sound grow ~20 dB per decade of current, so an empty car
(a large counterweight imbalance) reads several dB over a baseline of half-loaded trips
without any wear; the fan's blade-pass tone and the flow noise do not depend on the current at
all. Which band is which depends on the drive, the motor and the speed, so a running band is
judged both ways when the drive current over the segment is known: as its level
(`inverter.tone_<c>`) and as its level per ampere (`inverter.tone_<c>_per_a`, dB re 20 uPa
per A). Only a change that neither explains (the smaller of the two scores) is wear: a load
change moves a band in at most one of them, a stopping fan or a new whine in both. A running
band whose baseline has no per-ampere statistics (learned from recordings that carry no
current) cannot be told from a load change and is not scored; at standstill (drive off) the
bands hold only the fan and the room, and are scored as levels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from agent.detectors import spectra

TONE_BAND_LO_HZ = 50.0
TONE_BAND_HI_HZ = 8000.0
TONE_PREFIX = "inverter.tone_"
PER_AMPERE = "_per_a"
MIN_TONE_CURRENT_A = 1.0  # below this the drive idles: a level per ampere means nothing


def sound_features(pressure_pa: npt.ArrayLike, fs: float) -> tuple[float, dict[str, float]]:
    """(L_Aeq in dB(A), third-octave band levels in dB as `inverter.tone_<centre>` features)."""
    x = np.asarray(pressure_pa, dtype=np.float64)
    if x.ndim > 1:
        x = x.mean(axis=1)
    x = x - x.mean()
    f, p = spectra.welch_psd(x, fs, 2.0)
    df = float(f[1] - f[0])
    la = float(np.sum(p * spectra.a_weighting_gain(f)) * df)
    laeq = spectra.db(la / spectra.P_REF_PA**2)
    bands = spectra.third_octave_bands(TONE_BAND_LO_HZ, min(TONE_BAND_HI_HZ, 0.45 * fs))
    powers = spectra.band_powers(f, p, bands)
    centres = spectra.third_octave_centres(TONE_BAND_LO_HZ, min(TONE_BAND_HI_HZ, 0.45 * fs))
    tones = {
        f"inverter.tone_{c:.0f}": spectra.db(float(pw) / spectra.P_REF_PA**2)
        for c, pw in zip(centres, powers, strict=True)
    }
    return laeq, tones


def tones_per_ampere(tones: Mapping[str, float], current_a: float) -> dict[str, float]:
    """Band levels per ampere of drive current, 20 log10(I / 1 A) below the level: constant for
    a band driven by the current (pressure proportional to it), whatever the load."""
    if not (math.isfinite(current_a) and current_a >= MIN_TONE_CURRENT_A):
        return {}
    shift = 20.0 * math.log10(current_a)
    return {f"{k}{PER_AMPERE}": v - shift for k, v in tones.items()
            if k.startswith(TONE_PREFIX) and not k.endswith(PER_AMPERE)}


def tone_scores(scores: Mapping[str, float], running: bool) -> dict[str, float]:
    """The scores of the tone bands as inverter-wear evidence (the module docstring): at
    standstill a band's level score; running, the smaller of its level and per-ampere scores,
    and no score without the per-ampere one. Scores are two-sided (absolute) already."""
    out = {}
    for name, z in scores.items():
        if not name.startswith(TONE_PREFIX) or name.endswith(PER_AMPERE):
            continue
        if not running:
            out[name] = z
        elif (per_a := scores.get(name + PER_AMPERE)) is not None:
            out[name] = min(z, per_a)
    return out

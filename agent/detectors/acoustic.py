"""Sound: A-weighted level and the drive's and fan's tonal bands.

The level is L_Aeq over the record, computed from the Welch PSD weighted by |A(f)|^2
(IEC 61672-1 Annex E), in dB re 20 uPa. Whether the record is a trip or the lift at rest comes
from its speed (the sidecar's speed_mps, or the trip phase it was cut from); each has its own
configured limit (GB/T 10058 family figures, shared/REFERENCE.md section 1, are the defaults).

The drive's switching noise and the cooling fan show up as tones; their third-octave band
levels (IEC 61260-1 base-10 bands) are kept as features so a change against the baseline
(a fan slowing or stopping, a new whine from the drive) scores as inverter wear.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from agent.detectors import spectra

TONE_BAND_LO_HZ = 50.0
TONE_BAND_HI_HZ = 8000.0


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

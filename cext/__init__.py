"""liftguard DSP core: Cython kernels with a numpy reference used as the test oracle.

`COMPILED` tells whether the extension is in use; tests assert it so a silent fallback to the
reference cannot pass for the real thing. See the README's "DSP core" section for the API.
"""

from __future__ import annotations

from cext import reference
from cext._backend import COMPILED
from cext.features import TimeFeatures, rms, time_features
from cext.spectral import (
    FramePipeline,
    band_energies,
    order_band_energies,
    rfft_power,
    welch,
)
from cext.windows import WindowGains, gains, window

__all__ = [
    "COMPILED",
    "FramePipeline",
    "TimeFeatures",
    "WindowGains",
    "band_energies",
    "gains",
    "order_band_energies",
    "reference",
    "rfft_power",
    "rms",
    "time_features",
    "welch",
    "window",
]

"""Time-domain features of a block of samples, as the detectors use them."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from cext import reference
from cext._backend import COMPILED
from cext._backend import features as kernels
from cext.spectral import _signal


class TimeFeatures(NamedTuple):
    """rms: sqrt(mean(x**2)) of the block as given (no mean removed); peak: max |x|;
    peak_to_peak: max - min; crest_factor: peak / rms; kurtosis: Pearson's m4 / m2**2 of the
    mean-removed block (3.0 for a normal distribution, not the "excess" 0.0). crest_factor and
    kurtosis are NaN for a block with nothing to measure (all zero, or constant)."""

    rms: float
    peak: float
    peak_to_peak: float
    crest_factor: float
    kurtosis: float


def time_features(x: Any) -> TimeFeatures:
    a = _signal(x)
    if a.size == 0:
        raise ValueError("time features need at least one sample")
    if COMPILED:
        return TimeFeatures(*kernels.time_features(a))
    if not np.all(np.isfinite(a)):
        raise ValueError("x contains NaN or infinite samples")
    return TimeFeatures(*reference.time_features(a))


def rms(x: Any) -> float:
    """Root mean square of a 1-D array (0.0 for an empty one)."""
    if COMPILED:
        return float(kernels.rms(np.ascontiguousarray(x, dtype=np.float64)))
    return reference.rms(x)

"""Numpy reference implementations of the cext kernels: the oracle in tests and the fallback
where the extension cannot be built."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def rms(x: npt.ArrayLike) -> float:
    a = np.asarray(x, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(a * a)))

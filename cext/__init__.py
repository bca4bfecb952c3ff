"""liftguard DSP core: Cython kernels with a numpy reference used as the test oracle.

`COMPILED` tells whether the extension is in use; tests assert it so a silent fallback to the
reference cannot pass for the real thing.
"""

from __future__ import annotations

import warnings

from cext import reference

try:
    from cext import _dsp  # type: ignore[attr-defined]

    COMPILED = True
except ImportError as exc:  # pragma: no cover - exercised only where the build failed
    _dsp = None
    COMPILED = False
    warnings.warn(
        f"cext extension not built ({exc}); using the slower numpy reference",
        RuntimeWarning,
        stacklevel=2,
    )


def rms(x):
    """Root mean square of a 1-D float64 array."""
    if _dsp is not None:
        import numpy as np

        return _dsp.rms(np.ascontiguousarray(x, dtype=np.float64))
    return reference.rms(x)


__all__ = ["COMPILED", "rms", "reference"]

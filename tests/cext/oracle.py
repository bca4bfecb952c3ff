"""Shared helpers for the cext tests: tolerances of the issue's correctness contract."""

import numpy as np

# float64 results within 1e-10 of the spectrum's maximum, float32 within 1e-5
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
SIZES = (64, 128, 256, 512, 1024, 2048, 4096, 8192)
DTYPES = (np.float64, np.float32)


def assert_close_to_max(actual, expected, dtype):
    """|actual - expected| <= tol * max|expected| elementwise."""
    actual = np.asarray(actual, dtype=np.complex128)
    expected = np.asarray(expected, dtype=np.complex128)
    assert actual.shape == expected.shape
    scale = np.max(np.abs(expected))
    worst = np.max(np.abs(actual - expected))
    assert worst <= TOLERANCE[np.dtype(dtype)] * scale, (worst, scale)

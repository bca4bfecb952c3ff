# cython: language_level=3
"""Compiled DSP kernels. Filled in by the DSP issue; this first kernel proves the build."""

from libc.math cimport sqrt


def rms(const double[::1] x):
    """Root mean square of a contiguous float64 array (0.0 for an empty one)."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef double acc = 0.0
    if n == 0:
        return 0.0
    with nogil:
        for i in range(n):
            acc += x[i] * x[i]
    return sqrt(acc / n)

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled time-domain features of a block: RMS, peak, peak-to-peak, crest factor, kurtosis.
Arguments are checked by cext/features.py."""

from libc.math cimport NAN, fabs, isfinite, sqrt


ctypedef fused real_t:
    float
    double


def time_features(const real_t[::1] x):
    """(rms, peak, peak_to_peak, crest_factor, kurtosis) of a non-empty block; kurtosis is
    Pearson's m4/m2**2 (3 for a normal distribution). crest_factor and kurtosis are NaN for a
    block with no variation to measure (rms 0, or variance lost in rounding)."""
    cdef Py_ssize_t i, n = x.shape[0]
    if n == 0:
        raise ValueError("time features need at least one sample")
    cdef double v, d, s = 0, ss = 0, lo = x[0], hi = x[0], m2 = 0, m4 = 0
    with nogil:
        for i in range(n):
            v = x[i]
            s += v
            ss += v * v
            if v < lo:
                lo = v
            if v > hi:
                hi = v
    if not isfinite(s):
        raise ValueError("x contains NaN or infinite samples")
    cdef double mean = s / n, rms = sqrt(ss / n), peak = max(fabs(lo), fabs(hi))
    with nogil:
        for i in range(n):
            d = x[i] - mean
            m2 += d * d
            m4 += d * d * d * d
    m2 /= n
    m4 /= n
    crest = peak / rms if rms > 0 else NAN
    # a constant block leaves only rounding noise of the mean in m2: call that no variation
    kurt = m4 / (m2 * m2) if sqrt(m2) > 1e-12 * peak else NAN
    return rms, peak, hi - lo, crest, kurt


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

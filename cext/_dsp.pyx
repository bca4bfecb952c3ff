# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled spectral kernels: real-FFT plans, the fused frame pipeline, Welch accumulation and
band sums (time-domain features are in _features.pyx).

Checks that run once per call on whole blocks (window names, overlap, edges) live in
cext/spectral.py; what runs per frame checks its own buffer here, without allocating.
"""

from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBUF_WRITABLE,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from libc.math cimport fabs, isfinite

from cext._fft_core cimport *

import sys

import numpy as np

# "<" (little-endian) is the native byte order only on a little-endian machine
cdef bint _LITTLE_ENDIAN = sys.byteorder == "little"

MIN_SIZE = 64
MAX_SIZE = 8192


def check_size(Py_ssize_t n):
    """Raise ValueError unless n is a power of two the plans support."""
    if n < MIN_SIZE or n > MAX_SIZE or (n & (n - 1)) != 0:
        raise ValueError(f"FFT size must be a power of two in {MIN_SIZE}..{MAX_SIZE}, got {n}")


cdef bint _single(object dtype) except -1:
    dt = np.dtype(dtype)
    if dt == np.float64:
        return False
    if dt == np.float32:
        return True
    raise ValueError(f"dtype must be float32 or float64, got {dt}")


cdef inline bint _format_is(const char *fmt, char code) noexcept:
    # numpy reports native data as "d", "=d" or "@d" (and "<d" on a little-endian machine)
    if fmt[0] == b'@' or fmt[0] == b'=' or (fmt[0] == b'<' and _LITTLE_ENDIAN):
        fmt += 1
    return fmt[0] == code and fmt[1] == 0


cdef int _acquire(object obj, Py_buffer *view, bint single, Py_ssize_t n, str what,
                  bint writable=False) except -1:
    """Borrow obj's memory as a contiguous 1-D float array of n items, or raise ValueError."""
    kind = "float32" if single else "float64"
    try:
        PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT
                           | (PyBUF_WRITABLE if writable else 0))
    except (TypeError, BufferError, ValueError):
        access = "writable " if writable else ""
        raise ValueError(
            f"{what} must be a {access}C-contiguous 1-D {kind} array, got {_describe(obj)}"
        ) from None
    if view.ndim != 1 or not _format_is(view.format, b'f' if single else b'd'):
        PyBuffer_Release(view)
        raise ValueError(f"{what} must be a 1-D {kind} array, got {_describe(obj)}")
    if view.shape[0] != n:
        PyBuffer_Release(view)
        raise ValueError(f"{what} must hold {n} samples, got {view.shape[0]}")
    return 0


def _check_array(a, dtype, Py_ssize_t n, str what):
    """a must be a C-contiguous 1-D ndarray of dtype (and n items unless n < 0)."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != 1 \
            or not a.flags.c_contiguous or (n >= 0 and a.shape[0] != n):
        size = "" if n < 0 else f" of {n} samples"
        raise ValueError(f"{what} must be a C-contiguous 1-D {dtype} array{size}, "
                         f"got {_describe(a)}")


def _describe(obj):
    shape = getattr(obj, "shape", None)
    dtype = getattr(obj, "dtype", None)
    return f"shape {shape} dtype {dtype}" if shape is not None else type(obj).__name__


cdef class RealFFT:
    """A real-FFT plan of size n for one dtype: twiddles and buffers are built once, and each
    transform then runs without the GIL and without allocating."""

    cdef lg_plan_f64 p64
    cdef lg_plan_f32 p32
    cdef readonly bint single
    cdef readonly Py_ssize_t n
    cdef readonly Py_ssize_t bins

    def __cinit__(self, Py_ssize_t n, dtype=np.float64):
        check_size(n)
        self.single = _single(dtype)
        self.n = n
        self.bins = n // 2 + 1
        cdef int rc
        if self.single:
            rc = lg_plan_init_f32(&self.p32, n)
        else:
            rc = lg_plan_init_f64(&self.p64, n)
        if rc != 0:
            raise MemoryError(f"cannot allocate an FFT plan of size {n}")

    def __dealloc__(self):
        lg_plan_free_f32(&self.p32)
        lg_plan_free_f64(&self.p64)

    @property
    def dtype(self):
        return np.dtype(np.float32 if self.single else np.float64)

    cdef void power(self, const void *x, const void *w, double offset, void *out,
                    int accumulate) noexcept nogil:
        """|rfft((x - offset) * w)|^2 into out (n/2+1 items of the plan dtype)."""
        if self.single:
            lg_power_f32(&self.p32, <const float *>x, <const float *>w, <float>offset,
                         <float *>out, accumulate)
        else:
            lg_power_f64(&self.p64, <const double *>x, <const double *>w, offset,
                         <double *>out, accumulate)

    cdef void *scratch(self) noexcept nogil:
        """The plan's own n/2+1 power bins, for callers that only reduce them."""
        return <void *>self.p32.power if self.single else <void *>self.p64.power

    cdef double total(self, const void *v, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
        if self.single:
            return lg_sum_f32(<const float *>v, a, b)
        return lg_sum_f64(<const double *>v, a, b)

    cdef double at(self, const void *v, Py_ssize_t i) noexcept nogil:
        if self.single:
            return (<const float *>v)[i]
        return (<const double *>v)[i]

    cdef double one_sided(self, const void *power, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
        """Sum of the one-sided spectrum over bins [lo, hi): interior bins count twice (their
        negative-frequency twin), DC and Nyquist once."""
        if hi <= lo:
            return 0.0
        cdef double s = 2.0 * self.total(power, lo, hi)
        if lo == 0:
            s -= self.at(power, 0)
        if hi == self.bins:
            s -= self.at(power, self.bins - 1)
        return s

    def spectrum(self, x, out):
        """rfft of each row of x (shape (n,) or (frames, n)) into out (complex, last axis
        n/2+1), the plan's core transform with no window. Returns out."""
        ctype = np.complex64 if self.single else np.complex128
        if not isinstance(x, np.ndarray) or x.dtype != self.dtype or x.ndim not in (1, 2) \
                or x.shape[x.ndim - 1] != self.n or not x.flags.c_contiguous:
            raise ValueError(f"x must be a C-contiguous {self.dtype} array with rows of "
                             f"{self.n} samples, got {_describe(x)}")
        if not isinstance(out, np.ndarray) or out.dtype != ctype \
                or out.shape != x.shape[:x.ndim - 1] + (self.bins,) \
                or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"out must be a writable C-contiguous {np.dtype(ctype)} array of "
                             f"shape {x.shape[:x.ndim - 1] + (self.bins,)}, got {_describe(out)}")
        cdef Py_ssize_t frames = 1 if x.ndim == 1 else x.shape[0], f
        cdef char *src = <char *><size_t>x.ctypes.data
        cdef char *dst = <char *><size_t>out.ctypes.data
        cdef Py_ssize_t src_step = self.n * (4 if self.single else 8)
        cdef Py_ssize_t dst_step = self.bins * (8 if self.single else 16)
        cdef bint finite = True
        with nogil:
            for f in range(frames):
                if self.single:
                    lg_spectrum_f32(&self.p32, <const float *>(src + f * src_step),
                                    <float *>(dst + f * dst_step))
                    finite = finite and isfinite((<float *>(dst + f * dst_step))[0])
                else:
                    lg_spectrum_f64(&self.p64, <const double *>(src + f * src_step),
                                    <double *>(dst + f * dst_step))
                    finite = finite and isfinite((<double *>(dst + f * dst_step))[0])
        if not finite:
            raise ValueError("x contains NaN or infinite samples")
        return out

    def power_spectrum(self, frame, window, out):
        """abs(rfft(frame * window))**2 into out (n/2+1 items of the plan dtype)."""
        cdef Py_buffer fv, wv, ov
        _acquire(frame, &fv, self.single, self.n, "frame")
        try:
            _acquire(window, &wv, self.single, self.n, "window")
            try:
                _acquire(out, &ov, self.single, self.bins, "out", True)
                try:
                    with nogil:
                        self.power(fv.buf, wv.buf, 0.0, ov.buf, 0)
                    if not isfinite(self.at(ov.buf, 0)):
                        raise ValueError("frame contains NaN or infinite samples")
                finally:
                    PyBuffer_Release(&ov)
            finally:
                PyBuffer_Release(&wv)
        finally:
            PyBuffer_Release(&fv)
        return out


cdef Py_ssize_t _first_at_or_above(const double *freqs, Py_ssize_t count,
                                   double edge) noexcept nogil:
    """Index of the first freqs[i] >= edge (count when none): numpy.searchsorted(side="left")."""
    cdef Py_ssize_t lo = 0, hi = count, mid
    while lo < hi:
        mid = (lo + hi) // 2
        if freqs[mid] < edge:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef class FramePipeline:
    """Band energies of one frame at a time: window -> real FFT -> one-sided power -> band
    sums, in one pass over buffers allocated here once.

    process(frame) returns the same float64 array (one value per band) on every call, so keep
    a copy of what must outlive the next frame. With orders=True the edges are in orders of
    ref_hz, given to each process() call (for example the sheave rotation frequency).
    """

    cdef RealFFT plan
    cdef object _window, _freqs, _edges, _lo, _hi
    cdef readonly object out
    cdef const void *wptr
    cdef const double *freqs
    cdef const double *edges
    cdef Py_ssize_t *lo
    cdef Py_ssize_t *hi
    cdef double *outp
    cdef Py_ssize_t nbands
    cdef double scale
    cdef bint detrend
    cdef readonly bint orders

    def __cinit__(self, Py_ssize_t n, window, edges, double fs, dtype=np.float64,
                  detrend="constant", scaling="density", bint orders=False):
        # __cinit__ runs exactly once, so no instance can exist with unset buffer pointers
        from cext.spectral import pipeline_setup
        setup = pipeline_setup(n, window, edges, fs, dtype, detrend, scaling)
        self.plan = RealFFT(n, dtype)
        self._window = setup.window
        self._freqs = setup.freqs
        self._edges = setup.edges
        self.nbands = setup.edges.shape[0] - 1
        self._lo = np.empty(self.nbands, dtype=np.intp)
        self._hi = np.empty(self.nbands, dtype=np.intp)
        self.out = np.zeros(self.nbands, dtype=np.float64)
        self.wptr = <const void *><size_t>self._window.ctypes.data
        self.freqs = <const double *><size_t>self._freqs.ctypes.data
        self.edges = <const double *><size_t>self._edges.ctypes.data
        self.lo = <Py_ssize_t *><size_t>self._lo.ctypes.data
        self.hi = <Py_ssize_t *><size_t>self._hi.ctypes.data
        self.outp = <double *><size_t>self.out.ctypes.data
        self.scale = setup.scale
        self.detrend = setup.detrend
        self.orders = orders
        if not orders:
            self._set_bins(1.0)

    @property
    def n(self):
        return self.plan.n

    @property
    def dtype(self):
        return self.plan.dtype

    @property
    def freqs(self):
        return self._freqs

    @property
    def edges(self):
        return self._edges

    cdef void _set_bins(self, double factor) noexcept nogil:
        cdef Py_ssize_t j, count = self.plan.bins
        for j in range(self.nbands):
            self.lo[j] = _first_at_or_above(self.freqs, count, self.edges[j] * factor)
            self.hi[j] = _first_at_or_above(self.freqs, count, self.edges[j + 1] * factor)

    def process(self, frame, ref_hz=None):
        """Band energies of frame (n samples of the pipeline dtype) into self.out."""
        cdef Py_buffer view
        cdef bint finite
        cdef double ref = 1.0
        if self.orders:
            if ref_hz is None:
                raise ValueError("this pipeline's edges are in orders: pass ref_hz")
            ref = ref_hz
            if not (isfinite(ref) and ref > 0):
                raise ValueError(f"ref_hz must be a positive finite frequency, got {ref_hz}")
        elif ref_hz is not None:
            raise ValueError("ref_hz is only meaningful for a pipeline built with orders=True")
        _acquire(frame, &view, self.plan.single, self.plan.n, "frame")
        try:
            with nogil:
                finite = self._run(view.buf, ref)
        finally:
            PyBuffer_Release(&view)
        if not finite:
            raise ValueError("frame contains NaN or infinite samples")
        return self.out

    cdef bint _run(self, const void *x, double ref_hz) noexcept nogil:
        cdef void *power = self.plan.scratch()
        cdef double offset = 0.0
        cdef Py_ssize_t j
        if self.orders:
            self._set_bins(ref_hz)
        if self.detrend:
            offset = self.plan.total(x, 0, self.plan.n) / self.plan.n
        self.plan.power(x, self.wptr, offset, power, 0)
        # every bin depends on every sample, so a NaN or inf anywhere reaches bin 0
        if not isfinite(self.plan.at(power, 0)):
            return False
        for j in range(self.nbands):
            self.outp[j] = self.scale * self.plan.one_sided(power, self.lo[j], self.hi[j])
        return True


def welch_psd(RealFFT plan, x, window, Py_ssize_t step, bint detrend, double scale):
    """Mean one-sided periodogram of the segments x[i*step : i*step+n] times scale, in the plan
    dtype (the shape of scipy.signal.welch's psd). Samples must be finite; the caller checks
    argument values, this only guards the memory it reads."""
    _check_array(x, plan.dtype, -1, "x")
    _check_array(window, plan.dtype, plan.n, "window")
    if x.shape[0] < plan.n or step < 1:
        raise ValueError(f"need step >= 1 and at least {plan.n} samples, got {step}, {x.shape[0]}")
    cdef Py_ssize_t n = plan.n, bins = plan.bins, length = x.shape[0]
    cdef Py_ssize_t nseg = (length - n) // step + 1, seg, k
    cdef Py_ssize_t item = 4 if plan.single else 8
    psd = np.empty(bins, dtype=plan.dtype)
    cdef const char *xp = <const char *><size_t>x.ctypes.data
    cdef const void *wp = <const void *><size_t>window.ctypes.data
    cdef void *out = <void *><size_t>psd.ctypes.data
    cdef double offset = 0.0, factor = scale / nseg
    cdef Py_ssize_t covered = (nseg - 1) * step + n
    cdef bint finite
    with nogil:
        for seg in range(nseg):
            if detrend:
                offset = plan.total(xp + seg * step * item, 0, n) / n
            plan.power(xp + seg * step * item, wp, offset, out, seg > 0)
        finite = isfinite(plan.at(out, 0)) and isfinite(plan.total(xp, covered, length))
        if plan.single:
            for k in range(bins):
                (<float *>out)[k] *= <float>(factor if k == 0 or k == bins - 1 else 2 * factor)
        else:
            for k in range(bins):
                (<double *>out)[k] *= factor if k == 0 or k == bins - 1 else 2 * factor
    if not finite:
        raise ValueError("x contains NaN or infinite samples")
    return psd


def band_sums(const double[::1] freqs, const double[::1] psd, const double[::1] edges):
    """sum(psd[i] * df) over freqs[i] in [edges[j], edges[j+1]) for each j, after checking
    what a per-bin loop can check cheaply: matching lengths, evenly spaced increasing freqs,
    finite psd, finite strictly increasing edges."""
    cdef Py_ssize_t i, j, lo, hi, nb = edges.shape[0] - 1, count = freqs.shape[0]
    if count < 2 or psd.shape[0] != count:
        raise ValueError(f"freqs and psd must have the same length >= 2, got {count} and "
                         f"{psd.shape[0]}")
    if nb < 1:
        raise ValueError("edges must hold at least two frequencies")
    cdef double df = freqs[1] - freqs[0], step
    cdef int problem = 0
    with nogil:
        if not (isfinite(df) and df > 0):
            problem = 1
        for i in range(1, count):
            step = freqs[i] - freqs[i - 1]
            if not fabs(step - df) <= 1e-6 * df:
                problem = 1
        for i in range(count):
            if not isfinite(psd[i]):
                problem = problem or 2
        for j in range(nb + 1):
            if not isfinite(edges[j]) or (j > 0 and not edges[j] > edges[j - 1]):
                problem = problem or 3
    if problem == 1:
        raise ValueError("freqs must be evenly spaced and increasing (as welch returns them)")
    if problem == 2:
        raise ValueError("psd contains NaN or infinite values")
    if problem == 3:
        raise ValueError(f"edges must be finite and strictly increasing, got {np.asarray(edges)}")
    out = np.empty(nb, dtype=np.float64)
    cdef double[::1] o = out
    with nogil:
        for j in range(nb):
            lo = _first_at_or_above(&freqs[0], count, edges[j])
            hi = _first_at_or_above(&freqs[0], count, edges[j + 1])
            o[j] = df * lg_sum_f64(&psd[0], lo, hi) if hi > lo else 0.0
    return out

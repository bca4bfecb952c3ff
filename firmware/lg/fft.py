"""Real FFT for MicroPython: planned once, executed on preallocated buffers.

`RealFFT(n)` precomputes the bit-reversal order and twiddles of an n/2-point complex FFT and
computes the n-point real transform with the usual split: pack even/odd samples as the real
and imaginary parts, transform, then separate (X[k] = E[k] + W^k O[k]). That halves the work of
a pure-Python radix-2 FFT. When the firmware has `ulab`, its C FFT does the transform instead
(REFERENCE.md section 5: about 2 ms for 1024 points on an STM32F405, pure Python ~90 ms).
Output: `power` holds |X[k]|^2 for k = 0..n/2, the same as numpy.abs(numpy.fft.rfft(x))**2.
"""

import math
from array import array

try:
    from ulab import numpy as _np
except ImportError:
    _np = None
try:  # ulab's |FFT| in place (ulab >= 4 with utils); absent: the complex FFT and abs below
    from ulab.utils import spectrogram as _spectrogram
except ImportError:
    _spectrogram = None


def bit_reverse_table(m: int) -> array:
    """The radix-2 input order of an m-point FFT (m a power of two): rev[i] is i with its
    log2(m) bits reversed."""
    bits = 0
    while (1 << bits) < m:
        bits += 1
    rev = array("H", bytes(2 * m))
    for i in range(m):
        r, v = 0, i
        for _ in range(bits):
            r = (r << 1) | (v & 1)
            v >>= 1
        rev[i] = r
    return rev


def load_pairs(x, re, im, rev) -> None:
    """Even samples of x into re, odd into im, both in bit-reversed order: the n-point real
    input as the n/2-point complex one. (The butterflies stay apart in fft.py and fixfft.py:
    float against Q14 integer arithmetic in the innermost loop, where a shared kernel would
    cost a call per butterfly on MicroPython.)"""
    for i in range(len(rev)):
        j = rev[i]
        re[j] = x[2 * i]
        im[j] = x[2 * i + 1]


class RealFFT:
    def __init__(self, n: int, use_ulab: bool = True) -> None:
        if n < 8 or n & (n - 1):
            raise ValueError(f"FFT length {n} must be a power of two >= 8")
        self.n = n
        m = n // 2
        self.ulab = _np is not None and use_ulab
        if self.ulab:
            return
        self.re = array("f", bytes(4 * m))
        self.im = array("f", bytes(4 * m))
        self.power = array("f", bytes(4 * (m + 1)))
        self.rev = bit_reverse_table(m)
        # cos/sin of 2*pi*k/n for k < n/2: the m-point FFT uses every other one.
        self.cos = array("f", (math.cos(2 * math.pi * k / n) for k in range(m)))
        self.sin = array("f", (math.sin(2 * math.pi * k / n) for k in range(m)))

    def run(self, x) -> array:
        """Power spectrum of the n samples in `x` (any indexable of numbers) into self.power."""
        if len(x) != self.n:
            raise ValueError(f"got {len(x)} samples for a {self.n}-point FFT")
        if self.ulab:
            self._run_ulab(x)
        else:
            self._run_python(x)
        return self.power

    def _run_ulab(self, x) -> None:
        self.power = self.power_nd(x if isinstance(x, _np.ndarray) else _np.array(x))

    def power_nd(self, x, inplace: bool = False):
        """|X[k]|^2, k = 0..n/2, as a ulab array (vectorised: no per-bin Python floats).
        With `inplace` (x is a scratch frame), the magnitudes are written over x: one
        2n-float scratchpad (the same ulab allocates for itself) instead of a complex
        spectrum plus its magnitudes, a third less memory per transform."""
        np = _np
        m = self.n // 2 + 1
        if inplace and _spectrogram is not None:
            _spectrogram(x, scratchpad=np.zeros(2 * self.n), out=x)
            p = x[:m]
            p *= p
            return p
        spec = np.fft.fft(x)
        if isinstance(spec, tuple):  # ulab built without complex support: (real, imag)
            re, im = spec
            return re[:m] * re[:m] + im[:m] * im[:m]
        p = abs(spec)[:m]  # one real array, squared in place: the fewest temporaries
        p *= p
        return p

    def _run_python(self, x) -> None:
        n, m = self.n, self.n // 2
        re, im, rev = self.re, self.im, self.rev
        load_pairs(x, re, im, rev)
        cos, sin = self.cos, self.sin
        size = 2
        while size <= m:
            half = size // 2
            step = n // size  # twiddle stride in the n-point tables
            for start in range(0, m, size):
                t = 0
                for k in range(start, start + half):
                    wr, wi = cos[t], -sin[t]
                    t += step
                    j = k + half
                    xr, xi = re[j], im[j]
                    tr = wr * xr - wi * xi
                    ti = wr * xi + wi * xr
                    ur, ui = re[k], im[k]
                    re[k], im[k] = ur + tr, ui + ti
                    re[j], im[j] = ur - tr, ui - ti
            size *= 2
        p = self.power
        p[0] = (re[0] + im[0]) ** 2
        p[m] = (re[0] - im[0]) ** 2
        for k in range(1, m):
            zr, zi = re[k], im[k]
            cr, ci = re[m - k], -im[m - k]  # conj(Z[m-k])
            er, ei = (zr + cr) * 0.5, (zi + ci) * 0.5
            orr, oi = (zi - ci) * 0.5, -(zr - cr) * 0.5  # (Z - conj) / 2j
            wr, wi = cos[k], -sin[k]
            xr = er + wr * orr - wi * oi
            xi = ei + wr * oi + wi * orr
            p[k] = xr * xr + xi * xi


def hann(n: int) -> array:
    """Periodic Hann window (scipy.signal.get_window('hann', n)), sum n/2."""
    return array("f", (0.5 - 0.5 * math.cos(2 * math.pi * i / n) for i in range(n)))

"""Real FFT in block floating point on small integers: the pure-MicroPython path with no heap.

Why: on the ESP32 every MicroPython float is a heap object, so the float FFT (fft.py) leaves
about 1 MB of short-lived garbage per 1024-point transform. Integers below 2^30 are immediate
values in MicroPython (no allocation), so a transform whose every intermediate stays below
2^30 allocates nothing. The scheme is the classic block-floating-point FFT: data in `array('i')`,
twiddles in Q14 (`array('h')`), and before each radix-2 stage the whole block is halved while
any component exceeds 2^14, the halvings counted in a shared exponent. With components <= 2^14
and twiddles <= 2^14, every product is <= 2^28 and every butterfly sum < 2^30.

Same structure as fft.RealFFT: an n/2-point complex transform of the even/odd samples packed
as real/imaginary parts, then the split X[k] = E[k] + W^k O[k]. `run(x)` takes n integers
(each |x| <= 2^14, see `window`) and leaves |X[k]|^2 / 4^exp in `power` (array('i'), each
< 2^30), k = 0..n/2; it returns exp, so |X[k]|^2 = power[k] * 4^exp.
Rounding: each shift and Q14 product rounds to nearest; the error is about one unit of the
block's last bit per stage, far below a 13-bit accelerometer's or 24-bit microphone's noise
once the input is scaled up to use the 15 bits (`window` does that).
"""

import math
from array import array

from lg.fft import bit_reverse_table, load_pairs  # every user of this module imports lg.fft already

LIMIT = 1 << 14  # largest component allowed at a stage's input
Q = 14  # twiddle and window fraction bits
HALF = 1 << (Q - 1)


class FixedFFT:
    ulab = False  # the same question WelchPSD asks of fft.RealFFT

    def __init__(self, n: int) -> None:
        if n < 8 or n & (n - 1):
            raise ValueError(f"FFT length {n} must be a power of two >= 8")
        self.n = n
        m = n // 2
        self.re = array("i", bytes(4 * m))
        self.im = array("i", bytes(4 * m))
        self.power = array("i", bytes(4 * (m + 1)))
        self.rev = bit_reverse_table(m)
        one = 1 << Q
        self.cos = array("h", (int(round(one * math.cos(2 * math.pi * k / n))) for k in range(m)))
        self.sin = array("h", (int(round(one * math.sin(2 * math.pi * k / n))) for k in range(m)))
        # periodic Hann (fft.hann) in Q14, and its sum of squares (for the density scale)
        self.hann = array("h", (int(round(one * (0.5 - 0.5 * math.cos(2 * math.pi * i / n))))
                                for i in range(n)))
        self.s2 = sum((w / one) ** 2 for w in self.hann)
        self.frame = array("i", bytes(4 * n))

    def window(self, x, mean: int, peak: int) -> int:
        """frame[i] = (x[i] - mean) * hann[i], scaled by 2^up so that the largest possible
        value uses the 15 bits; `peak` bounds |x[i] - mean|. Returns up (the frame is the
        windowed signal times 2^up)."""
        up = 0
        if peak > LIMIT:
            while (peak >> -up) > LIMIT:
                up -= 1
        else:
            while peak and up < Q - 1 and (peak << (up + 1)) <= LIMIT:
                up += 1
        frame, w = self.frame, self.hann
        if up >= 0:
            sh, rnd = Q - up, 1 << (Q - up - 1)
            for i in range(self.n):
                frame[i] = ((x[i] - mean) * w[i] + rnd) >> sh
        else:  # samples wider than 15 bits (a 24-bit microphone): narrow them first
            pre = -up
            for i in range(self.n):
                frame[i] = (((x[i] - mean) >> pre) * w[i] + HALF) >> Q
        return up

    def _shift(self, m: int) -> int:
        """Halve the block while any component exceeds LIMIT; returns the halvings."""
        re, im = self.re, self.im
        e = 0
        while max(max(re), -min(re), max(im), -min(im)) > LIMIT:
            for i in range(m):
                re[i] = (re[i] + 1) >> 1
                im[i] = (im[i] + 1) >> 1
            e += 1
        return e

    def run(self, x) -> int:
        n, m = self.n, self.n // 2
        re, im, rev = self.re, self.im, self.rev
        load_pairs(x, re, im, rev)
        cos, sin = self.cos, self.sin
        e = 0
        size = 2
        while size <= m:
            e += self._shift(m)
            half = size // 2
            step = n // size
            for start in range(0, m, size):
                t = 0
                for k in range(start, start + half):
                    wr, wi = cos[t], -sin[t]
                    t += step
                    j = k + half
                    xr, xi = re[j], im[j]
                    tr = (wr * xr - wi * xi + HALF) >> Q
                    ti = (wr * xi + wi * xr + HALF) >> Q
                    ur, ui = re[k], im[k]
                    re[k], im[k] = ur + tr, ui + ti
                    re[j], im[j] = ur - tr, ui - ti
            size *= 2
        # the split: E, O <= 2^13 keeps X = E + W O below 2^14.3 and |X|^2 below 2^30
        while max(max(re), -min(re), max(im), -min(im)) > LIMIT // 2:
            for i in range(m):
                re[i] = (re[i] + 1) >> 1
                im[i] = (im[i] + 1) >> 1
            e += 1
        p = self.power
        p[0] = (re[0] + im[0]) ** 2
        p[m] = (re[0] - im[0]) ** 2
        for k in range(1, m):
            zr, zi = re[k], im[k]
            cr, ci = re[m - k], -im[m - k]  # conj(Z[m-k])
            er, ei = (zr + cr) >> 1, (zi + ci) >> 1
            orr, oi = (zi - ci) >> 1, (cr - zr) >> 1  # (Z - conj) / 2j
            wr, wi = cos[k], -sin[k]
            xr = er + ((wr * orr - wi * oi + HALF) >> Q)
            xi = ei + ((wr * oi + wi * orr + HALF) >> Q)
            p[k] = xr * xr + xi * xi
        return e

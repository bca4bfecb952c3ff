"""Vibration features on the board, with the definitions of agent/detectors/vibration.py.

`WelchPSD` averages Hann-windowed, mean-removed frames of one FFT length (density scaling,
one-sided, like scipy.signal.welch) over every channel and frame of a constant-speed segment,
into one preallocated array. The features are computed from that PSD exactly as the Pi does,
so a baseline learned by `liftguard baseline learn` scores board features too:

    rope.strand_prom, rope.h2_prom, rope.h3_prom   strand-order line (and harmonics) over the
                                                   median floor within +/-15 % (dB re floor
                                                   in 1 Hz: bin-width independent)
    bearing.hf_level                               power in fs/4 .. 0.45 fs with the strand
                                                   harmonics notched (dB re 1 (m/s^2)^2)

The Pi's sheave features (least-squares projection over a whole trip), bearing kurtosis and
envelope features need the trip's full record; the board does not compute them.

plus the time-domain `rms` and `peak` of the segment (m/s^2, mean removed). The board's
resolution is fixed by its FFT length (fs/n); the Pi picks a finer one on long records.
Prominences of a line over a broadband floor do not depend on the bin width, which is why the
two compare (tests/firmware/test_features.py checks them against the Pi's code).
"""

import math
from array import array

from lg.fft import RealFFT, _np, hann
from lg.fixfft import FixedFFT

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any

ORDER_TOLERANCE = 0.05  # as agent/detectors/vibration.py: speed-register and lay-length error


def db(power: float) -> float:
    return 10.0 * math.log10(max(power, 1e-30))


class WelchPSD:
    def __init__(self, n: int, fs: float, channels: int = 1, use_ulab: bool = True,
                 scale: float = 1.0, counts: bool = False) -> None:
        """`scale` converts the samples given to add() to units (e.g. m/s^2 per ADXL345
        count), so the frames can stay raw 16-bit counts: half the RAM of floats. With
        `counts` (the samples are integers) and no ulab, frames go through the integer
        block-floating-point FFT (fixfft.py), which allocates nothing per sample or bin."""
        self.n, self.fs, self.channels, self.scale = n, fs, channels, scale
        self.fixed = counts and not (_np is not None and use_ulab)
        self.fft: Any = FixedFFT(n) if self.fixed else RealFFT(n, use_ulab)
        if isinstance(self.fft, FixedFFT):
            self.s2 = self.fft.s2  # of the Q14 window the frames are really multiplied by
        else:
            self.window = hann(n)
            self.s2 = sum(w * w for w in self.window)
        if self.fft.ulab:  # whole-frame arithmetic in C: no Python float per sample
            self.window = _np.array(self.window)
            self.sum = _np.zeros(n // 2 + 1)
        else:
            if not self.fixed:
                self.frame = array("f", bytes(4 * n))
            self.sum = array("f", bytes(4 * (n // 2 + 1)))
        self.frames = 0
        self._k2_cache: float | None = None
        self.sq = 0.0  # sum of squares of mean-removed samples, for rms
        self.count = 0
        self.peak = 0.0

    def reset(self) -> None:
        s = self.sum
        if self.fft.ulab:
            s *= 0
        else:
            for k in range(len(s)):
                s[k] = 0.0
        self.frames, self.sq, self.count, self.peak = 0, 0.0, 0, 0.0
        self._k2_cache = None

    def add(self, samples) -> None:
        """One frame of n samples of one channel (feed every channel's frames in turn)."""
        if self.fft.ulab:
            self._add_ulab(samples)
            return
        if self.fixed:
            self._add_fixed(samples)
            return
        n, frame, w, scale = self.n, self.frame, self.window, self.scale
        mean = sum(samples) / n
        sq, peak = 0.0, self.peak
        for i in range(n):
            v = (samples[i] - mean) * scale
            sq += v * v
            a = v if v >= 0 else -v
            if a > peak:
                peak = a
            frame[i] = v * w[i]
        self.sq += sq
        self.count += n
        self.peak = peak
        p = self.fft.run(frame)
        s = self.sum
        for k in range(len(s)):
            s[k] += p[k]
        self.frames += 1
        self._k2_cache = None

    def _add_fixed(self, samples) -> None:
        """Integer counts: sums in small integers (no heap), one FFT in block floating
        point; only the per-frame totals and the accumulation into `sum` are floats."""
        n, scale = self.n, self.scale
        total = sum(samples)
        sq = 0
        for v in samples:
            sq += v * v
        hi, lo = max(samples), min(samples)
        exact = total / n
        self.sq += (sq - total * exact) * scale * scale
        self.count += n
        a = max(hi - exact, exact - lo) * scale
        if a > self.peak:
            self.peak = a
        # The window is applied around the mean rounded to a count: the residue (< 1/2
        # count of DC) stays in bins 0-1, far below any band a feature reads.
        mean = (2 * total + n) // (2 * n)
        fft = self.fft
        up = fft.window(samples, mean, max(hi - mean, mean - lo))
        e = fft.run(fft.frame)
        f = 4.0 ** (e - up) * scale * scale
        p, s = fft.power, self.sum
        for k in range(len(s)):
            s[k] += p[k] * f
        self.frames += 1
        self._k2_cache = None

    def _add_ulab(self, samples) -> None:
        np = _np
        x = np.array(samples, dtype=np.float)
        x -= np.mean(x)
        if self.scale != 1.0:
            x *= self.scale
        self.sq += np.dot(x, x)
        self.count += self.n
        peak = max(np.max(x), -np.min(x))
        if peak > self.peak:
            self.peak = peak
        x *= self.window
        self.sum += self.fft.power_nd(x, inplace=True)
        self.frames += 1
        self._k2_cache = None

    @property
    def df(self) -> float:
        return self.fs / self.n

    def psd(self, k: int) -> float:
        """PSD at bin k in units^2/Hz (one-sided, density scaling), summed over channels as
        the Pi's total PSD is: frames of all channels are averaged, then times channels."""
        k2 = self._k2 if k and k != self.n // 2 else self._k2 / 2
        return self.sum[k] * k2

    @property
    def _k2(self) -> float:
        """2 x the density scale (one-sided), computed once per segment: every float is a
        heap object on the board, and the features visit a few hundred bins."""
        if self._k2_cache is None:
            self._k2_cache = 2 * self.channels / (self.frames * self.fs * self.s2)
        return self._k2_cache

    def _scale(self) -> float:
        return self._k2 / 2

    def band_power(self, lo: float, hi: float) -> float:
        """Integral of the PSD over bins with lo <= f < hi (agent.detectors.spectra.band_powers)."""
        df, top = self.df, self.n // 2
        k0 = max(0, math.ceil(lo / df - 1e-9))
        k1 = min(top, math.ceil(hi / df - 1e-9) - 1)
        if k1 < k0:
            return 0.0
        if self.fft.ulab:  # one C sum over a view: no Python float per bin
            total = 2 * float(_np.sum(self.sum[k0:k1 + 1]))
        else:
            s = self.sum
            total = 0.0
            for k in range(k0, k1 + 1):
                total += s[k]
            total *= 2
        for edge in (0, top):  # the DC and Nyquist bins are not doubled
            if k0 <= edge <= k1:
                total -= self.sum[edge]
        return total * self._scale() * df

    def floor(self, lo: float, hi: float, exclude) -> float:
        df = self.df
        vals = []
        for k in range(max(0, math.ceil(lo / df - 1e-9)), min(self.n // 2 + 1, math.ceil(hi / df))):
            f = k * df
            if f >= hi or any(a <= f < b for a, b in exclude):
                continue
            vals.append(self.psd(k))
        if not vals:
            return 1e-30
        vals.sort()
        h = len(vals) // 2
        med = vals[h] if len(vals) % 2 else 0.5 * (vals[h - 1] + vals[h])
        return med if med > 0 else 1e-30

    def refine_peak(self, centre: float, tol: float) -> float:
        df, top = self.df, self.n // 2
        best, bi = -1.0, -1
        for k in range(max(0, math.ceil(centre * (1 - tol) / df - 1e-9)), top + 1):
            if k * df > centre * (1 + tol):
                break
            v = self.psd(k)
            if v > best:
                best, bi = v, k
        if bi < 0:
            return centre
        if 0 < bi < top:
            a, b, c = self.psd(bi - 1), best, self.psd(bi + 1)
            if a > 0 and b > 0 and c > 0:
                la, lb, lc = math.log(a), math.log(b), math.log(c)
                den = la - 2 * lb + lc
                if den < 0:
                    return bi * df + 0.5 * (la - lc) / den * df
        return bi * df


def vibration_features(w: WelchPSD, speed_mps: float, lift: dict) -> dict:
    """Features of the accumulated segment at car speed `speed_mps` for the lift geometry."""
    v_rope = abs(speed_mps) * lift["roping"]
    f_strand = v_rope * lift["rope_strands"] / lift["rope_lay_length_m"]
    f_sheave = v_rope / (math.pi * lift["sheave_diameter_m"])
    nyq, df = w.fs / 2, w.df
    out = {"rms": math.sqrt(w.sq / w.count) if w.count else 0.0, "peak": w.peak}
    if f_strand > 0 and f_strand * (1 + ORDER_TOLERANCE) < nyq * 0.9:
        peak = w.refine_peak(f_strand, ORDER_TOLERANCE)
        half = max(1.5 * df, 0.002 * peak)
        out["rope.strand_prom"] = _line(w, peak, half, f_sheave)
        for k in (2, 3):
            if k * peak + half * k < nyq * 0.9:
                pk = w.refine_peak(k * peak, 0.01)
                out[f"rope.h{k}_prom"] = _line(w, pk, half * k, f_sheave)
    out["bearing.hf_level"] = db(_high_band(w, f_strand, f_sheave))
    return out


def _high_band(w: WelchPSD, f_strand: float, f_sheave: float) -> float:
    """Power in fs/4 .. 0.45 fs with the rope's strand harmonics (k = 1..7) and their sheave
    sidebands (m = -2..2) notched out, as agent/detectors/vibration.py does. The notch is
    the Pi's width or the board's Hann main lobe (+/-2 bins), whichever is wider."""
    lo, hi, df = w.fs / 4, 0.45 * w.fs, w.df
    total = w.band_power(lo, hi)
    notched = set()
    for k in range(1, 8):
        if not lo - 10 < k * f_strand < hi + 10:
            continue
        for m in (-2, -1, 0, 1, 2):
            fn = k * f_strand + m * f_sheave
            width = max(0.006 * fn, 2.5 * df)
            for b in range(max(0, math.ceil((fn - width) / df)),
                           min(w.n // 2, int((fn + width) / df)) + 1):
                if lo <= b * df < hi and abs(b * df - fn) <= width:
                    notched.add(b)
    if not notched:
        return max(total, 1e-30)
    if w.fft.ulab:  # one gather and one sum in C
        cut = float(_np.sum(_np.take(w.sum, _np.array(list(notched), dtype=_np.uint16))))
    else:
        cut = 0.0
        for b in notched:
            cut += w.sum[b]
    return max(total - cut * w._k2 * df, 1e-30)


def prominence(band_power: float, floor_density: float, width_hz: float) -> float:
    """agent/detectors/vibration.py's definition: (the line's power + the floor's power in
    1 Hz) over the floor's power in 1 Hz, in dB, the line's power being the band power less
    the floor's share of the band. It does not depend on the bin width, so the board's
    1024-point frames compare with the Pi's longer ones; an absent line reads near 0 dB with
    the estimate's scatter (no degenerate clamp), as the baseline learned it."""
    line = band_power - floor_density * width_hz
    return db(max(line + floor_density, 0.05 * floor_density)) - db(floor_density)


def _line(w: WelchPSD, centre: float, half: float, f_sheave: float) -> float:
    power = w.band_power(centre - half, centre + half)
    excl = [(centre + m * f_sheave - half, centre + m * f_sheave + half) for m in range(-3, 4)]
    fl = w.floor(centre * 0.85, centre * 1.15, excl)
    return prominence(power, fl, 2 * half)

"""I2S MEMS microphone capture (INMP441-class: 24-bit samples, MSB-aligned in 32-bit slots).

The caller hands over a configured `machine.I2S` (board.py builds it: mode RX, bits 32, mono).
Levels: dBFS from the RMS of the 24-bit samples (a full-scale sine is 0 dBFS, AES17), dB SPL
through the microphone's sensitivity (dBFS at 94 dB SPL, the datasheet figure; INMP441:
-26 dBFS), and the A-weighted level the Pi's noise detector uses (agent/detectors/acoustic.py):
L_Aeq of the block in dB(A) re 20 uPa, from its Hann-windowed power spectrum weighted bin by
bin with |A(f)|^2 of IEC 61672-1:2013 Annex E (E.6), the same formula as
agent/detectors/spectra.py's a_weighting_gain. Without ulab the block goes through the
integer FFT (fixfft.py), so a level costs no float per sample. The FFT is shared with the
accelerometer's when the lengths match (box.py); the A gains are computed once.
"""

import math
from array import array

from lg.fft import RealFFT, _np, hann
from lg.fixfft import FixedFFT

TYPE_CHECKING = False
if TYPE_CHECKING:  # mypy only; MicroPython has no typing module
    from typing import Any

# IEC 61672-1:2013 Annex E: the A curve's pole frequencies (Hz), E.6's normalisation +2.00 dB
F1, F2, F3, F4 = 20.6, 107.7, 737.9, 12194.0
A1000 = 10 ** (2.0 / 10)
CHUNK = 256  # samples read from I2S at a time: a 1 KiB buffer instead of one for the block


def a_gain(f: float) -> float:
    """|A(f)|^2, a power gain (1.0 at 1 kHz). Written as a product of ratios, each <= 1,
    so it stays in range in the board's 32-bit floats."""
    f2 = f * f
    if f2 == 0:
        return 0.0
    r = (f2 / (f2 + F1 * F1)) * (f2 / math.sqrt((f2 + F2 * F2) * (f2 + F3 * F3))) * (
        F4 * F4 / (f2 + F4 * F4))
    return r * r * A1000


class Microphone:
    def __init__(self, i2s, samples: int = 1024, sensitivity_dbfs: float = -26.0,
                 rate_hz: int = 16000, fft=None):
        self.i2s = i2s
        self.raw = bytearray(4 * min(samples, CHUNK))
        self.samples = samples
        self.sensitivity = sensitivity_dbfs
        self.rate = rate_hz
        self.buf = array("i", bytes(4 * samples))
        self.fft = fft
        self.gains: Any = None
        self.window: Any = None
        self.s2 = 0.0

    def capture(self) -> int:
        """Fill one block, a chunk at a time; returns the number of samples read."""
        out, b = self.buf, self.raw
        got = 0
        while got < self.samples:
            left = self.samples - got
            r = self.i2s.readinto(b if left >= CHUNK else memoryview(b)[:4 * left]) // 4
            if r == 0:
                break
            for i in range(r):
                # The 24 significant bits are the slot's top three bytes (the low byte is
                # zero): assembled as a 24-bit value they stay a small int, where the whole
                # 32-bit word would be a heap-allocated big one on a 32-bit port.
                k = 4 * i
                v = b[k + 1] | b[k + 2] << 8 | b[k + 3] << 16
                out[got + i] = v - 0x1000000 if v & 0x800000 else v
            got += r
        return got

    def _spl(self, ms: float) -> tuple:
        # Full scale is a sine of peak 2^23, whose RMS is 2^23 / sqrt(2): 0 dBFS (AES17).
        dbfs = 10 * math.log10(max(ms, 1e-12) / (8388608.0**2 / 2))
        return dbfs, dbfs - self.sensitivity + 94.0

    def level(self, n: int) -> tuple:
        """(dBFS, dB SPL) of the first n captured samples, unweighted (Z), DC removed."""
        if n == 0:
            return (-200.0, -200.0)
        buf = self.buf
        mean = sum(buf[i] for i in range(n)) / n
        ms = sum((buf[i] - mean) ** 2 for i in range(n)) / n
        return self._spl(ms)

    def level_a(self) -> float:
        """L_Aeq of the whole captured block in dB(A) SPL (DC removed)."""
        n, buf = self.samples, self.buf
        if self.fft is None:
            self.fft = RealFFT(n) if _np is not None else FixedFFT(n)
        fft, m = self.fft, n // 2
        if self.gains is None:  # once: the A gains per bin (and the window for ulab)
            df = self.rate / n
            self.gains = array("f", (a_gain(k * df) for k in range(m + 1)))
            if fft.ulab:
                self.gains = _np.array(self.gains)
                if self.window is None:  # box.py shares the accelerometer's
                    self.window = _np.array(hann(n))
                self.s2 = float(_np.sum(self.window * self.window))
        g = self.gains
        if fft.ulab:  # whole-block arithmetic in C, in place where ulab allows
            x = _np.array(buf, dtype=_np.float)
            x -= _np.mean(x)
            x *= self.window
            p = fft.power_nd(x, inplace=True)
            s2 = self.s2
            weighted = 2 * float(_np.dot(p, g)) - p[0] * g[0] - p[m] * g[m]  # no temporary
        else:  # integers through the block-floating-point FFT: no float per sample
            total = sum(buf)
            mean = (2 * total + n) // (2 * n)
            up = fft.window(buf, mean, max(max(buf) - mean, mean - min(buf)))
            f = 4.0 ** (fft.run(fft.frame) - up)
            p, s2 = fft.power, fft.s2
            inner = 0.0
            for k in range(1, m):
                inner += p[k] * g[k]
            weighted = (2 * inner + p[0] * g[0] + p[m] * g[m]) * f
        # Parseval for a windowed one-sided spectrum: mean square = sum c_k |X_k|^2 / (n S2)
        return self._spl(weighted / (n * s2))[1]

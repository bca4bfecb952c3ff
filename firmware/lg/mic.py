"""I2S MEMS microphone capture (INMP441-class: 24-bit samples, MSB-aligned in 32-bit slots).

The caller hands over a configured `machine.I2S` (board.py builds it: mode RX, bits 32, mono).
Levels are unweighted (Z): dBFS from the RMS of the 24-bit samples, and dB SPL through the
microphone's sensitivity (dBFS at 94 dB SPL, the datasheet figure; INMP441: -26 dBFS). The
Pi agent A-weights its noise figures; the board reports the unweighted level and says so.
"""

import math
from array import array


class Microphone:
    def __init__(self, i2s, samples: int = 1024, sensitivity_dbfs: float = -26.0):
        self.i2s = i2s
        self.raw = bytearray(4 * samples)
        self.words = memoryview(self.raw)
        self.samples = samples
        self.sensitivity = sensitivity_dbfs
        self.buf = array("i", bytes(4 * samples))

    def capture(self) -> int:
        """Fill one block; returns the number of samples read."""
        n = self.i2s.readinto(self.raw) // 4
        b, out = self.raw, self.buf
        for i in range(n):
            k = 4 * i
            v = b[k] | b[k + 1] << 8 | b[k + 2] << 16 | b[k + 3] << 24
            if v & 0x80000000:
                v -= 0x100000000
            out[i] = v >> 8  # 24 significant bits
        return n

    def level(self, n: int) -> tuple:
        """(dBFS, dB SPL) of the first n captured samples, unweighted, DC removed."""
        if n == 0:
            return (-200.0, -200.0)
        buf = self.buf
        mean = sum(buf[i] for i in range(n)) / n
        ms = sum((buf[i] - mean) ** 2 for i in range(n)) / n
        # Full scale is a sine of peak 2^23, whose RMS is 2^23 / sqrt(2): 0 dBFS (AES17).
        dbfs = 10 * math.log10(max(ms, 1e-12) / (8388608.0**2 / 2))
        return dbfs, dbfs - self.sensitivity + 94.0

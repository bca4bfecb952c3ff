"""Building blocks of block-continuous signal synthesis.

Everything the synthesisers produce must join seamlessly across `advance()` calls of any
length. Speed-locked tones take their phase from the car position (no accumulator to drift);
free-running tones keep a phase accumulator; filtered noise and ringing transients are
convolutions whose tails are carried into the next block (overlap-add).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def damped_sine(fs: float, freq: float, zeta: float, cycles_decay: float = 6.0) -> F64:
    """Impulse response of a resonance, truncated where it has decayed by ~e^-cycles_decay."""
    w = 2 * np.pi * freq
    dur = cycles_decay / (zeta * w)
    t = np.arange(max(2, int(dur * fs))) / fs
    return np.exp(-zeta * w * t) * np.sin(w * np.sqrt(1 - zeta * zeta) * t)


class Convolver:
    """Filters a stream block by block with a fixed FIR kernel (overlap-add)."""

    def __init__(self, kernel: F64) -> None:
        self.kernel = np.asarray(kernel, dtype=np.float64)
        self._tail = np.zeros(len(self.kernel) - 1)

    def __call__(self, x: F64) -> F64:
        n, k = len(x), len(self.kernel)
        if n == 0:
            return np.zeros(0)
        if n * k <= 200_000:
            full = np.convolve(x, self.kernel)
        else:
            size = 1 << int(np.ceil(np.log2(n + k - 1)))
            full = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(self.kernel, size), size)
            full = full[: n + k - 1]
        full[: k - 1] += self._tail  # the ringing of earlier blocks
        self._tail = full[n:].copy()
        return full[:n]


class Impulses:
    """Adds a kernel at sparse sample positions, carrying the ringing into later blocks."""

    def __init__(self, kernel: F64) -> None:
        self.kernel = np.asarray(kernel, dtype=np.float64)
        self._carry = np.zeros(0)

    def render(self, n: int, index: npt.NDArray[np.int64], amp: F64) -> F64:
        k = len(self.kernel)
        out = np.zeros(n + k)
        out[: len(self._carry)] += self._carry
        for i, a in zip(index.tolist(), amp.tolist(), strict=True):
            out[i: i + k] += a * self.kernel
        self._carry = out[n:].copy()
        return out[:n]


def crossings(phase_cycles: F64, prev: float) -> tuple[npt.NDArray[np.int64], float]:
    """Indices where floor(phase_cycles) changes (either direction), given the previous
    block's last value; returns them and this block's last value."""
    if len(phase_cycles) == 0:
        return np.zeros(0, dtype=np.int64), prev
    cyc = np.floor(np.concatenate(([prev], phase_cycles)))
    idx = np.nonzero(np.diff(cyc))[0]
    return idx.astype(np.int64), float(phase_cycles[-1])


def band_gain(freq: F64, fs: float) -> F64:
    """Anti-alias taper of the sensor: full below 0.42 fs, nothing above 0.48 fs."""
    return np.clip((0.48 * fs - freq) / (0.06 * fs), 0.0, 1.0)

"""Numpy reference implementations of the cext kernels: the oracle in tests and the fallback
where the extension cannot be built.

These take arguments already checked by cext.spectral (window as an array, detrend as a bool)
and are written for clarity, not speed: each line says what the compiled kernel computes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view


def rms(x: npt.ArrayLike) -> float:
    a = np.asarray(x, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(a * a)))


def rfft_power(frame: np.ndarray, window: np.ndarray) -> np.ndarray:
    """abs(rfft(frame * window))**2 in the frame's dtype."""
    spectrum = np.fft.rfft(frame * window)
    return (spectrum.real**2 + spectrum.imag**2).astype(frame.dtype)


def density_scale(window: np.ndarray, fs: float, scaling: str) -> float:
    """scipy.signal.welch's factor: PSD in units**2/Hz ("density") or units**2 ("spectrum")."""
    w = window.astype(np.float64)
    if scaling == "density":
        return float(1.0 / (fs * np.sum(w * w)))
    return float(1.0 / np.sum(w) ** 2)


def one_sided(power: np.ndarray) -> np.ndarray:
    """Fold the negative frequencies onto the positive ones (even n: DC and Nyquist once)."""
    folded = power.copy()
    folded[..., 1:-1] *= 2
    return folded


def welch(x: np.ndarray, fs: float, nperseg: int, noverlap: int, window: np.ndarray,
          detrend: bool, scaling: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean one-sided periodogram of overlapping segments, as scipy.signal.welch computes it."""
    step = nperseg - noverlap
    segments = sliding_window_view(x, nperseg)[::step]
    if detrend:
        segments = segments - segments.mean(axis=-1, keepdims=True)
    spectra = np.fft.rfft(segments * window, axis=-1)
    power = (spectra.real**2 + spectra.imag**2).mean(axis=0)
    psd = one_sided(power) * density_scale(window, fs, scaling)
    return np.fft.rfftfreq(nperseg, 1.0 / fs), psd.astype(x.dtype)


def band_energies(freqs: np.ndarray, psd: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """sum(psd * df) over the bins with lo <= f < hi, for each consecutive pair of edges."""
    df = freqs[1] - freqs[0]
    psd64 = psd.astype(np.float64)
    bands = zip(edges[:-1], edges[1:], strict=True)
    return np.array([psd64[(freqs >= lo) & (freqs < hi)].sum() * df for lo, hi in bands])


def time_features(x: np.ndarray) -> tuple[float, float, float, float, float]:
    """(rms, peak, peak_to_peak, crest_factor, Pearson kurtosis m4/m2**2)."""
    a = x.astype(np.float64)
    rms_ = float(np.sqrt(np.mean(a * a)))
    peak = float(np.max(np.abs(a)))
    d = a - a.mean()
    m2 = float(np.mean(d * d))
    m4 = float(np.mean(d**4))
    crest = peak / rms_ if rms_ > 0 else float("nan")
    kurt = m4 / (m2 * m2) if np.sqrt(m2) > 1e-12 * peak else float("nan")
    return rms_, peak, float(np.ptp(a)), crest, kurt


class FramePipeline:
    """The numpy form of cext.FramePipeline (same interface; allocates on every call)."""

    def __init__(self, n: int, window: np.ndarray, freqs: np.ndarray, edges: np.ndarray,
                 scale: float, detrend: bool, orders: bool) -> None:
        self.n = n
        self._window = window
        self._freqs = freqs
        self._edges = edges
        self._scale = scale
        self._detrend = detrend
        self._orders = orders
        self.out = np.zeros(len(edges) - 1)

    def process(self, frame: np.ndarray, ref_hz: float) -> np.ndarray:
        seg = frame - frame.mean() if self._detrend else frame
        power = one_sided(rfft_power(seg, self._window).astype(np.float64))
        edges = self._edges * ref_hz if self._orders else self._edges
        for j, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            self.out[j] = power[(self._freqs >= lo) & (self._freqs < hi)].sum() * self._scale
        return self.out

"""Spectral windows and their gains.

Each window is a sum of cosines, w[j] = sum_k a_k cos(k * phi_j) with phi_j = -pi + 2 pi j/n,
sampled "periodic" (the DFT-even form scipy.signal.get_window(..., fftbins=True) returns and
scipy.signal.welch uses): n points of an n+1 point symmetric window, so that its spectrum has
exact zeros on the DFT bins.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

# Cosine-sum coefficients. hann/hamming: the generalised Hamming family (alpha, 1-alpha);
# blackman-harris: the 4-term minimum sidelobe window (Harris 1978, Proc. IEEE 66(1), table
# "4-Term (-92 dB)"); flat-top: the 5-term coefficients scipy.signal.windows.flattop uses
# (D'Antona & Ferrero, "Digital Signal Processing for Measurement Systems", 2006).
COSINE_SUMS: dict[str, tuple[float, ...]] = {
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackmanharris": (0.35875, 0.48829, 0.14128, 0.01168),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}

ALIASES = {"hanning": "hann", "blackman-harris": "blackmanharris", "flat-top": "flattop"}


class WindowGains(NamedTuple):
    """coherent: mean(w), the amplitude gain for a tone on a bin; noise: mean(w**2), the power
    gain for white noise; enbw_bins: the equivalent noise bandwidth in bins, noise/coherent**2."""

    coherent: float
    noise: float
    enbw_bins: float


def window_names() -> tuple[str, ...]:
    return tuple(COSINE_SUMS) + tuple(ALIASES)


def window(name: str, n: int, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """The periodic window `name` of n points, as a new array of dtype."""
    key = ALIASES.get(name, name)
    if key not in COSINE_SUMS:
        raise ValueError(f"unknown window {name!r}: choose one of {', '.join(window_names())}")
    if n < 1:
        raise ValueError(f"window length must be positive, got {n}")
    phi = np.linspace(-np.pi, np.pi, n + 1)[:-1]
    w = np.zeros(n)
    for k, a in enumerate(COSINE_SUMS[key]):
        w += a * np.cos(k * phi)
    return w.astype(dtype)


def gains(w: npt.ArrayLike) -> WindowGains:
    a = np.asarray(w, dtype=np.float64)
    coherent = float(np.mean(a))
    noise = float(np.mean(a * a))
    return WindowGains(coherent, noise, noise / (coherent * coherent))

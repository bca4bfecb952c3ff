"""Spectral building blocks for the detectors, on top of the cext DSP core.

Everything here is pure: arrays in, numbers out. The Welch PSD and band integrals come from
`cext` (the Cython core, whose numpy reference is its test oracle); this module only decides
*which* bands to look at: order bands that follow the speed, A-weighting and third-octaves.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

import cext

Array = npt.NDArray[np.float64]

P_REF_PA = 20e-6  # IEC 61672-1: reference sound pressure, 20 uPa
MAX_NPERSEG = 8192  # the largest plan the cext FFT core builds


def welch_psd(x: npt.ArrayLike, fs: float, resolution_hz: float) -> tuple[Array, Array]:
    """One-sided PSD (units^2/Hz) with bins no wider than `resolution_hz` where the signal is
    long enough; at least 4 half-overlapping segments are kept so the estimate is averaged."""
    a = np.ascontiguousarray(x, dtype=np.float64)
    want = 1 << max(6, math.ceil(math.log2(fs / max(resolution_hz, 1e-6))))
    most = 1 << max(6, int(math.log2(max(a.size // 2.5, 64))))
    nperseg = min(want, most, MAX_NPERSEG)
    f, p = cext.welch(a, fs, nperseg, nperseg // 2)
    return np.asarray(f, dtype=np.float64), np.asarray(p, dtype=np.float64)


def band_powers(f: Array, p: Array, bands: list[tuple[float, float]]) -> Array:
    """Integral of the PSD over each [lo, hi) band (units^2)."""
    if not bands:
        return np.zeros(0)
    # cext integrates between consecutive edges; order bands may overlap, so one call each.
    return np.array([float(cext.band_energies(f, p, (lo, hi))[0]) for lo, hi in bands])


def refine_peak(f: Array, p: Array, centre: float, rel_tol: float) -> float:
    """Frequency of the strongest bin within +/- rel_tol of `centre` (order tracking with a
    tolerance for the speed reading and for nominal rope data that differs from the real rope)."""
    m = (f >= centre * (1 - rel_tol)) & (f <= centre * (1 + rel_tol))
    if not m.any():
        return centre
    i = int(np.argmax(np.where(m, p, -np.inf)))
    if 0 < i < f.size - 1 and p[i - 1] > 0 and p[i + 1] > 0 and p[i] > 0:
        # Parabolic interpolation on log power: sub-bin estimate of a windowed line's centre.
        a, b, c = np.log(p[i - 1]), np.log(p[i]), np.log(p[i + 1])
        den = a - 2 * b + c
        if den < 0:
            return float(f[i] + 0.5 * (a - c) / den * (f[1] - f[0]))
    return float(f[i])


def floor_density(
    f: Array, p: Array, lo: float, hi: float, exclude: list[tuple[float, float]]
) -> float:
    """Median PSD over [lo, hi) outside the excluded bands: the broadband floor under a line.
    The median ignores the few bins a neighbouring line may still occupy."""
    m = (f >= lo) & (f < hi)
    for a, b in exclude:
        m &= ~((f >= a) & (f < b))
    if not m.any():
        return float("nan")
    return float(np.median(p[m]))


def db(power: float, floor: float = 1e-30) -> float:
    return 10.0 * math.log10(max(power, floor))


def a_weighting_gain(f: Array) -> Array:
    """|A(f)|^2 as a power gain, IEC 61672-1:2013 Annex E (E.6): poles at 20.6, 107.7, 737.9
    and 12194 Hz, normalised to 0 dB at 1 kHz (the +2.00 dB term)."""
    f2 = np.asarray(f, dtype=np.float64) ** 2
    ra = (12194.0**2 * f2**2) / (
        (f2 + 20.6**2) * np.sqrt((f2 + 107.7**2) * (f2 + 737.9**2)) * (f2 + 12194.0**2)
    )
    g = ra**2 * 10 ** (2.0 / 10)
    return np.asarray(g, dtype=np.float64)


def third_octave_centres(lo: float, hi: float) -> list[float]:
    """Exact base-10 third-octave mid-band frequencies (IEC 61260-1: 1000 * 10^(k/10) Hz)."""
    k0, k1 = math.ceil(10 * math.log10(lo / 1000)), math.floor(10 * math.log10(hi / 1000))
    return [1000.0 * 10 ** (k / 10) for k in range(k0, k1 + 1)]


def third_octave_bands(lo: float, hi: float) -> list[tuple[float, float]]:
    """Band edges at fm * 10^(-/+1/20) (IEC 61260-1 base-10 edges)."""
    return [(c * 10 ** (-0.05), c * 10 ** 0.05) for c in third_octave_centres(lo, hi)]

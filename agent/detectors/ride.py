"""Ride quality after ISO 18738-1 (lifts: ride quality measurement), GB/T 24474.1-2020.

Implemented:
  * Frequency weighting of ISO 8041 / ISO 2631-1 as analog transfer functions applied in the
    frequency domain: band limiting (2nd-order Butterworth high-pass 0.4 Hz and low-pass
    100 Hz), acceleration-velocity transition and upward step; Wk for the vertical axis,
    Wd for the horizontal axes (parameters from ISO 2631-1:1997 table A.2).
  * Peak-to-peak as ISO 18738-1 defines it: the sum of the magnitudes of two successive peaks
    of opposite sign, a peak being the largest magnitude between two zero crossings.
  * Maximum peak-to-peak and A95 (the value 95 % of the peak-to-peak values do not exceed) of
    the weighted vibration, over the constant-speed phase ("rated speed region").
  * Maximum acceleration/deceleration and jerk from the vertical acceleration through a 10 Hz
    low-pass (4th-order Butterworth magnitude; the filter order is our choice, not verified
    against the standard), jerk as its time derivative.
Not implemented: the standard's boundary rules that exclude the first and last 0.5 s of the
vibration region, sound measurement during the trip (see acoustic.py), and the
instrumentation accuracy requirements, which belong to the sensor and its calibration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

# ISO 2631-1:1997 table A.2 (f in Hz): band limiting f1, f2; a-v transition f3, f4, Q4;
# upward step f5, Q5, f6, Q6.
WK = {"f3": 12.5, "f4": 12.5, "q4": 0.63, "f5": 2.37, "q5": 0.91, "f6": 3.35, "q6": 0.91}
WD = {"f3": 2.0, "f4": 2.0, "q4": 0.63}
BAND_LO_HZ, BAND_HI_HZ = 0.4, 100.0
LOWPASS_HZ = 10.0  # ISO 18738-1 acceleration and jerk filter
LOWPASS_ORDER = 4


def weighting_response(
    f: npt.NDArray[np.float64], w: dict[str, float]
) -> npt.NDArray[np.complex128]:
    """Complex response of an ISO 8041 weighting (band limiting x transition x step) at f."""
    s = 2j * np.pi * np.asarray(f, dtype=np.float64)
    w1, w2 = 2 * np.pi * BAND_LO_HZ, 2 * np.pi * BAND_HI_HZ
    q = 1 / math.sqrt(2)
    hh = s**2 / (s**2 + s * w1 / q + w1**2)
    hl = w2**2 / (s**2 + s * w2 / q + w2**2)
    w3, w4 = 2 * np.pi * w["f3"], 2 * np.pi * w["f4"]
    ht = (1 + s / w3) / (1 + s / (w["q4"] * w4) + (s / w4) ** 2)
    h = hh * hl * ht
    if "f5" in w:
        w5, w6 = 2 * np.pi * w["f5"], 2 * np.pi * w["f6"]
        hs = (1 + s / (w["q5"] * w5) + (s / w5) ** 2) / (1 + s / (w["q6"] * w6) + (s / w6) ** 2)
        h = h * hs * (w5 / w6) ** 2
    return np.asarray(h, dtype=np.complex128)


def butterworth_lowpass(
    f: npt.NDArray[np.float64], fc: float, order: int
) -> npt.NDArray[np.complex128]:
    """Analog Butterworth low-pass response from its poles on the unit circle."""
    s = 2j * np.pi * np.asarray(f, dtype=np.float64) / (2 * np.pi * fc)
    h = np.ones_like(s)
    for k in range(order):
        pole = np.exp(1j * np.pi * (2 * k + order + 1) / (2 * order))
        h = h * (-pole) / (s - pole)
    return np.asarray(h, dtype=np.complex128)


def apply_response(
    x: npt.ArrayLike, fs: float, response: Callable[[npt.NDArray[np.float64]], Any]
) -> npt.NDArray[np.float64]:
    """Filter by multiplying the spectrum; zero padding of 3 s each side keeps the 0.4 Hz
    high-pass from wrapping the end of the record onto its start."""
    a = np.asarray(x, dtype=np.float64)
    a = a - np.mean(a)
    pad = int(3 * fs)
    n = a.size + 2 * pad
    spec = np.fft.rfft(np.concatenate([np.zeros(pad), a, np.zeros(pad)]))
    f = np.fft.rfftfreq(n, 1 / fs).astype(np.float64)
    y = np.fft.irfft(spec * response(f), n)
    return np.asarray(y[pad : pad + a.size], dtype=np.float64)


def peak_to_peak_values(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """ISO 18738-1 peak-to-peak values: sums of successive half-cycle peak magnitudes."""
    a = np.asarray(x, dtype=np.float64)
    if a.size < 3:
        return np.zeros(0)
    sign = np.signbit(a)
    cuts = np.flatnonzero(sign[1:] != sign[:-1]) + 1
    if cuts.size < 2:
        return np.zeros(0)
    halves = np.split(np.abs(a), cuts)[1:-1]  # drop the partial half-cycles at both ends
    peaks = np.array([h.max() for h in halves if h.size])
    return peaks[1:] + peaks[:-1] if peaks.size >= 2 else np.zeros(0)


def ride_metrics(
    data: npt.ArrayLike,
    channels: tuple[str, ...],
    vertical: str,
    fs: float,
    constant: tuple[int, int] | None = None,
) -> dict[str, float]:
    """Ride-quality metrics of one trip. `constant` is the sample range of the constant-speed
    phase (None: the whole record is at constant speed, as in a sidecar recording)."""
    x = np.asarray(data, dtype=np.float64)
    lo, hi = constant if constant is not None else (0, x.shape[0])
    out: dict[str, float] = {}
    v = channels.index(vertical)
    zw = apply_response(x[:, v], fs, lambda f: weighting_response(f, WK))[lo:hi]
    pp = peak_to_peak_values(zw)
    if pp.size:
        out["vertical_max_pk_pk"] = float(pp.max())
        out["vertical_a95"] = float(np.percentile(pp, 95))
    horiz = [i for i, c in enumerate(channels) if i != v]
    hp = []
    for i in horiz:
        w = apply_response(x[:, i], fs, lambda f: weighting_response(f, WD))[lo:hi]
        p = peak_to_peak_values(w)
        if p.size:
            hp.append(p)
    if hp:
        out["horizontal_max_pk_pk"] = float(max(h.max() for h in hp))
        out["horizontal_a95"] = float(max(np.percentile(h, 95) for h in hp))
    if constant is not None:
        acc = apply_response(
            x[:, v], fs, lambda f: butterworth_lowpass(f, LOWPASS_HZ, LOWPASS_ORDER))
        rest = float(np.median(x[: max(int(0.5 * fs), 1), v]))  # the record starts at rest
        acc = acc + float(np.mean(x[:, v])) - rest
        jerk = np.gradient(acc, 1 / fs)
        out["max_acceleration"] = float(acc.max())
        out["max_deceleration"] = float(-acc.min())
        out["max_jerk"] = float(np.abs(jerk).max())
    return out

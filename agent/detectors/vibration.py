"""Rope, sheave and bearing features from the car's acceleration at constant speed.

Order analysis (shared/REFERENCE.md section 4): the strand-passing frequency and the sheave
rotation frequency are computed from the speed reference and the lift geometry, then refined
to the strongest bin within a tolerance, since a speed register and nominal rope data are
both a few per cent off in the field. Levels are *prominences*: line power over the power of
the broadband floor next to it in 1 Hz, so a change of sensor gain, mounting or load that
lifts the whole spectrum does not read as wear, and analysis windows of different lengths
compare; the absolute band level is kept as evidence.

Features (all in dB unless named otherwise):
    rope.strand_prom       strand-order line over the local floor
    rope.h2_prom, h3_prom  its 2nd and 3rd harmonics
    rope.sideband_prom     sidebands at strand order +/- 1, 2 x sheave order
    sheave.orders_prom     sheave orders 1-4 over their floor (eccentric / worn grooves)
    sheave.env_orders      sheave orders in the envelope spectrum (once-per-turn impacts)
    bearing.env_peak       strongest envelope line in orders 1.5-12 (bearing defect rates)
    bearing.kurtosis       kurtosis of the high band (impacts from damaged rolling elements)
    bearing.env_crest      envelope peak over envelope RMS, high band
    bearing.hf_level       high-band power (dB re 1 (m/s^2)^2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent.detectors import spectra
from agent.detectors.geometry import LiftGeometry

ORDER_TOLERANCE = 0.05  # +/-5 %: speed-register error plus rope lay-length tolerance
HARMONICS = (2, 3)
SHEAVE_ORDERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class VibrationFeatures:
    values: dict[str, float]
    evidence: dict[str, dict[str, float]]


def vibration_features(
    data: npt.ArrayLike, fs: float, speed_mps: float, geometry: LiftGeometry
) -> VibrationFeatures:
    """`data` is (n, channels) acceleration in m/s^2 over a constant-speed segment."""
    x = np.asarray(data, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    x = x - x.mean(axis=0)
    f_strand = geometry.strand_hz(speed_mps)
    f_sheave = geometry.sheave_hz(speed_mps)
    # Bins an eighth of the sheave order wide resolve its sidebands; capped by record length.
    f, p = _total_psd(x, fs, max(f_sheave / 8, 0.2))
    df = float(f[1] - f[0])
    values: dict[str, float] = {}
    evidence: dict[str, dict[str, float]] = {}
    nyq = fs / 2

    if f_strand * (1 + ORDER_TOLERANCE) < nyq * 0.9:
        peak = spectra.refine_peak(f, p, f_strand, ORDER_TOLERANCE)
        # The whole Hann main lobe (+/-2 bins) wherever the line falls between bins, or the
        # 0.2 % a regulated drive lets the speed wander, whichever is wider.
        half = max(2.5 * df, 0.002 * peak)
        prom, lvl = _line(f, p, peak, half, f_sheave)
        values["rope.strand_prom"] = prom
        evidence["rope.strand_prom"] = {
            "order": 1.0, "frequency_hz": round(peak, 2), "level_db": round(lvl, 2),
            "expected_hz": round(f_strand, 2),
        }
        for k in HARMONICS:
            if (k * peak + half * k) < nyq * 0.9:
                pk = spectra.refine_peak(f, p, k * peak, 0.01)
                prom_k, lvl_k = _line(f, p, pk, half * k, f_sheave)
                values[f"rope.h{k}_prom"] = prom_k
                evidence[f"rope.h{k}_prom"] = {
                    "order": float(k), "frequency_hz": round(pk, 2), "level_db": round(lvl_k, 2)
                }
        if f_sheave > 2 * half + df:  # sidebands resolvable beside the line
            bands = [
                (peak + s * m * f_sheave - half, peak + s * m * f_sheave + half)
                for m in (1, 2) for s in (-1, 1)
            ]
            sb = float(spectra.band_powers(f, p, bands).sum())
            floor = _floor(f, p, peak, f_sheave, half)
            width = sum(b - a for a, b in bands)
            values["rope.sideband_prom"] = prominence(sb, floor, width)
            evidence["rope.sideband_prom"] = {
                "frequency_hz": round(peak, 2), "spacing_hz": round(f_sheave, 3)
            }

    f_tracked = values and evidence["rope.strand_prom"]["frequency_hz"] or f_strand
    values.update(_sheave(x, fs, f_sheave, evidence))
    values.update(_bearing(x, fs, float(f_tracked), f_sheave, evidence))
    finite = {k: v for k, v in values.items() if math.isfinite(v)}
    return VibrationFeatures(finite, {k: v for k, v in evidence.items() if k in finite})


def order_resample(
    data: npt.ArrayLike, fs: float, t0: float, speed_t: npt.ArrayLike, speed_v: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], float]:
    """Computed order tracking: resample `data` (n, channels; sample k at t0 + k/fs) onto
    equal steps of car travel, integrated from the controller's speed samples. The result is
    what a sensor would have recorded at the mean speed `v_ref`, which is returned with it,
    so every order line is as sharp as at constant speed. Linear interpolation: it attenuates
    the highest lines slightly (about 0.5 dB at fs/7), the same way in baseline and test."""
    x = np.asarray(data, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    t = t0 + np.arange(n) / fs
    v = np.abs(np.interp(t, np.asarray(speed_t, dtype=np.float64),
                         np.asarray(speed_v, dtype=np.float64)))
    pos = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2) / fs])
    if pos[-1] <= 0:
        raise ValueError("the car does not move during the segment")
    v_ref = float(pos[-1] / (t[-1] - t[0]))
    grid = np.arange(n) * (v_ref / fs)
    grid = grid[grid <= pos[-1]]
    out = np.column_stack([np.interp(grid, pos, x[:, c]) for c in range(x.shape[1])])
    return out, v_ref


def _total_psd(x: np.ndarray, fs: float, resolution: float) -> tuple[np.ndarray, np.ndarray]:
    f, p = spectra.welch_psd(x[:, 0], fs, resolution)
    for c in range(1, x.shape[1]):
        p = p + spectra.welch_psd(x[:, c], fs, resolution)[1]
    return f, p


def _floor(f: np.ndarray, p: np.ndarray, centre: float, f_sheave: float, half: float) -> float:
    """Floor in +/-15 % around the line, with the line and its sidebands taken out."""
    excl = [(centre + m * f_sheave - half, centre + m * f_sheave + half) for m in range(-3, 4)]
    fl = spectra.floor_density(f, p, centre * 0.85, centre * 1.15, excl)
    return fl if math.isfinite(fl) and fl > 0 else float("nan")  # nan: feature dropped


def _line(
    f: np.ndarray, p: np.ndarray, centre: float, half: float, f_sheave: float
) -> tuple[float, float]:
    """(prominence over the local floor, absolute level), both in dB."""
    power = float(spectra.band_powers(f, p, [(centre - half, centre + half)])[0])
    floor = _floor(f, p, centre, f_sheave, half)
    return prominence(power, floor, 2 * half), spectra.db(power)


def prominence(band_power: float, floor_density: float, width_hz: float) -> float:
    """(Line power + the floor's power in 1 Hz) over the floor's power in 1 Hz, in dB, the
    line power being the band power less the floor's share of it. A strong line reads as its
    power over the floor in 1 Hz, which does not depend on the bin width, so trips with short
    and long analysis windows compare; an absent line reads near 0 dB with the scatter of
    the estimate (never a degenerate constant), so its baseline spread is real."""
    line = band_power - floor_density * width_hz
    return spectra.db(max(line + floor_density, 0.05 * floor_density)) - spectra.db(floor_density)


def _sheave(
    x: np.ndarray, fs: float, f_sheave: float, evidence: dict[str, dict[str, float]]
) -> dict[str, float]:
    """Sheave orders 1-4 by least-squares projection onto sines at k x f_sheave over the whole
    segment: resolution 1/T instead of a Welch bin, which matters because the sheave turns
    only a few times a second and a one-floor trip gives a second or two at speed. The
    reference is the same projection at half orders 1.5-6.5 x f_sheave: it sees the
    same floor and the same ride resonances nearby, with the same resolution. The segment is
    detrended first (cubic), since the car's own acceleration during the peak stretch is a
    slow swing far larger than the sheave lines and would leak into any short projection."""
    n = x.shape[0]
    dur = n / fs
    if dur * f_sheave < 4:
        return {}  # under four turns, half orders fall inside the taper's main lobe
    t = np.arange(n) / fs
    tn = 2 * t / t[-1] - 1
    basis = np.column_stack([tn**k for k in range(4)])
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    y = x - basis @ coef
    orders = _order_power(y, t, f_sheave, SHEAVE_ORDERS) / len(SHEAVE_ORDERS)
    # Six half orders: more reference projections, less scatter in the reference.
    refs = tuple(k + 0.5 for k in range(1, 7))
    halves = _order_power(y, t, f_sheave, refs) / len(refs)
    evidence["sheave.orders_prom"] = {"order": 1.0, "frequency_hz": round(f_sheave, 3),
                                      "level_db": round(spectra.db(orders), 2)}
    return {"sheave.orders_prom": spectra.db(orders) - spectra.db(halves)}


def _order_power(x: np.ndarray, t: np.ndarray, f0: float, orders: tuple[float, ...]) -> float:
    """Power of the sines at the given orders, projected through a Hann taper so a strong
    order does not leak into the half orders beside it (a plain projection's first
    sidelobes are only 13 dB down)."""
    taper = np.hanning(t.size)
    xw = x * taper[:, None]
    norm = float(taper.sum())
    total = 0.0
    for k in orders:
        w = 2 * np.pi * k * f0 * t
        a, b = 2 * (np.sin(w) @ xw) / norm, 2 * (np.cos(w) @ xw) / norm
        total += float(np.sum(a * a + b * b)) / 2
    return total


def _bearing(
    x: np.ndarray, fs: float, f_strand: float, f_sheave: float,
    evidence: dict[str, dict[str, float]],
) -> dict[str, float]:
    """High band (fs/4 .. 0.45 fs), where rolling-element impacts ring the structure, with the
    rope's strand harmonics and their sidebands notched out first (deterministic lines would
    hide impulsiveness: a sine has kurtosis 1.5). Kurtosis and the envelope's crest show
    impulsiveness; the envelope spectrum shows what repeats: integer sheave orders for a
    sheave defect, the strongest line between orders 1.5 and 12 for a bearing defect (its
    BPFO/BPFI are non-integer orders that depend on the bearing's geometry)."""
    lo, hi = fs / 4, 0.45 * fs
    notches = [
        (k * f_strand + m * f_sheave) for k in range(1, 8) for m in (-2, -1, 0, 1, 2)
        if lo - 10 < k * f_strand < hi + 10
    ]
    kurt, crest, hf = 0.0, 0.0, 0.0
    env_sum: np.ndarray | None = None
    for c in range(x.shape[1]):
        band, env = _band_envelope(x[:, c], fs, lo, hi, notches)
        kurt = max(kurt, _kurtosis(band))
        crest = max(crest, float(env.max() / max(np.sqrt(np.mean(env**2)), 1e-30)))
        hf += float(np.mean(band**2))
        env_sum = env if env_sum is None else env_sum + env
    out = {"bearing.kurtosis": kurt, "bearing.env_crest": crest, "bearing.hf_level": spectra.db(hf)}
    evidence["bearing.kurtosis"] = {"band_lo_hz": round(lo, 1), "band_hi_hz": round(hi, 1)}
    if env_sum is not None and env_sum.size / fs * f_sheave >= 3:
        e = env_sum - env_sum.mean()
        fe, pe = spectra.welch_psd(e, fs, max(f_sheave / 8, 0.2))
        dfe = float(fe[1] - fe[0])
        half = max(2.0 * dfe, 0.01 * f_sheave)
        fl = spectra.floor_density(fe, pe, 0.5 * f_sheave, 14 * f_sheave, [])
        fl = fl if math.isfinite(fl) and fl > 0 else float("nan")
        bands = [(k * f_sheave - half, k * f_sheave + half) for k in SHEAVE_ORDERS]
        pw = float(spectra.band_powers(fe, pe, bands).sum())
        # Envelope spectra are smooth and have no strong lines when healthy: the band over
        # the floor in the same width is the stable measure there.
        out["sheave.env_orders"] = spectra.db(pw) - spectra.db(fl * 2 * half * len(bands))
        # Bearing defect rates are non-integer orders; integer orders are left to the sheave
        # (and to beats between the strand lines and their sheave-rate sidebands).
        order = fe / f_sheave
        m = (order >= 1.5) & (order <= 12) & (np.abs(order - np.round(order)) > 0.15)
        if m.any():
            k = int(np.argmax(np.where(m, pe, -np.inf)))
            pk = float(spectra.band_powers(fe, pe, [(fe[k] - half, fe[k] + half)])[0])
            out["bearing.env_peak"] = spectra.db(pk) - spectra.db(fl * 2 * half)
            evidence["bearing.env_peak"] = {"frequency_hz": round(float(fe[k]), 2),
                                            "order": round(float(fe[k]) / f_sheave, 2)}
    return out


def _band_envelope(
    x: np.ndarray, fs: float, lo: float, hi: float, notches: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Band-pass and envelope in one FFT: zeroing the negative frequencies and the bins outside
    the band gives the analytic signal of the band, whose magnitude is the envelope."""
    n = x.size
    spec = np.fft.fft(x)
    fr = np.fft.fftfreq(n, 1 / fs)
    keep = (fr >= lo) & (fr < hi)
    for fn in notches:
        keep &= np.abs(fr - fn) > max(0.006 * fn, 4 * fs / n)
    analytic = np.fft.ifft(np.where(keep, 2 * spec, 0))
    # The FFT filter is circular: the jump between the segment's end and start rings at both
    # edges like an impact. Drop 25 ms (dozens of ring-down times of the band) at each end.
    edge = min(int(0.025 * fs), n // 10)
    analytic = analytic[edge : n - edge]
    return analytic.real, np.abs(analytic)


def _kurtosis(x: np.ndarray) -> float:
    k = float(spectra.cext.time_features(np.ascontiguousarray(x)).kurtosis)
    return k if math.isfinite(k) else 0.0

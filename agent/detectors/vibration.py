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
    sheave.order_lines     sheave orders 1-4 over the floor of orders 0.5-30 (eccentric /
                           worn grooves), one trip: enough next to the machine; on the
                           car roof the ride sway hides them, and the same orders are
                           averaged over trips at equal sheave angle (sheave_sync.py)
    bearing.kurtosis       largest kurtosis over axes and high sub-bands (impacts from
                           damaged rolling elements ring a resonance)
    bearing.env_q          envelope's 99.5th percentile over its median, same sub-band
    bearing.hf_level       high-band power (dB re 1 (m/s^2)^2)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent.detectors import spectra
from agent.detectors.geometry import LiftGeometry

ORDER_TOLERANCE = 0.05  # +/-5 %: speed-register error plus rope lay-length tolerance
HARMONICS = (2, 3)
SHEAVE_ORDERS = (1, 2, 3, 4)
FIT_BLOCK = 8192  # rows of the sheave fit's basis built at a time
UPSAMPLE = 4  # band-limited upsampling before the order-tracking interpolation
TAPER_S = 0.05  # raised-cosine ends of the high-band segment (see _band_signals)
MIN_KEPT = 0.5  # share of a bearing sub-band's bins that must survive the line notches


@dataclass(frozen=True)
class VibrationFeatures:
    values: dict[str, float]
    evidence: dict[str, dict[str, float]]


def vibration_features(
    data: npt.ArrayLike, fs: float, speed_mps: float, geometry: LiftGeometry,
    speed_range: tuple[float, float] | None = None,
) -> VibrationFeatures:
    """`data` is (n, channels) acceleration in m/s^2 over a constant-speed segment, whose
    mean speed is `speed_mps`. `speed_range` (lowest, highest speed in the segment) is given
    when the segment is not at constant speed (a short trip's peak stretch): the rope's lines
    then sweep, and the bearing band leaves out all they sweep over."""
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
    sweep = (1.0, 1.0)
    if speed_range is not None and speed_mps > 0:
        sweep = (min(1.0, speed_range[0] / speed_mps), max(1.0, speed_range[1] / speed_mps))
    values.update(_bearing(x, fs, float(f_tracked), f_sheave, evidence, sweep))
    finite = {k: v for k, v in values.items() if math.isfinite(v)}
    return VibrationFeatures(finite, {k: v for k, v in evidence.items() if k in finite})


def order_resample(
    data: npt.ArrayLike, fs: float, t0: float, speed_t: npt.ArrayLike, speed_v: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], float]:
    """Computed order tracking: resample `data` (n, channels; sample k at t0 + k/fs) onto
    equal steps of car travel, integrated from the controller's speed samples. The result is
    what a sensor would have recorded at the mean speed `v_ref`, which is returned with it,
    so every order line is as sharp as at constant speed.

    Band-limited interpolation (_band_limited_at). Linear interpolation between the
    recorded samples is a poor low-pass at the high band: a strong strand harmonic near
    fs/2.5 left interpolation products a few per cent of its amplitude, and while the speed
    ramps at the ends of the peak stretch those products sweep through the high band as
    bursts, which read as bearing impacts (kurtosis up by 1.5 at end-of-life rope wear,
    8 baseline units; a four-point cubic still left half of that)."""
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
    # where each equal step of travel falls, in (fractional) samples of the recording
    out = _band_limited_at(x, np.interp(grid, pos, np.arange(n, dtype=np.float64)))
    return out, v_ref


def _band_limited_at(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """x (n, channels) at fractional sample positions u: the record is first interpolated
    band-limited to UPSAMPLE x its rate (zero-padded FFT), then linearly between those
    samples, whose error at the highest lines is then UPSAMPLE^2 times smaller."""
    n, k = x.shape[0], UPSAMPLE
    spec = np.fft.rfft(x, axis=0)
    if n % 2 == 0:
        spec[-1] /= 2  # the Nyquist bin splits between +/- fs/2 in the longer record
    fine = np.fft.irfft(spec, k * n, axis=0) * k
    pos = np.arange(k * n) / k
    return np.column_stack([np.interp(u, pos, fine[:, c]) for c in range(x.shape[1])])


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
    """Sheave orders 1-4 by a joint least-squares fit, per axis, of sines at k x f_sheave
    and a cubic over the whole order-tracked segment: resolution 1/T instead of a Welch bin
    (the sheave turns only a few times a second and a one-floor trip gives a second or two at
    speed), and the cubic takes the slow swing of the car's own acceleration, far larger than
    the lines, so it does not leak into them.

    The floor is the median periodogram of the fit's residual over orders 0.5-30, the bins
    next to an integer order left out: the residual holds no line to leak, and some sixty or
    more bins make a floor whose scatter is a fraction of a dB. A floor from a few half
    orders (the earlier reference) scattered by 1.5-2.5 dB trip to trip at four to five turns
    and hid a 6 dB rise. The feature is the line power summed over the axes over the floor
    summed over the axes in 1 Hz, dB: a sensor gain or a mount change that scales both
    reads 0."""
    n = x.shape[0]
    dur = n / fs
    turns = dur * f_sheave
    if turns < 4:
        return {}  # under four turns, order 1 is hard to tell from the cubic and the floor
    # normal equations: twelve well-conditioned columns (a cubic on [-1, 1], sines of whole
    # and more turns), far cheaper than an SVD of the n x 12 basis on a long segment; built
    # a block of rows at a time, so a 20 s trip never holds the whole basis (17 MiB at
    # 3.2 kHz: the agent's peak RSS)
    blocks = [(a, min(a + FIT_BLOCK, n)) for a in range(0, n, FIT_BLOCK)]
    gram = np.zeros((4 + 2 * len(SHEAVE_ORDERS),) * 2)
    rhs = np.zeros((gram.shape[0], x.shape[1]))
    for a, b in blocks:
        basis = _sheave_basis(a, b, n, fs, f_sheave)
        gram += basis.T @ basis
        rhs += basis.T @ x[a:b]
    coef = np.linalg.solve(gram, rhs)
    resid = np.empty_like(x)
    for a, b in blocks:
        resid[a:b] = x[a:b] - _sheave_basis(a, b, n, fs, f_sheave) @ coef
    line = float(np.sum(coef[4:] ** 2)) / 2  # sum over orders, sine+cosine, axes
    spec = np.fft.rfft(resid, axis=0)
    order = np.fft.rfftfreq(n, 1 / fs) / f_sheave
    ref = ((order >= 0.5) & (order <= 30)
           & (np.abs(order - np.round(order)) > 1.5 / turns))  # 1.5 bins off each order
    if ref.sum() < 8:
        return {}
    # A projection's power at a non-order bin is 2 |R|^2 / n^2 (per axis; summed over the
    # axes); a bin is 1/T wide, so times T it is the floor's power in 1 Hz, and a strong line
    # reads the same over a short or a long segment (as the rope prominences do).
    floor = float(np.median(np.sum(2 * np.abs(spec[ref]) ** 2, axis=1))) / n**2 * dur
    if not floor > 0:
        return {}
    evidence["sheave.order_lines"] = {
        "order": 1.0, "frequency_hz": round(f_sheave, 3), "level_db": round(spectra.db(line), 2),
        "floor_db": round(spectra.db(floor), 2), "turns": round(turns, 1)}
    return {"sheave.order_lines": spectra.db(line) - spectra.db(floor)}


def _sheave_basis(a: int, b: int, n: int, fs: float, f_sheave: float) -> np.ndarray:
    """Rows a..b of the sheave fit's basis over n samples: a cubic in time on [-1, 1], then
    sine and cosine of each sheave order."""
    t = np.arange(a, b) / fs
    tn = 2 * t / ((n - 1) / fs) - 1
    cols = [tn**k for k in range(4)]
    for k in SHEAVE_ORDERS:
        w = 2 * np.pi * k * f_sheave * t
        cols += [np.sin(w), np.cos(w)]
    return np.column_stack(cols)


def _bearing(
    x: np.ndarray, fs: float, f_strand: float, f_sheave: float,
    evidence: dict[str, dict[str, float]], sweep: tuple[float, float] = (1.0, 1.0),
) -> dict[str, float]:
    """High band (fs/4 .. 0.45 fs), where rolling-element impacts ring the structure, with the
    rope's strand harmonics and their sidebands notched out first (deterministic lines would
    hide impulsiveness: a sine has kurtosis 1.5). On a segment whose speed varies (`sweep`:
    its lowest and highest speed over the mean) each line is notched over the whole range it
    sweeps: a strand harmonic gliding through a sub-band reads as a burst there, and worn
    ropes (lines 16 dB up) read as bearing impacts (measured: bearing_wear warning at rope
    wear 0.8 on one-floor trips, never on constant-speed ones).

    Impulsiveness is measured in sub-bands as well as the whole band (a crude kurtogram):
    an impact rings one structural resonance, some tens of Hz wide, whose frequency depends
    on the machine and the mount, so the sub-band holding it shows the impacts with much less
    of the band's broadband noise. `bearing.kurtosis` is the largest kurtosis over axes and
    sub-bands; `bearing.env_q` the 99.5th percentile of the envelope over its median in the
    sub-band of that kurtosis. Both come from the interior of a tapered segment and are
    statistics of many samples, so moving the segment's edges by a few samples does not
    move them (an envelope *maximum* over RMS did: one edge sample could swing it by a
    whole baseline unit).

    No envelope-spectrum line is scored. The strongest envelope line in a range of orders (a
    bearing's BPFO) is an extreme-value statistic that a stray line drove far out of its
    healthy spread: a worn rope read as a bearing fault at 30 baseline units, healthy trips
    at 15. Envelope lines at integer sheave orders rose with rope wear (the rope's
    sheave-rate sidebands beat in the band) and with bearing impacts (a few turns do not
    resolve BPFO from an integer order), so they could not tell a sheave fault either."""
    lo, hi = fs / 4, 0.45 * fs
    s_lo, s_hi = sweep
    spans = [
        (k * f_strand * s_lo + m * f_sheave, k * f_strand * s_hi + m * f_sheave)
        for k in range(1, 8) for m in (-2, -1, 0, 1, 2)
        if k * f_strand * s_lo < hi + 10 and k * f_strand * s_hi > lo - 10
    ]
    bands = _sub_bands(lo, hi)
    n = x.shape[0]
    fr = np.fft.rfftfreq(n, 1 / fs)
    notched = np.ones(fr.size, dtype=bool)
    for a, b in spans:
        w = max(0.006 * a, 4 * fs / n)
        notched &= (fr < a - w) | (fr > b + w)
    masks = [notched & (fr >= b_lo) & (fr < b_hi) for b_lo, b_hi in bands]
    # A sub-band mostly notched away (lines sweeping over it) holds too few bins for its
    # kurtosis to be a steady statistic: judged only where half of it or more is left.
    judged = [int(m.sum()) >= MIN_KEPT * int(((fr >= b_lo) & (fr < b_hi)).sum())
              for m, (b_lo, b_hi) in zip(masks, bands, strict=True)]
    if not any(judged):
        return {}
    hf = 0.0
    best = (-np.inf, 0.0, 0)  # (kurtosis, envelope quantile ratio, band index)
    for c in range(x.shape[1]):
        hf += _band_power(x[:, c], fs, masks[0])
        for i, analytic in _band_signals(x[:, c], fs, masks, judged):
            k = _kurtosis(analytic.real)
            if k > best[0]:
                q = np.quantile(np.abs(analytic), (0.5, 0.995))
                best = (k, float(q[1] / max(q[0], 1e-30)), i)
    out = {"bearing.kurtosis": float(best[0]), "bearing.env_q": best[1],
           "bearing.hf_level": spectra.db(hf)}
    b_lo, b_hi = bands[best[2]]
    evidence["bearing.kurtosis"] = {"band_lo_hz": round(b_lo, 1), "band_hi_hz": round(b_hi, 1)}
    evidence["bearing.env_q"] = dict(evidence["bearing.kurtosis"])
    return out


def _sub_bands(lo: float, hi: float) -> list[tuple[float, float]]:
    """The whole band first, then quarters of it overlapping by half (seven sub-bands): each
    wide enough to hold a resonance of a few per cent damping and its impacts' ring-down."""
    w = (hi - lo) / 4
    return [(lo, hi)] + [(lo + j * w / 2, lo + j * w / 2 + w) for j in range(7)]


def _analytic(spec: np.ndarray, keep: np.ndarray, n: int) -> np.ndarray:
    """Analytic signal of the kept bins of a one-sided spectrum (rfft of n samples): the
    positive frequencies doubled, the negative ones zero."""
    full = np.zeros(n, dtype=np.complex128)
    full[: spec.size] = np.where(keep, 2 * spec, 0)
    return np.fft.ifft(full)


def _band_power(x: np.ndarray, fs: float, keep: np.ndarray) -> float:
    """Mean power of the notched band (the firmware computes the same figure from its PSD):
    the FFT band-pass of the whole segment, 25 ms dropped at each end."""
    n = x.size
    band = _analytic(np.fft.rfft(x), keep, n).real
    edge = min(int(0.025 * fs), n // 10)
    return float(np.mean(band[edge : n - edge] ** 2))


def _band_signals(
    x: np.ndarray, fs: float, masks: list[np.ndarray], judged: list[bool]
) -> Iterator[tuple[int, np.ndarray]]:
    """(index, analytic signal) of each judged band, one inverse FFT per band: its real part
    is the band-passed signal, its magnitude the envelope. One band at a time, so a long
    segment holds one band's arrays, not eight (peak memory of a 20 s trip: was 18 MiB).
    The segment is tapered first (raised-cosine ends, TAPER_S each) so a strong rope line's
    leakage skirt, which the notches do not hold on an untapered record, stays out of the
    band; the tapered ends and the circular filter's ring-down after them are dropped, so
    what is measured never depends on where exactly the segment was cut."""
    n = x.size
    ramp = min(int(TAPER_S * fs), n // 8)
    w = np.ones(n)
    if ramp > 0:
        r = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)
        w[:ramp], w[n - ramp:] = r, r[::-1]
    spec = np.fft.rfft(x * w)
    # 25 ms: dozens of ring-down times of the band
    edge = min(ramp + int(0.025 * fs), n // 4)
    for i, keep in enumerate(masks):
        if judged[i]:
            yield i, _analytic(spec, keep, n)[edge : n - edge]


def _kurtosis(x: np.ndarray) -> float:
    k = float(spectra.cext.time_features(np.ascontiguousarray(x)).kurtosis)
    return k if math.isfinite(k) else 0.0

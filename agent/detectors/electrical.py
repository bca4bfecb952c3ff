"""Inverter wear features from the controller trace (shared/REFERENCE.md section 4).

(a) DC-link capacitor ageing (capacitance down, ESR up) makes the DC bus sag further and
    ripple more for the power drawn. Per motoring trip: the sag from the bus voltage before
    the trip to its lowest reading during acceleration (`inverter.dc_sag_v`), and the load
    it was drawn by (`inverter.load_a_mps`: the peak of |motor current| x car speed over the
    acceleration, a proxy of the DC power, which is force x speed). The baseline learns the
    healthy sag as a line in that load (baseline.LOAD_LINES) and a trip is scored on its
    relative excess over the line. Per ampere alone was no constant: the DC link carries
    power, not motor current, so a heavy car accelerating to full speed sagged the bus 0.85 V
    per ampere and a light one 0.37 V on the same healthy lift, and busy spells of heavy
    loads, a few trips long, added up as wear (benchmarks/detection.py, 2026-12-04: 3.7 false
    alarms per 1000 healthy trips). Against the load line the healthy scatter is 12-14 % and
    C 80 % / ESR 1.8x raises the sag 24 %, ~1.8 scatters a trip (exploratory runs on the
    three benchmark geometries, 600 trips each). The lowest reading sits near the ripple's
    trough (ripple_pp = I/(6 f C) + k I ESR on top of the supply's I R drop) whether the
    polls land at random ripple phases or all at one phase, as a poll locked to the mains
    does. One trip holds only a dozen polls of an acceleration, so the detector judges the
    evidence of many trips (evidence.py).
(b) Thermal: the heatsink rise over ambient follows a first-order thermal model of the
    module losses, which have an on-state-voltage term and a resistive term (P = a I + b I^2):
        tau * d(rise)/dt = R_lin |I| + R_sq I^2 - rise   (+ a constant for idle losses),
    whose time constant and gains are learned on healthy data (`fit_thermal`). Fan failure,
    a degraded thermal interface or IGBT ageing all scale R_th and so both gains; a trip's
    feature is that scale, estimated from the trace up to the trip's end (1.0 = healthy).

Each feature needs only its own columns; a missing column disables only that feature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent.detectors.trips import Trip

Array = npt.NDArray[np.float64]
TAU_GRID_S = tuple(30.0 * 1.35**k for k in range(18))  # 30 s .. ~4.6 h, 35 % steps
MIN_LOAD_A = 1.0  # below this the drive is idling and a per-ampere figure means nothing
MIN_SAG_V = 1.0  # volts, 10 steps of a 0.1 V bus register: below this the bus is not
# visibly loaded (a regenerating or idling drive)


@dataclass(frozen=True)
class ThermalModel:
    tau_s: float
    r_k_per_a: float
    r_k_per_a2: float
    offset_k: float
    rms_residual_k: float

    FIELDS = ("tau_s", "r_k_per_a", "r_k_per_a2", "offset_k", "rms_residual_k")

    def to_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.FIELDS}


THERMAL_STEP_S = 1.0  # thermal time constants are >= 30 s: 1 s resolution is plenty
MIN_FIT_SPAN_TAUS = 2.0  # a healthy trace must span this many fitted time constants...
MIN_FIT_SWING_K = 2.0  # ...and its modelled heating swing this many kelvin, or no model


def _grid(t: Array, *cols: Array) -> tuple[Array, ...]:
    """Resample onto a uniform 1 s grid so the recurrence below costs one step per second of
    trace whatever the polling rate."""
    g = np.arange(t[0], t[-1] + THERMAL_STEP_S / 2, THERMAL_STEP_S)
    return (g, *(np.interp(g, t, c) for c in cols))


def _lowpass(t: Array, cols: Array, tau: float) -> tuple[Array, Array]:
    """First-order lag of each loss column (n, k) from a zero start, on a uniform grid, and the
    decay of an unknown initial state, exp(-(t - t0)/tau): the rise is then linear in the
    gains, the idle offset and the initial state's weight, so the initial heatsink temperature
    never has to be guessed."""
    beta = math.exp(-THERMAL_STEP_S / tau)
    y = np.empty_like(cols)
    acc = np.zeros(cols.shape[1])
    for k in range(cols.shape[0]):  # a recurrence: one step per second of trace
        y[k] = acc
        acc = beta * acc + (1.0 - beta) * cols[k]
    return y, np.exp(-(t - t[0]) / tau)


def fit_thermal(t: Array, current: Array, rise: Array) -> ThermalModel | None:
    """Least-squares fit of (tau, R, offset) to a healthy trace; None if the trace carries too
    little thermal information (no load, shorter than two fitted time constants, or under
    MIN_FIT_SWING_K of modelled heating)."""
    if t.size < 10 or t[-1] - t[0] < 2 * TAU_GRID_S[0]:
        return None
    if float(np.max(np.abs(current))) < MIN_LOAD_A:
        return None
    ia = np.abs(current)
    g, i1, i2, r = _grid(t, ia, ia * ia, rise)
    best: ThermalModel | None = None
    best_sse = best_swing = math.inf
    for tau in TAU_GRID_S:
        y, decay = _lowpass(g, np.column_stack([i1, i2]), tau)
        a = np.column_stack([y, np.ones_like(decay), decay])
        coef, *_ = np.linalg.lstsq(a, r, rcond=None)
        sse = float(np.sum((a @ coef - r) ** 2))
        if sse < best_sse and coef[0] >= 0 and coef[1] >= 0 and coef[0] + coef[1] > 0:
            best_sse = sse
            best = ThermalModel(tau, float(coef[0]), float(coef[1]), float(coef[2]),
                                math.sqrt(sse / g.size))
            best_swing = float(np.ptp(y @ coef[:2]))
    if best is None or g[-1] - g[0] < MIN_FIT_SPAN_TAUS * best.tau_s \
            or best_swing < MIN_FIT_SWING_K:
        # Fewer than two time constants, or a few kelvin of heating, do not separate the gain
        # from the time constant and the unknown start temperature: such a model extrapolated
        # over hours of other traffic reads a healthy heatsink as several times its R_th.
        return None
    return best


def thermal_ratios(
    t: Array, current: Array, rise: Array, model: ThermalModel, at: Array
) -> Array:
    """For each time in `at`: R estimated on the trace up to that time (tau and idle offset held
    at the healthy values) over the healthy R; nan while the trace holds under 1 K of modelled
    heating swing or spans less than one time constant. Prefix sums make every estimate O(1)
    after one pass."""
    ia = np.abs(current)
    g, i1, i2, r = _grid(t, ia, ia * ia, rise)
    yy, decay = _lowpass(g, np.column_stack([i1, i2]), model.tau_s)
    y = yy @ np.array([model.r_k_per_a, model.r_k_per_a2])  # healthy modelled rise
    r = r - model.offset_k
    syy, syd, sdd = np.cumsum(y * y), np.cumsum(y * decay), np.cumsum(decay * decay)
    syr, sdr = np.cumsum(y * r), np.cumsum(decay * r)
    swing = np.maximum.accumulate(y) - np.minimum.accumulate(y)
    out = np.full(len(at), np.nan)
    for j, tj in enumerate(at):
        k = int(np.searchsorted(g, tj, side="right")) - 1
        if k < 2 or swing[k] < 1.0 or g[k] - g[0] < model.tau_s:
            # under one time constant of history the unknown start temperature and R are
            # still confounded (a box just started reads nonsense, not 1.0)
            continue
        det = syy[k] * sdd[k] - syd[k] ** 2
        if det <= 1e-12 * max(syy[k] * sdd[k], 1e-300):
            continue
        out[j] = (syr[k] * sdd[k] - sdr[k] * syd[k]) / det
    return out


def trip_features(trace: Mapping[str, Array], trip: Trip) -> dict[str, float]:
    """DC-link features of one trip from whatever columns the trace has."""
    t = trace["t"]
    out: dict[str, float] = {}
    cur, bus, speed = trace.get("current_a"), trace.get("dc_bus_v"), trace.get("speed_mps")
    acc = trip.phase("acceleration")
    if cur is None or bus is None or speed is None or acc is None:
        return out
    before = (t >= trip.start - 5.0) & (t <= trip.start)
    during = (t >= acc[0]) & (t <= acc[1])
    if not before.any() or not during.any():
        return out
    idle = float(np.median(bus[before]))
    i_peak = float(np.max(np.abs(cur[during])))
    load = float(np.max(np.abs(cur[during]) * np.abs(speed[during])))
    dip = idle - float(np.min(bus[during]))
    rise = float(np.max(bus[during])) - idle
    if i_peak >= MIN_LOAD_A and load > 0 and dip >= MIN_SAG_V and rise < 0.5 * dip:
        # Only a motoring acceleration sags the bus: a regenerating one charges it (the bridge
        # blocks, no ripple) and its "dip" would say nothing about the capacitor bank. One
        # that starts motoring and turns to regenerating (a nearly balanced car: the bus
        # sags by a few volts, then rises by a hundred) is not a motoring acceleration either.
        out["inverter.dc_sag_v"] = dip
        out["inverter.load_a_mps"] = load
    return out


def thermal_features(
    trace: Mapping[str, Array], trips: list[Trip], thermal: ThermalModel | None
) -> list[dict[str, float]]:
    """`inverter.thermal_ratio` at the end of each trip (empty dicts where it cannot be had)."""
    t, cur, hs = trace["t"], trace.get("current_a"), trace.get("heatsink_c")
    if thermal is None or cur is None or hs is None or not trips:
        return [{} for _ in trips]
    amb = trace.get("ambient_c")
    rise = hs - (amb if amb is not None else float(np.min(hs)))
    ratios = thermal_ratios(t, cur, rise, thermal, np.array([tr.end for tr in trips]))
    return [{"inverter.thermal_ratio": float(r)} if math.isfinite(r) else {} for r in ratios]

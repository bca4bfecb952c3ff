"""Synthetic signals for detector tests: known tones in known noise, speed profiles."""

from __future__ import annotations

import numpy as np

from agent.detectors.geometry import LiftGeometry

FS = 3200.0
LIFT = LiftGeometry(roping=2, sheave_diameter_m=0.40, rope_strands=8, rope_lay_length_m=0.065)
LIFT_JSON = {"rated_speed_mps": 1.75, "roping": 2, "sheave_diameter_m": 0.40,
             "rope_strands": 8, "rope_lay_length_m": 0.065}


def car_vibration(
    seed: int, speed: float = 1.75, strand_db: float = 0.0, seconds: float = 8.0,
    lift: LiftGeometry = LIFT, noise: float = 0.02, line: float = 0.01, sheave_db: float = -60.0,
    impacts: float = 0.0, harmonics: tuple[float, ...] = (), sideband: float = 0.0,
) -> np.ndarray:
    """(n, 3) acceleration: broadband noise, a strand-order line raised by `strand_db` on the
    vertical axis, optional sheave-order lines and once-per-turn impacts. `harmonics` gives
    the strand harmonics 2, 3, ... relative to the line, and `sideband` the sheave-rate
    sidebands (+/-1 sheave order) of the line and each harmonic relative to it: a worn rope."""
    r = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    x = r.normal(0.0, noise, (t.size, 3))
    f_s = lift.strand_hz(speed)
    f_sh = lift.sheave_hz(speed)
    a = line * 10 ** (strand_db / 20)
    for k, rel in enumerate((1.0, *harmonics), start=1):
        ph = r.uniform(0, 6)
        for m, m_rel in ((0, 1.0), (-1, sideband), (1, sideband)):
            f = k * f_s + m * f_sh
            if m_rel and f < FS / 2:
                ph_m = ph if m == 0 else r.uniform(0, 6)
                x[:, 2] += a * rel * m_rel * np.sin(2 * np.pi * f * t + ph_m)
    for k in (1, 2, 3):
        ph = r.uniform(0, 6)
        x[:, 2] += line * 10 ** (sheave_db / 20) * np.sin(2 * np.pi * k * f_sh * t + ph)
    if impacts:
        ring = np.exp(-np.arange(64) / 6.0) * np.sin(2 * np.pi * 1100 * np.arange(64) / FS)
        for t0 in np.arange(r.uniform(0, 1 / f_sh), t[-1] - 0.03, 1 / f_sh):
            i = int(t0 * FS)
            x[i : i + 64, 2] += impacts * ring
    return x


def trip_speed(
    t0: float, v: float, accel: float = 0.8, cruise_s: float = 4.0, fs: float = 10.0,
    creep_s: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A trapezoidal trip with a levelling creep, standing still 3 s before and after."""
    ramp = v / accel
    dur = 3 + ramp + cruise_s + ramp + creep_s + 3
    t = np.arange(0.0, dur, 1 / fs)
    s = np.zeros_like(t)
    a0 = 3.0
    s = np.where((t >= a0) & (t < a0 + ramp), (t - a0) * accel, s)
    s = np.where((t >= a0 + ramp) & (t < a0 + ramp + cruise_s), v, s)
    d0 = a0 + ramp + cruise_s
    s = np.where((t >= d0) & (t < d0 + ramp), np.maximum(v - (t - d0) * accel, 0.06), s)
    s = np.where((t >= d0 + ramp) & (t < d0 + ramp + creep_s), 0.06, s)
    return t + t0, s

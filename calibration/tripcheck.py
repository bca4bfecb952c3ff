"""Which captured trips may teach the baseline, and when the baseline has seen enough.

A baseline must be learned from ordinary trips only. A trip is rejected when the controller's
own signals say it was not ordinary:

    fault       a fault code was showing during the trip (E41 safety chain, E42 door lock...)
    door        the car door left its closed limit or its lock opened while the car moved
    reopen      the door re-opened before departure (light curtain, a passenger holding it)
    mid-way     the car stopped outside the door zone, or at another floor than the one called
    short       no steady-speed stretch long enough for order analysis

Stability: a feature's baseline is its median and its robust spread (baseline.py), and both
are estimates from n trips. For Gaussian data the median is uncertain by 1.2533 sigma/sqrt(n)
and the MAD-based sigma by about 1.166 sigma/sqrt(n) relative (asymptotic standard errors;
the MAD's efficiency is 37 %). So:

* the median, in baseline units (the score scale), must be known within `TARGET_UNITS`, a
  tenth of the default warning score;
* where the scale is the feature's own spread (sigma above the feature's floor), that spread
  must be known within `TARGET_SCALE_REL`, or the warning threshold moves with it.

Solving both for n gives how many trips each feature needs; a feature quieter than its floor
needs only `MIN_TRIPS`. The technician is told the largest shortfall.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.detectors.baseline import MAD_TO_SIGMA, Stat, spec_for

MEDIAN_SE = 1.2533  # sqrt(pi/2): standard error of the median over sigma/sqrt(n)
MAD_SE = 1.166  # relative standard error of the MAD-based sigma, times sqrt(n)
TARGET_UNITS = 0.5
TARGET_SCALE_REL = 0.25
MIN_TRIPS = 8  # Baseline.min_count: fewer observations fall back to pooled speeds
STANDSTILL_MPS = 0.02


def trip_anomaly(rows: Sequence[tuple[float, Mapping[str, Any]]], start: float, end: float,
                 target_floor: int | None) -> str | None:
    """A one-line reason to reject the trip [start, end], or None for an ordinary trip.
    `rows` are the controller polls (t, readings) from the stop before it to its end."""
    during = [(t, r) for t, r in rows if start <= t <= end]
    if not during:
        return "mid-way: no controller readings during the trip"
    for _, r in during:
        code = r.get("fault_code") or 0
        if code:
            return f"fault: controller showed E{int(code):02d} during the trip"
    for _, r in during:
        moving = float(r.get("speed_mps") or 0.0) > STANDSTILL_MPS
        shut = r.get("door_close_limit", not r.get("door_open", False))
        if moving and (not shut or r.get("car_door_lock_ok") is False):
            return "door: the car door opened while the car was moving"
    before = [r.get("car_state") for t, r in rows if t < start]
    if _openings_since_last_run(before) > 1:
        return "reopen: the door re-opened before departure"
    last = during[-1][1]
    zone = [last.get("door_zone_up"), last.get("door_zone_down")]
    if any(z is not None for z in zone) and not any(zone):
        return "mid-way: the car stopped outside the door zone"
    floor = last.get("floor")
    if target_floor is not None and floor is not None and int(floor) != target_floor:
        return f"mid-way: stopped at floor {int(floor)} instead of {target_floor}"
    return None


def _openings_since_last_run(states: Sequence[Any]) -> int:
    n, prev = 0, None
    for s in states:
        if s == "running":
            n = 0
        elif s == "opening" and prev != "opening":
            n += 1
        prev = s
    return n


@dataclass(frozen=True)
class FeatureStability:
    name: str
    n: int
    median: float
    scale: float  # one baseline unit
    uncertainty_units: float  # standard error of the median, in baseline units
    trips_needed: int


@dataclass(frozen=True)
class Stability:
    features: list[FeatureStability]
    trips: int

    @property
    def more_trips(self) -> int:
        return max((f.trips_needed - f.n for f in self.features), default=MIN_TRIPS)

    @property
    def stable(self) -> bool:
        return self.trips >= MIN_TRIPS and self.more_trips <= 0

    def worst(self, k: int = 3) -> list[FeatureStability]:
        return sorted(self.features, key=lambda f: -f.uncertainty_units)[:k]


def stability(observations: Sequence[Mapping[str, float]]) -> Stability:
    per: dict[str, list[float]] = {}
    for obs in observations:
        for k, v in obs.items():
            if math.isfinite(v) and spec_for(k).kind != "other":
                per.setdefault(k, []).append(float(v))
    out = []
    for name, values in sorted(per.items()):
        st = Stat.of(values)
        spec = spec_for(name)
        scale = st.scale(spec)
        sigma = MAD_TO_SIGMA * st.mad
        se = MEDIAN_SE * sigma / math.sqrt(st.n)
        own = min(1.0, sigma / scale)  # how much of the scale is the estimated spread
        needed = max(MIN_TRIPS, math.ceil((MEDIAN_SE * sigma / (TARGET_UNITS * scale)) ** 2),
                     math.ceil((MAD_SE * own / TARGET_SCALE_REL) ** 2))
        out.append(FeatureStability(name, st.n, st.median, scale, se / scale, needed))
    return Stability(out, len(observations))


def spread_table(s: Stability) -> list[str]:
    lines = [f"{'feature':28s} {'n':>3s} {'median':>10s} {'+/- units':>9s} {'needs':>5s}"]
    for f in s.worst(len(s.features)):
        lines.append(f"{f.name:28s} {f.n:3d} {f.median:10.4g} {f.uncertainty_units:9.2f} "
                     f"{f.trips_needed:5d}")
    return lines


def as_array(rows: Sequence[tuple[float, Mapping[str, Any]]], name: str) -> np.ndarray:
    return np.array([float(r.get(name) or 0.0) for _, r in rows], dtype=np.float64)

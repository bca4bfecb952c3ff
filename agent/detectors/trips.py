"""Trip segmentation from the car speed (controller samples or a recording's speed column).

A trip runs from the moment the car leaves standstill to the moment it is back at standstill,
and is cut into the phases the detectors need:

    start         standstill -> the speed ramp is clearly under way (brake lift, first jerk)
    acceleration  the speed ramp up to the plateau       <- electrical detectors (peak current)
    constant      the plateau at (near) contract speed   <- spectral detectors (stationary)
    deceleration  from the plateau down to levelling speed
    levelling     the slow creep into the floor, down to standstill
    door          after the stop, while the door is open (when a door signal exists)

and, overlapping them, `peak`: the stretch around the peak speed where the speed stays above
`peak_fraction` of it. Most trips in a real building are one or two floors and never reach
contract speed, so they have no constant phase; spectral detectors still use their `peak`
stretch, resampled to constant rope travel per sample (computed order tracking,
vibration.order_resample) so the slowly changing speed does not smear the order lines.

Speeds are taken as magnitudes (some drives report direction separately). Thresholds are
relative to the trip's own peak speed, so one-floor trips that never reach rated speed are
segmented too: their plateau is short and may be shorter than `min_constant_s`, in which case
the trip has no constant phase and spectral detectors skip it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

PHASES = ("start", "acceleration", "constant", "deceleration", "levelling", "door", "peak")


@dataclass(frozen=True)
class TripRules:
    standstill_mps: float = 0.02  # below this the car is stopped (speed register noise + creep)
    start_fraction: float = 0.10  # the start phase ends at 10 % of peak speed
    plateau_fraction: float = 0.97  # within 3 % of peak speed counts as constant speed
    levelling_fraction: float = 0.15  # below 15 % of peak speed at the end is levelling
    min_constant_s: float = 1.0
    peak_fraction: float = 0.75
    min_peak_s: float = 0.5
    min_trip_s: float = 1.0


@dataclass(frozen=True)
class Trip:
    start: float
    end: float
    peak_speed: float
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def phase(self, name: str) -> tuple[float, float] | None:
        return self.phases.get(name)

    def constant_speed(self, t: npt.ArrayLike, speed: npt.ArrayLike) -> float:
        """Mean speed magnitude during the constant phase (nan without one)."""
        ph = self.phases.get("constant")
        if ph is None:
            return float("nan")
        ta, va = np.asarray(t, dtype=float), np.abs(np.asarray(speed, dtype=float))
        m = (ta >= ph[0]) & (ta <= ph[1])
        return float(va[m].mean()) if m.any() else float("nan")


def segment_trips(
    t: Sequence[float] | npt.NDArray[np.float64],
    speed: Sequence[float] | npt.NDArray[np.float64],
    door_open: Sequence[float] | npt.NDArray[np.float64] | None = None,
    rules: TripRules = TripRules(),
) -> list[Trip]:
    """Every complete trip in a trace (a trip still running at the end is not returned)."""
    ta = np.asarray(t, dtype=np.float64)
    va = np.abs(np.asarray(speed, dtype=np.float64))
    if ta.size != va.size:
        raise ValueError("t and speed differ in length")
    if ta.size < 3:
        return []
    moving = va > rules.standstill_mps
    trips: list[Trip] = []
    i, n = 0, ta.size
    while i < n:
        if not moving[i]:
            i += 1
            continue
        j = i
        while j < n and moving[j]:
            j += 1
        if j >= n:
            break  # still moving at the end of the trace
        a = max(i - 1, 0)  # last standstill sample before, first standstill sample after
        trip = _phases(ta, va, a, j, rules)
        if trip is not None:
            trips.append(_with_door(trip, ta, door_open, j))
        i = j
    return trips


def _phases(t: np.ndarray, v: np.ndarray, a: int, b: int, rules: TripRules) -> Trip | None:
    seg_t, seg_v = t[a : b + 1], v[a : b + 1]
    if seg_t[-1] - seg_t[0] < rules.min_trip_s:
        return None
    peak = float(seg_v.max())
    k_peak = int(np.argmax(seg_v))
    up = seg_v[: k_peak + 1]
    k_start = int(np.argmax(up >= rules.start_fraction * peak))
    plateau = np.flatnonzero(seg_v >= rules.plateau_fraction * peak)
    k_c0, k_c1 = int(plateau[0]), int(plateau[-1])
    tail = seg_v[k_c1:]
    below = np.flatnonzero(tail < rules.levelling_fraction * peak)
    k_lev = k_c1 + int(below[0]) if below.size else len(seg_v) - 1
    phases: dict[str, tuple[float, float]] = {
        "start": (float(seg_t[0]), float(seg_t[k_start])),
        "acceleration": (float(seg_t[k_start]), float(seg_t[k_c0])),
        "deceleration": (float(seg_t[k_c1]), float(seg_t[k_lev])),
        "levelling": (float(seg_t[k_lev]), float(seg_t[-1])),
    }
    if seg_t[k_c1] - seg_t[k_c0] >= rules.min_constant_s:
        phases["constant"] = (float(seg_t[k_c0]), float(seg_t[k_c1]))
    k_p0, k_p1 = k_peak, k_peak
    while k_p0 > 0 and seg_v[k_p0 - 1] >= rules.peak_fraction * peak:
        k_p0 -= 1
    while k_p1 < len(seg_v) - 1 and seg_v[k_p1 + 1] >= rules.peak_fraction * peak:
        k_p1 += 1
    if seg_t[k_p1] - seg_t[k_p0] >= rules.min_peak_s:
        phases["peak"] = (float(seg_t[k_p0]), float(seg_t[k_p1]))
    return Trip(float(seg_t[0]), float(seg_t[-1]), peak, phases)


def _with_door(trip: Trip, t: np.ndarray, door_open: object, stop: int) -> Trip:
    if door_open is None:
        return trip
    d = np.asarray(door_open, dtype=np.float64) > 0.5
    k = stop
    while k < d.size and not d[k] and t[k] - t[stop] < 10.0:
        k += 1
    if k >= d.size or not d[k]:
        return trip
    e = k
    while e < d.size and d[e]:
        e += 1
    phases = dict(trip.phases)
    phases["door"] = (float(t[k]), float(t[min(e, d.size - 1)]))
    return Trip(trip.start, trip.end, trip.peak_speed, phases)


class TripSegmenter:
    """Streaming form for the agent: feed (timestamp, speed, door_open) samples as they are
    polled; a `Trip` comes back once the car is at standstill again. Only the current trip
    and a short pre-roll are held in memory."""

    def __init__(self, rules: TripRules = TripRules(), pre_roll: int = 4) -> None:
        self.rules = rules
        self._pre_roll = pre_roll
        self._t: list[float] = []
        self._v: list[float] = []
        self._d: list[float] = []
        self._moving = False

    def feed(self, t: float, speed: float, door_open: bool = False) -> Trip | None:
        self._t.append(t)
        self._v.append(abs(speed))
        self._d.append(1.0 if door_open else 0.0)
        moving = abs(speed) > self.rules.standstill_mps
        if moving:
            self._moving = True
            return None
        if not self._moving:
            del self._t[: -self._pre_roll], self._v[: -self._pre_roll], self._d[: -self._pre_roll]
            return None
        self._moving = False
        trips = segment_trips(self._t, self._v, None, self.rules)
        del self._t[:-1], self._v[:-1], self._d[:-1]
        return trips[-1] if trips else None

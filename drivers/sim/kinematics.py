"""Car motion: jerk-limited (S-curve) trips as piecewise-constant-jerk segments.

A trip is planned once, when it starts, and is then a pure function of time: position,
velocity and acceleration are polynomials inside each segment, so the signal synthesiser can
evaluate them at every sample time in one vectorised call, and nothing drifts.

Profile of a normal trip (a lift controller's "speed curve"): S-curve up to the peak speed,
cruise, S-curve down to the levelling (creep) speed, creep over the levelling distance, then
a short S-curve to standstill exactly at the floor level. Each speed change is the usual
three-phase shape (jerk +j, constant acceleration, jerk -j), or two phases when the change is
too small to reach the acceleration limit. Short trips lower the peak speed until the profile
fits the distance, so jerk, acceleration and speed limits hold exactly for every trip.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Segment:
    """Constant jerk `j` from time `t0` for `dur` seconds, starting at (p0, v0, a0)."""

    t0: float
    dur: float
    p0: float
    v0: float
    a0: float
    j: float

    def end(self) -> tuple[float, float, float]:
        d = self.dur
        return (
            self.p0 + self.v0 * d + self.a0 * d * d / 2 + self.j * d**3 / 6,
            self.v0 + self.a0 * d + self.j * d * d / 2,
            self.a0 + self.j * d,
        )


class Motion:
    """The car's motion as a time line of segments; stationary outside any segment."""

    def __init__(self, position: float) -> None:
        self._segs: list[Segment] = []
        self._rest_p = position  # position after the last segment (or before any)
        self._starts: list[float] = []
        self._t0 = np.zeros(0)
        self._coef = np.zeros((0, 5))

    @property
    def end_time(self) -> float:
        return self._segs[-1].t0 + self._segs[-1].dur if self._segs else -math.inf

    def moving_at(self, t: float) -> bool:
        return bool(self._segs) and t < self.end_time

    def replace_from(self, t: float, segments: list[Segment]) -> None:
        """Drop segments after `t` (cutting the current one at `t`) and append new ones."""
        kept: list[Segment] = []
        for s in self._segs:
            if s.t0 + s.dur <= t:
                kept.append(s)
            elif s.t0 < t:
                kept.append(Segment(s.t0, t - s.t0, s.p0, s.v0, s.a0, s.j))
        # keep only the recent past: older segments are never evaluated again
        kept = kept[-16:]
        self._segs = kept + segments
        if self._segs:
            self._rest_p = self._segs[-1].end()[0]
        self._rebuild()

    def _rebuild(self) -> None:
        self._starts = [s.t0 for s in self._segs]
        self._t0 = np.array(self._starts)
        self._coef = np.array([[s.p0, s.v0, s.a0, s.j, s.dur] for s in self._segs]).reshape(-1, 5)

    def state(self, t: F64) -> tuple[F64, F64, F64]:
        """(position, velocity, acceleration) at the times `t` (array)."""
        t = np.asarray(t, dtype=np.float64)
        if not self._segs:
            z = np.zeros_like(t)
            return z + self._rest_p, z, z.copy()
        idx = np.searchsorted(self._t0, t, side="right") - 1
        before = idx < 0
        idx = np.clip(idx, 0, len(self._segs) - 1)
        c = self._coef[idx]
        tau = np.clip(t - self._t0[idx], 0.0, c[:, 4])
        after = (t - self._t0[idx]) > c[:, 4]
        p = c[:, 0] + c[:, 1] * tau + c[:, 2] * tau**2 / 2 + c[:, 3] * tau**3 / 6
        v = c[:, 1] + c[:, 2] * tau + c[:, 3] * tau**2 / 2
        a = c[:, 2] + c[:, 3] * tau
        # only the last segment can be passed: the car is at rest after it
        v = np.where(after, 0.0, v)
        a = np.where(after, 0.0, a)
        if before.any():
            first = self._segs[0]
            p = np.where(before, first.p0, p)
            v = np.where(before, 0.0, v)
            a = np.where(before, 0.0, a)
        return p, v, a

    def scalar(self, t: float) -> tuple[float, float, float]:
        """Same as state() for one time, without numpy's per-call overhead."""
        segs = self._segs
        if not segs:
            return self._rest_p, 0.0, 0.0
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return segs[0].p0, 0.0, 0.0
        s = segs[i]
        tau = t - s.t0
        if tau > s.dur:
            return s.end()[0], 0.0, 0.0
        return (s.p0 + s.v0 * tau + s.a0 * tau * tau / 2 + s.j * tau**3 / 6,
                s.v0 + s.a0 * tau + s.j * tau * tau / 2, s.a0 + s.j * tau)


def speed_change(v0: float, v1: float, amax: float, jmax: float) -> list[tuple[float, float]]:
    """(duration, jerk) phases taking the speed from v0 to v1 from and to zero acceleration."""
    dv = v1 - v0
    if dv == 0:
        return []
    s = 1.0 if dv > 0 else -1.0
    dv = abs(dv)
    if dv >= amax * amax / jmax:
        tj = amax / jmax
        return [(tj, s * jmax), (dv / amax - tj, 0.0), (tj, -s * jmax)]
    tj = math.sqrt(dv / jmax)
    return [(tj, s * jmax), (tj, -s * jmax)]


def change_distance(v0: float, v1: float, amax: float, jmax: float) -> float:
    """Distance covered by `speed_change`: the speed curve is point-symmetric, so it is the
    mean of the two speeds times the duration."""
    return (v0 + v1) / 2 * sum(d for d, _ in speed_change(v0, v1, amax, jmax))


@dataclass(frozen=True)
class TripLimits:
    speed: float
    accel: float
    jerk: float
    creep_speed: float
    creep_distance: float


def plan_trip(t0: float, p0: float, p1: float, lim: TripLimits) -> list[Segment]:
    """Segments moving the car from rest at p0 to rest at p1, starting at t0."""
    dist = abs(p1 - p0)
    if dist <= 0:
        return []
    sgn = 1.0 if p1 > p0 else -1.0
    a, j = lim.accel, lim.jerk
    creep_v = min(lim.creep_speed, lim.speed)

    def needed(vp: float, creep: bool) -> float:
        if creep:
            return (change_distance(0, vp, a, j) + change_distance(vp, creep_v, a, j)
                    + lim.creep_distance + change_distance(creep_v, 0, a, j))
        return change_distance(0, vp, a, j) + change_distance(vp, 0, a, j)

    creep = lim.creep_distance > 0 and needed(creep_v, True) <= dist
    lo = creep_v if creep else 0.0
    if needed(lim.speed, creep) <= dist:
        vp = lim.speed
    else:
        hi = lim.speed
        for _ in range(60):  # bisection: needed() grows monotonically with the peak speed
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if needed(mid, creep) <= dist else (lo, mid)
        vp = lo
    cruise = max(0.0, dist - needed(vp, creep))
    phases = speed_change(0, vp, a, j)
    if cruise > 0 and vp > 0:
        phases.append((cruise / vp, 0.0))
    if creep:
        phases += speed_change(vp, creep_v, a, j)
        phases.append((lim.creep_distance / creep_v, 0.0))
        phases += speed_change(creep_v, 0, a, j)
    else:
        phases += speed_change(vp, 0, a, j)
    return _integrate(t0, p0, sgn, phases)


def plan_brake_stop(t0: float, p0: float, v0: float, decel: float) -> list[Segment]:
    """An emergency brake stop: constant deceleration, acceleration steps (brake, not drive)."""
    if v0 == 0:
        return []
    d = abs(v0) / decel
    return [Segment(t0, d, p0, v0, -math.copysign(decel, v0), 0.0)]


def _integrate(t0: float, p0: float, sgn: float,
               phases: list[tuple[float, float]]) -> list[Segment]:
    segs = []
    p, v, acc, t = p0, 0.0, 0.0, t0
    for dur, jerk in phases:
        if dur <= 0:
            continue
        s = Segment(t, dur, p, v, acc, sgn * jerk)
        segs.append(s)
        p, v, acc = s.end()
        t += dur
    return segs

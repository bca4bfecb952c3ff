"""Sheave orders by synchronous averaging over trips, referenced to the landing a trip leaves.

A worn or eccentric sheave groove shakes the ropes at whole orders of the sheave's rotation,
always at the same sheave angle. The car's own ride sway (guide-excited resonances at a few
Hz) has no such phase. On a car-roof sensor a one-floor trip holds two to five sheave turns
at speed, and the sway projected onto the first orders is 10-25x the healthy line: no single
trip tells a +6 dB rise (benchmarks/detection.py, 2026-12-03: 0 % detected at +6 dB).

Averaging the complex order coefficients of many trips at the *same sheave angle* keeps the
line and averages the sway down as 1/N in power: time-synchronous averaging, as for a gear
with a once-per-turn tacho. The lift needs no tacho: the sheave angle is the car's travel x
roping / (pi D), and a car standing at a landing stands at the same sheave angle every time
(levelling within millimetres; the rope's creep drifts it a few mm per trip, far under the
tenth of a turn that would blur order 4). So each trip's angle is counted from its start
landing, by integrating the polled speed from standstill, and trips are averaged per start
landing and direction; the landings' own angles need not be known, since each group keeps
its own phase. Direction matters because a speed register that lags the car by a fixed
delay shifts the counted angle one way going up and the other going down (on the virtual
elevator up and down trips from one landing came out ~110 degrees apart at order 1).

Per order k and axis (a component c), over the last W <= SYNC_TRIPS trips in G groups:

    sigma2_c = sum over groups and trips |c_i - mean_g|^2 / (W - G)    scatter (sway, noise)
    L_c      = (sum_g m_g |mean_g|^2 - G sigma2_c) / W                 line power, debiased
    R        = sum_c L_c / sigma2_c                                    the feature

Without a line, sum_g m_g |mean_g|^2 is sigma2 x Gamma(G): L_c is unbiased, and each
r_c = L_c / sigma2_c scatters by sqrt(G + 2 W r_c) / W (the second term: a line's cross
term with the noise). R is the phase-locked line power over the scatter of one trip,
summed over orders and axes: a sensor gain or a mount that scales both does not move it,
nor (on average) the number of trips held, and a +6 dB line reads ~4x the line part of R.

R is scored on the scatter it would have if the lift were as healthy as its baseline:
summed over the C components that is

    se_null^2 = C G / W^2 + 2 R_ref / W                     (null_se)

with R_ref the baseline's median. The window gives its noise part (FEATURE_SE, the error
of R without a line) and W (FEATURE_TRIPS); scoring adds the baseline's reference. Scoring
on the window's own error instead, taken at the R it measures, divided a grown line by the
cross term of the grown line: a +6 dB rise scored 3.5 where the healthy scatter makes it
4.4 (cached car-roof trips, 2026-12-04). The null error takes sigma2_c as known; where the
line dominates (a sensor at the machine) R is the line over the day's ride sway, which
moves with the traffic, so R is also never scored on less than 15 % of its healthy median
(baseline.spec_for).

Measured on the virtual elevator's car roof (2:1, D 400 mm, 1.75 m/s, busy traffic of mostly
one-floor hops; trips cached from benchmarks/detection.py's geometry 0, 2026-12-04): per
component, the healthy line sits in order 1 vertical (r ~0.26) and orders 2-4 (0.04-0.2,
partly the rail joints, which are position-locked too and so pass any landing's average);
R is 0.75 healthy (18 groups) and 1.67 at +6 dB. Over 128 trips its null error was ~0.16:
+6 dB scored 4.4 (17 % of windows >= 5); over 256 trips 6.5 (every window >= 5), healthy
windows of another seed at most 2.2. benchmarks/detection.py (geometry 0, same day): +6 dB
100 % of 137 trips, +4.4 dB 19 %; the agent's own wear stage from a 20-trip commissioning
(benchmarks/sheave_commissioning.py, seed 3): 78.6 % at +6 dB, so the margin was thin. With
the quintic detrend (DETREND_DEGREE) the same two: 100 % at +4, +4.4, +6 and +8 dB (137 trips
each) and 100 % of 257 trips, first flagged 133 trips after the wear began (232 before).

`trip_coefficients` is pure (arrays in, coefficients out); `SyncWindow` is detector state,
persisted with the tracker, so a restart resumes the average.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.detectors.geometry import LiftGeometry
from agent.detectors.trips import Trip

FEATURE = "sheave.sync_lines"
# R's standard error over the same trips without a line, and how many trips it holds: with
# the baseline's median they give the scale R is scored on (null_se); learned with R, not
# scored themselves
FEATURE_SE = "sheave.sync_se"
FEATURE_TRIPS = "sheave.sync_trips"
FEATURES = (FEATURE, FEATURE_SE, FEATURE_TRIPS)  # all a trip carries of the average
ORDERS = (1, 2, 3, 4)
# 256 trips are a day or two of a lift in service, far quicker than a groove wears; over ~10
# landings and both directions that is ~13 trips a group. Over 128 a +6 dB rise was ~4.4
# healthy standard errors on the car roof (see the module docstring), under the warning.
SYNC_TRIPS = 256
MIN_TRIPS = SYNC_TRIPS // 2  # before this many, no figure: the scatter is too poorly known
MIN_TURNS = 2.0  # order 1 must make two turns in the segment to stand apart from the detrend
# the car's own motion over the segment, fitted beside the orders: a quintic follows the
# acceleration's jerk-limited corners inside the peak stretch of a short trip, which a cubic
# left partly in the orders (exploratory fits, 2026-12-04: +6 dB at 5.8 healthy standard
# errors over 128 trips with a cubic, 8.9 with a quintic, 7.6 with degree 7; 9 and 11 fell
# back to ~5-5.6 as they start to follow order 1 over two turns)
DETREND_DEGREE = 5
STANDSTILL_S = 0.5  # travel is counted from this long before the trip's start (car at rest)


def trip_coefficients(
    x: npt.ArrayLike, fs: float, t0: float, poll_t: npt.ArrayLike, poll_speed: npt.ArrayLike,
    t_ref: float, direction: int, geometry: LiftGeometry,
) -> npt.NDArray[np.complex128] | None:
    """Complex amplitude of each sheave order on each axis over one trip's segment.

    `x` is (n, channels) acceleration, sample k at t0 + k/fs; `poll_speed` the polled car
    speed (unsigned) at `poll_t`, covering t_ref to the segment's end; at `t_ref` the car
    stands at its start landing; `direction` is +1 up, -1 down. The sheave angle is
    direction x travel since t_ref x roping / (pi D), so up and down trips from one landing
    share their phase reference. A least-squares fit of a quintic (the car's own motion)
    and the orders' sines and cosines of that angle: exact for a segment whose speed ramps.
    None when the segment holds under MIN_TURNS turns or the speed does not cover it."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    pt = np.asarray(poll_t, dtype=np.float64)
    pv = np.abs(np.asarray(poll_speed, dtype=np.float64))
    n = a.shape[0]
    t = t0 + np.arange(n) / fs
    keep = pt >= t_ref
    if n < 8 or direction not in (1, -1) or keep.sum() < 2 or pt[keep][-1] < t[-1]:
        return None
    pt, pv = pt[keep], pv[keep]
    travel_polls = np.concatenate([[0.0], np.cumsum((pv[1:] + pv[:-1]) / 2 * np.diff(pt))])
    # the first poll at or after t_ref stands for t_ref: the car is at rest there
    turns_per_m = geometry.roping / (math.pi * geometry.sheave_diameter_m)
    theta = direction * np.interp(t, pt, travel_polls) * turns_per_m
    if abs(theta[-1] - theta[0]) < MIN_TURNS:
        return None
    u = 2 * (t - t[0]) / (t[-1] - t[0]) - 1
    cols = [u**p for p in range(DETREND_DEGREE + 1)]
    for k in ORDERS:
        w = 2 * np.pi * k * theta
        cols += [np.cos(w), np.sin(w)]
    basis = np.column_stack(cols)
    coef = np.linalg.solve(basis.T @ basis, basis.T @ a)[DETREND_DEGREE + 1:]
    return coef[0::2] - 1j * coef[1::2]


@dataclass
class SyncWindow:
    """The last `n` trips' order coefficients, each with the landing it left."""

    n: int = SYNC_TRIPS
    entries: list[tuple[str, npt.NDArray[np.complex128]]] = field(default_factory=list)

    def add(self, landing: str, coefs: npt.NDArray[np.complex128]
            ) -> tuple[float, float, int] | None:
        """Take one trip; R, its standard error without a line and the trips held (None
        until MIN_TRIPS)."""
        self._push(landing, np.asarray(coefs, dtype=np.complex128))
        return self.statistic()

    def _push(self, landing: str, coefs: npt.NDArray[np.complex128]) -> None:
        if self.entries and self.entries[0][1].shape != coefs.shape:
            self.entries.clear()  # another sensor (channel count): its phases do not add
        self.entries.append((landing, coefs))
        del self.entries[:-self.n]

    def statistic(self) -> tuple[float, float, int] | None:
        """(R, its standard error where no line is, W): each L_c / sigma2_c scatters by
        sqrt(G + 2 W r_c) / W; the line's own part of that comes from the reference R is
        judged against (null_se)."""
        w = len(self.entries)
        groups: dict[str, list[npt.NDArray[np.complex128]]] = {}
        for landing, c in self.entries:
            groups.setdefault(landing, []).append(c)
        g = len(groups)
        if w < MIN_TRIPS or w - g < MIN_TRIPS // 2:
            return None
        scatter = np.zeros(self.entries[0][1].shape)
        locked = np.zeros(self.entries[0][1].shape)
        for cs in groups.values():
            a = np.array(cs)
            mean = a.mean(axis=0)
            scatter += np.sum(np.abs(a - mean) ** 2, axis=0)
            locked += a.shape[0] * np.abs(mean) ** 2
        sigma2 = scatter / (w - g)
        if not np.all(sigma2 > 0):
            return None
        r = (locked - g * sigma2) / w / sigma2
        return float(np.sum(r)), math.sqrt(r.size * g) / w, w

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "entries": [
            [landing, np.round(c.real, 9).tolist(), np.round(c.imag, 9).tolist()]
            for landing, c in self.entries]}

    @classmethod
    def from_dict(cls, d: Any) -> SyncWindow:
        """Raises ValueError/TypeError/KeyError on a malformed dict (the tracker reports it)."""
        entries = []
        for landing, re, im in d["entries"]:
            c = np.asarray(re, dtype=np.float64) + 1j * np.asarray(im, dtype=np.float64)
            if c.ndim != 2 or c.shape[0] != len(ORDERS) or not np.all(np.isfinite(c)):
                raise ValueError(f"sync entry of shape {c.shape}")
            entries.append((str(landing), c))
        window = cls()
        for landing, c in entries:
            window._push(landing, c)
        return window


class Landings:
    """Where the car stood before and after each trip: the controller's floor register, or
    its position register when there is no floor (rounded to 5 cm, well under a floor and
    over the register's jitter at a landing). Standstill polls of the last few minutes are
    kept; a trip's start landing is the last one before it, its end the first one after."""

    KEEP_S = 300.0

    def __init__(self, standstill_mps: float) -> None:
        self.standstill_mps = standstill_mps
        self._still: deque[tuple[float, float | None, float | None]] = deque()

    def feed(self, t: float, speed: float, floor: Any, position: Any) -> None:
        if abs(speed) > self.standstill_mps:
            return
        fl = float(floor) if _is_num(floor) else None
        pos = float(position) if _is_num(position) else None
        if fl is None and pos is None:
            return
        self._still.append((t, fl, pos))
        while self._still and self._still[0][0] < t - self.KEEP_S:
            self._still.popleft()

    def reference(self, start: float, end: float) -> tuple[str, int] | None:
        """(start landing, direction) of the trip between controller times start and end."""
        # the polls that start and end a trip are at rest: the same instants (to a rounding)
        before = [s for s in self._still if s[0] <= start + 1e-6]
        after = [s for s in self._still if s[0] >= end - 1e-6]
        if not before or not after:
            return None
        return _landing_pair(before[-1], after[0])


def _landing_pair(a: tuple[float, float | None, float | None],
                  b: tuple[float, float | None, float | None]) -> tuple[str, int] | None:
    _, fa, pa = a
    _, fb, pb = b
    if pa is not None and pb is not None and abs(pb - pa) > 0.1:
        direction = 1 if pb > pa else -1
    elif fa is not None and fb is not None and fb != fa:
        direction = 1 if fb > fa else -1
    else:
        return None
    way = "up" if direction > 0 else "down"
    if fa is not None:
        return f"floor {fa:g} {way}", direction
    assert pa is not None  # the direction came from the positions
    return f"{round(pa / 0.05) * 0.05:.2f} m {way}", direction


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def trip_orders(trip: Trip, landing: tuple[str, int] | None, x: npt.ArrayLike | None,
                fs: float, t0: float, poll_t: npt.ArrayLike, poll_speed: npt.ArrayLike,
                geometry: LiftGeometry) -> tuple[str, npt.NDArray[np.complex128]] | None:
    """(group, coefficients) of a trip whose sensor segment `x` (starting at t0) is its
    constant, else its peak, phase, as the vibration features: the agent's wear stage and
    the trip capture both call this. None without a landing, a segment or enough turns."""
    if landing is None or x is None:
        return None
    coefs = trip_coefficients(x, fs, t0, poll_t, poll_speed, trip.start - STANDSTILL_S,
                              landing[1], geometry)
    return None if coefs is None else (landing[0], coefs)


def sync_feature(window: SyncWindow, landing: str,
                 coefs: npt.NDArray[np.complex128]) -> dict[str, float]:
    """Add a trip's coefficients to the window; the feature, once there is one."""
    got = window.add(landing, coefs)
    if got is None or not all(math.isfinite(v) for v in got):
        return {}
    return {FEATURE: got[0], FEATURE_SE: got[1], FEATURE_TRIPS: float(got[2])}


def null_se(features: Mapping[str, float], reference: float) -> float:
    """The standard error of the window's R on a lift whose healthy R is `reference` (the
    baseline's median): the noise part the window measured, plus the cross term of the
    reference's lines with it. 0 when the trip carries no figure."""
    se0 = features.get(FEATURE_SE, 0.0)
    trips = features.get(FEATURE_TRIPS, 0.0)
    if not se0 > 0 or not trips > 0:
        return 0.0
    return math.sqrt(se0 * se0 + 2 * max(reference, 0.0) / trips)


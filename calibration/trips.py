"""Guided capture of trips for the baseline: the box calls the car (or waits for traffic),
cuts each trip with the detectors' own TripBuffer, measures it the way the running agent will,
and rejects what is not an ordinary trip (tripcheck.py).

Nothing is written here: a capture interrupted by Ctrl-C or by a lost controller leaves
the calibration exactly as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.detectors import electrical, spectra
from agent.detectors.acoustic import sound_features
from agent.detectors.capture import CapturedTrip, TripBuffer
from agent.detectors.geometry import LiftGeometry
from agent.detectors.ride import ride_metrics
from agent.detectors.vibration import vibration_features
from agent.errors import InputError
from calibration.console import Console
from calibration.rigs import Rig
from calibration.tripcheck import trip_anomaly

POLL_S = 0.1  # the agent's poll period for trip segmentation (runtime default 0.2 s or less)
TRIP_TIMEOUT_S = 180.0  # no trip ends within this: the lift is not in service
ROWS_KEPT_S = 60.0


class NoTrips(InputError):
    """The lift made no trip while the box waited; nothing is changed."""


@dataclass
class TripRecord:
    index: int
    start: float
    end: float
    peak_speed: float
    target: int | None
    rejected: str | None
    speed_t: np.ndarray  # controller speed over the trip, for the speed-profile plot
    speed_v: np.ndarray
    features: dict[str, float] = field(default_factory=dict)
    cruise_speed: float = float("nan")
    spectrum: tuple[np.ndarray, np.ndarray] | None = None  # f, PSD of the order-tracked cruise
    ride: dict[str, float] = field(default_factory=dict)
    laeq: float | None = None
    rest_laeq: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "start": round(self.start, 3),
                "duration_s": round(self.end - self.start, 2),
                "peak_speed_mps": round(self.peak_speed, 3), "target_floor": self.target,
                "rejected": self.rejected,
                "ride": {k: round(v, 4) for k, v in self.ride.items()},
                "laeq_dba": None if self.laeq is None else round(self.laeq, 1),
                "rest_laeq_dba": None if self.rest_laeq is None else round(self.rest_laeq, 1)}


def call_plan(floors: int) -> list[int]:
    """Top, bottom, then mid-building trips: full-height runs reach contract speed (spectral
    features), shorter ones cover the speeds ordinary traffic runs at."""
    mid = max(2, floors // 2)
    return [floors, 1, mid, floors, 1, floors, mid, 1]


class TripCapture:
    def __init__(self, rig: Rig, console: Console, geometry: LiftGeometry,
                 rotation: np.ndarray | None = None, noise_correction_db: float = 0.0) -> None:
        self.rig = rig
        self.console = console
        self.geometry = geometry
        self.rotation = rotation
        self.noise_correction_db = noise_correction_db
        self.buffer = TripBuffer()
        self.rows: list[tuple[float, dict[str, Any]]] = []
        self.records: list[TripRecord] = []
        self._plan = call_plan(rig.floors)
        self._k = 0

    @property
    def accepted(self) -> list[TripRecord]:
        return [r for r in self.records if r.rejected is None]

    def run(self, wanted: int) -> None:
        """Capture until `wanted` more trips are accepted (at most 2 x wanted + 4 attempts)."""
        goal = len(self.accepted) + wanted
        attempts = 0
        while len(self.accepted) < goal:
            if attempts >= 2 * wanted + 4:
                raise NoTrips(f"baseline: {attempts} trips, too many rejected; fix the cause "
                              "shown above and start again (nothing was changed)")
            attempts += 1
            rec = self._one_trip(len(self.accepted) + 1, goal)
            self.records.append(rec)
            verdict = "accepted" if rec.rejected is None else f"REJECTED ({rec.rejected})"
            self.console.say(f"  trip {rec.index}: {rec.peak_speed:.2f} m/s peak, "
                             f"{rec.end - rec.start:.1f} s, {verdict}")

    def _one_trip(self, number: int, goal: int) -> TripRecord:
        rig = self.rig
        target: int | None = None
        if rig.call(self._next_floor()):
            target = self._plan[(self._k - 1) % len(self._plan)]
        expected = self._expected_s(target)
        bar = self.console.progress(f"trip {number}/{goal}", expected)
        t_begin = rig.now()
        while True:
            rig.wait(POLL_S)
            t = rig.now()
            r = rig.poll()
            self.rows.append((t, r))
            for b in rig.blocks():
                self.buffer.add_block(b)
            cap = self.buffer.poll(t, r)
            if cap is not None:
                bar.finish()
                return self._measure(cap, target)
            bar.update(min(t - t_begin, expected * 0.99))
            if t - t_begin > TRIP_TIMEOUT_S:
                raise NoTrips(f"baseline: no trip within {TRIP_TIMEOUT_S:g} s; is the lift in "
                              "automatic service? (nothing was changed)")
            while self.rows and t - self.rows[0][0] > ROWS_KEPT_S:
                self.rows.pop(0)

    def _next_floor(self) -> int:
        floor = self._plan[self._k % len(self._plan)]
        self._k += 1
        here = self.rows[-1][1].get("floor") if self.rows else None
        if here == floor:  # already there: the plan's next stop instead
            floor = self._plan[self._k % len(self._plan)]
            self._k += 1
        return floor

    def _expected_s(self, target: int | None) -> float:
        here = self.rows[-1][1].get("floor") if self.rows else 1
        floors = abs((target or here or 1) - (here or 1)) or self.rig.floors // 2
        # travel at contract speed plus ramps and a door cycle (~8 s)
        return 3.0 * floors / max(self.geometry.rated_speed_mps, 0.1) + 12.0

    def _measure(self, cap: CapturedTrip, target: int | None) -> TripRecord:
        trip = cap.trip
        rows = [(t, r) for t, r in self.rows if t >= trip.start - 30.0]
        during = [(t, r) for t, r in rows if trip.start - 1 <= t <= trip.end + 1]
        rec = TripRecord(len(self.records) + 1, trip.start, trip.end, trip.peak_speed, target,
                         trip_anomaly(rows, trip.start, trip.end, target),
                         np.array([t for t, _ in during]) - trip.start,
                         np.array([float(r.get("speed_mps") or 0.0) for _, r in during]))
        fs_a = self.buffer.fs("accel") if cap.cruise is not None or cap.ride else 0.0
        if cap.cruise is not None and math.isfinite(cap.cruise_speed):
            x = self._rotated(cap.cruise)
            rec.features.update(vibration_features(x, fs_a, cap.cruise_speed,
                                                   self.geometry).values)
            rec.cruise_speed = cap.cruise_speed
            xc = x - x.mean(axis=0)
            rec.spectrum = total_psd(xc, fs_a, max(self.geometry.sheave_hz(
                cap.cruise_speed) / 8, 0.2))
        elif rec.rejected is None:
            rec.rejected = "short: no steady-speed stretch for order analysis"
        trace = _trace(rows)
        if trace is not None:
            rec.features.update(electrical.trip_features(trace, trip))
        if cap.ride is not None:
            x, i0, i1 = cap.ride
            rec.ride = ride_metrics(self._rotated(x), ("x", "y", "z"), "z", fs_a, (i0, i1))
        if cap.audio is not None:
            fs = self.buffer.fs("audio")
            laeq, tones = sound_features(cap.audio, fs)
            rec.laeq = laeq + self.noise_correction_db
            rec.features.update({k: v + self.noise_correction_db for k, v in tones.items()})
        if cap.rest_audio is not None:
            rec.rest_laeq = sound_features(cap.rest_audio, self.buffer.fs("audio"))[0] \
                + self.noise_correction_db
        return rec

    def _rotated(self, x: np.ndarray) -> np.ndarray:
        return x if self.rotation is None else np.asarray(x) @ self.rotation.T


def total_psd(x: np.ndarray, fs: float, resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the axes' PSDs, as the vibration detector sees it (rotation-invariant)."""
    f, p = spectra.welch_psd(x[:, 0], fs, resolution)
    for c in range(1, x.shape[1]):
        p = p + spectra.welch_psd(x[:, c], fs, resolution)[1]
    return f, p


def _trace(rows: list[tuple[float, dict[str, Any]]]) -> dict[str, np.ndarray] | None:
    if len(rows) < 4:
        return None
    out = {"t": np.array([t for t, _ in rows], dtype=np.float64)}
    for c in ("speed_mps", "current_a", "dc_bus_v"):
        vals = [r.get(c) for _, r in rows]
        if all(isinstance(v, int | float) for v in vals):
            out[c] = np.array(vals, dtype=np.float64)
    return out

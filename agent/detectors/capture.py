"""Cutting live data into trips: controller polls and sensor blocks in, finished trips out.

Used by the agent's wear monitor and by the virtual elevator's recorder, so both see trips
the same way. Memory is bounded by one trip plus a few seconds of pre-roll.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.detectors.geometry import LiftGeometry
from agent.detectors.sheave_sync import Landings, trip_orders
from agent.detectors.trips import Trip, TripRules, TripSegmenter
from agent.detectors.vibration import order_resample
from drivers.blocks import SampleBlock

REST_AUDIO_S = 5.0


@dataclass
class CapturedTrip:
    trip: Trip
    speed_mps: float  # mean speed over the constant phase
    accel: np.ndarray | None  # (n, 3) m/s^2 over the constant phase
    cruise: np.ndarray | None  # (n, 3) accel over the peak stretch, order-resampled ...
    cruise_speed: float  # ... to this constant car speed (nan without a peak stretch)
    audio: np.ndarray | None  # (n, 1) Pa over the constant phase
    rest_audio: np.ndarray | None  # (n, 1) Pa from the idle spell before the trip
    ride: tuple[np.ndarray, int, int] | None = None  # whole-trip accel (from 0.5 s before the
    # start), and the sample range of the constant (or peak) phase in it: ride quality
    # the landing the trip left and the sheave orders phased from it (sheave_sync.py)
    sync: tuple[str, np.ndarray] | None = None


class TripBuffer:
    """Holds the current trip's controller speed and sensor blocks; when the speed says the
    trip is over, `poll` returns it cut into the pieces the detectors use. While the car
    stands, only the last few seconds are kept (the rest sound and a pre-roll)."""

    def __init__(self, rules: TripRules | None = None,
                 geometry: LiftGeometry | None = None) -> None:
        self._seg = TripSegmenter(rules or TripRules())
        self._geometry = geometry  # for the sheave's synchronous average; none: not measured
        self._landings = Landings(self._seg.rules.standstill_mps)
        self._streams: dict[str, list[SampleBlock]] = {"accel": [], "audio": []}
        self._fs: dict[str, float] = {}
        self._speed: list[tuple[float, float]] = []

    def fs(self, stream: str) -> float:
        return self._fs[stream]

    def add_block(self, block: SampleBlock) -> None:
        if block.stream in self._streams:
            self._streams[block.stream].append(block)
            self._fs[block.stream] = block.fs

    def poll(self, t: float, readings: Mapping[str, Any]) -> CapturedTrip | None:
        """Feed one controller poll (canonical readings); a finished trip, or None."""
        speed = float(readings.get("speed_mps", 0.0) or 0.0)
        self._speed.append((t, speed))
        self._landings.feed(t, speed, readings.get("floor"), readings.get("position_m"))
        trip = self._seg.feed(t, speed, bool(readings.get("door_open", False)))
        if trip is not None:
            return self._cut(trip)
        if abs(speed) <= self._seg.rules.standstill_mps:
            self._trim(t - 2 * REST_AUDIO_S)
        return None

    def _trim(self, before: float) -> None:
        while len(self._speed) > 2 and self._speed[1][0] < before:
            self._speed.pop(0)
        for blocks in self._streams.values():
            while blocks and blocks[0].t0 + blocks[0].duration < before:
                blocks.pop(0)

    def _slice(self, stream: str, t0: float, t1: float) -> np.ndarray | None:
        got = self._slice_at(stream, t0, t1)
        return got[0] if got is not None else None

    def _slice_at(self, stream: str, t0: float, t1: float) -> tuple[np.ndarray, float] | None:
        """Samples in [t0, t1) and the time of the first one."""
        blocks = [b for b in self._streams[stream] if b.t0 < t1 and b.t0 + b.duration > t0]
        if not blocks:
            return None
        fs = blocks[0].fs
        data = np.concatenate([b.data for b in blocks]).astype(np.float64)
        start = blocks[0].t0
        i0, i1 = max(0, int(round((t0 - start) * fs))), int(round((t1 - start) * fs))
        out = data[i0:min(i1, data.shape[0])]
        return (out, start + i0 / fs) if out.shape[0] > 0 else None

    def _cruise(self, trip: Trip) -> tuple[np.ndarray | None, float]:
        ph = trip.phase("peak")
        got = self._slice_at("accel", *ph) if ph else None
        if got is None or not self._speed:
            return None, float("nan")
        st, sv = np.array(self._speed).T
        x, v_ref = order_resample(got[0], self._fs["accel"], got[1], st, sv)
        return x, v_ref

    def _cut(self, trip: Trip) -> CapturedTrip:
        const = trip.phase("constant")
        speeds = [abs(v) for t, v in self._speed if const and const[0] <= t <= const[1]]
        speed = float(np.mean(speeds)) if speeds else trip.peak_speed
        accel = self._slice("accel", *const) if const else None
        audio = self._slice("audio", *const) if const else None
        rest = self._slice("audio", trip.start - REST_AUDIO_S - 0.5, trip.start - 0.5)
        cruise, v_ref = self._cruise(trip)
        ride = None
        steady = const or trip.phase("peak")
        whole = self._slice_at("accel", trip.start - 0.5, trip.end)
        if whole is not None and steady is not None:
            fs = self._fs["accel"]
            i0 = max(0, int((steady[0] - whole[1]) * fs))
            i1 = min(whole[0].shape[0], int((steady[1] - whole[1]) * fs))
            if i1 - i0 > fs * 0.5:
                ride = (whole[0], i0, i1)
        sync = self._sync(trip)
        self._trim(trip.end - 1.0)
        return CapturedTrip(trip, speed, accel, cruise, v_ref, audio, rest, ride, sync)

    def _sync(self, trip: Trip) -> tuple[str, np.ndarray] | None:
        seg = trip.phase("constant") or trip.phase("peak")
        got = self._slice_at("accel", *seg) if seg and self._geometry else None
        if got is None or self._geometry is None:
            return None
        st, sv = np.array(self._speed).T
        return trip_orders(trip, self._landings.reference(trip.start, trip.end), got[0],
                           self._fs["accel"], got[1], st, sv, self._geometry)

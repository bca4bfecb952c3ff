"""Trips around a fault or outside normal service are not wear evidence (agent/runtime/wear.py).

An emergency stop, an overspeed run or a rescue run sags the DC bus and shakes the car as no
wear does; scored, one such trip sits at the clip of the inverter's evidence window for the
next 24 trips. The stage still counts the trip, and says why it was not scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.detectors.geometry import LiftGeometry
from agent.detectors.offline import Settings
from agent.detectors.tracker import WearTracker
from agent.runtime.wear import TripJob, WearStage
from drivers.controller.sample import ControllerSample
from tests.detectors.signals import trip_speed


def stage(learn_trips: int = 5) -> WearStage:
    return WearStage(LiftGeometry(), Settings(), baseline=None, baseline_path=None,
                     learn_trips=learn_trips, tracker=WearTracker(), state_path=None,
                     keep_s=120.0)


def drive(st: WearStage, t0: float, **during: Any) -> list[TripJob]:
    """One 1 m/s trip polled at 10 Hz with `during` in every poll of the moving part, a
    motoring bus sag and 10 s at rest on either side; the jobs the stage hands out."""
    t, v = trip_speed(t0 + 10.0, 1.0)
    t = np.concatenate([t0 + np.arange(0, 10.0, 0.1), t, t[-1] + 0.1 + np.arange(0, 10, 0.1)])
    v = np.concatenate([np.zeros(100), v, np.zeros(100)])
    jobs = []
    for ti, vi in zip(t, v, strict=True):
        readings: dict[str, Any] = {"speed_mps": float(vi), "current_a": 20.0 * abs(vi) + 2.0,
                                    "dc_bus_v": 540.0 - 8.0 * abs(vi), "fault_code": 0,
                                    "safety_circuit_ok": True, "mode": "automatic"}
        if abs(vi) > 0:
            readings.update(during)
        jobs += st.feed(ControllerSample(float(ti), readings))
    return jobs


def absorb_all(st: WearStage, jobs: list[TripJob]) -> None:
    for job in jobs:
        st.absorb(job.analyse())


def test_a_trip_in_normal_service_is_learned():
    st = stage()
    jobs = drive(st, 0.0)
    assert [j.excluded for j in jobs] == [None]
    absorb_all(st, jobs)
    assert st.excluded == 0 and len(st._learning) == 1


def test_a_trip_with_a_fault_code_is_counted_but_neither_learned_nor_scored():
    st = stage()
    jobs = drive(st, 0.0, fault_code=56)
    assert [j.excluded for j in jobs] == ["fault code 56"]
    absorb_all(st, jobs)
    assert st.trips == 1 and st.excluded == 1 and st._learning == []
    assert st.summary()["excluded_trips"] == 1


def test_safety_circuit_and_inspection_mode_exclude_a_trip():
    st = stage()
    assert [j.excluded for j in drive(st, 0.0, safety_circuit_ok=False)] == [
        "safety circuit open"]
    assert [j.excluded for j in drive(st, 100.0, mode="inspection")] == ["inspection mode"]


def test_service_resumes_once_the_fault_is_older_than_the_pre_trip_window():
    st = stage()
    drive(st, 0.0, fault_code=9)
    # the next trip starts ~30 s after the last faulted poll, past TRACE_PRE_S (6 s)
    assert [j.excluded for j in drive(st, 40.0)] == [None]

"""The live wear monitor: trips from polls and blocks, findings, state across a restart."""

import numpy as np
import pytest

from agent.detectors.baseline import learn
from agent.detectors.monitor import WearMonitor
from agent.detectors.vibration import vibration_features
from drivers.blocks import SampleBlock
from tests.detectors.signals import FS, LIFT, car_vibration, trip_speed


def _feed_trip(mon, t0, strand_db, seed):
    """One trip: 10 Hz controller polls and 0.25 s accel blocks, the strand line constant in
    time-domain amplitude (the car speed is steady in the middle of the trip)."""
    t, v = trip_speed(t0, 1.75, cruise_s=4.0)
    x = car_vibration(seed, strand_db=strand_db, seconds=float(t[-1] - t[0]) + 0.1)
    n = int(0.25 * FS)
    found = []
    for k in range(0, x.shape[0] - n, n):
        mon.add_block(SampleBlock("accel", k // n, t0 + k / FS, FS, ("x", "y", "z"), "m/s^2",
                                  x[k : k + n].astype(np.float32)))
    for ti, vi in zip(t, v, strict=True):
        found += mon.poll(float(ti), {"speed_mps": float(vi)})
    return found


@pytest.fixture
def baseline():
    obs = []
    for s in range(12):
        vf = vibration_features(car_vibration(100 + s, seconds=4.0), FS, 1.75, LIFT)
        obs.append((1.75, vf.values))
    return learn(obs, LIFT)


def test_a_worn_rope_trip_is_found_when_the_trip_ends(baseline):
    mon = WearMonitor(baseline)
    rope = [f for f in _feed_trip(mon, 0.0, 10.0, 1) if f.kind == "rope_wear"]
    assert rope and rope[0].score > 5


def test_healthy_trip_scores_low(baseline):
    mon = WearMonitor(baseline)
    rope = [f for f in _feed_trip(mon, 0.0, 0.0, 2) if f.kind == "rope_wear"]
    assert rope and rope[0].severity == "normal"


def test_state_survives_a_restart(baseline, tmp_path):
    state = tmp_path / "detectors.json"
    a = WearMonitor(baseline, state_path=state)
    for k in range(3):
        _feed_trip(a, 100.0 * k, 4.0 * k, 10 + k)
    b = WearMonitor(baseline, state_path=state)  # the agent restarted
    assert b.tracker.to_json() == a.tracker.to_json()
    fa = _feed_trip(a, 400.0, 12.0, 20)
    fb = _feed_trip(b, 400.0, 12.0, 20)
    assert fa and [f.to_json() for f in fa] == [f.to_json() for f in fb]


def test_each_trip_also_reports_ride_quality(baseline):
    mon = WearMonitor(baseline)
    ride = [f for f in _feed_trip(mon, 0.0, 0.0, 3) if f.kind == "ride_quality"]
    assert ride and "vertical_a95" in ride[0].evidence and "max_jerk" in ride[0].evidence

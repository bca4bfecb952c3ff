"""Which trips may teach the baseline, and how many more trips a baseline needs."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.tripcheck import MIN_TRIPS, stability, trip_anomaly

OK = {"speed_mps": 1.0, "door_close_limit": True, "car_door_lock_ok": True, "fault_code": 0,
      "floor": 5, "door_zone_up": True, "door_zone_down": True, "car_state": "running"}


def rows(**changes):
    """A stop (door cycle) then a trip 10..20 s; `changes` maps time -> reading changes."""
    out = []
    for t in np.arange(0.0, 21.0, 0.5):
        r = dict(OK)
        if t < 10 or t == 20:
            r.update(speed_mps=0.0, car_state="closed")
        for at, ch in changes.items():
            if float(at.strip("t").replace("_", ".")) == t:
                r.update(ch)
        out.append((float(t), r))
    return out


@pytest.mark.parametrize("changes, target, reason", [
    ({}, 5, None),
    ({"t15": {"fault_code": 41}}, 5, "fault: controller showed E41"),
    ({"t15": {"door_close_limit": False}}, 5, "door: the car door opened"),
    ({"t15": {"car_door_lock_ok": False}}, 5, "door: the car door opened"),
    ({"t3": {"car_state": "opening"}, "t5": {"car_state": "closing"},
      "t7": {"car_state": "opening"}}, 5, "reopen: the door re-opened"),
    ({"t20": {"door_zone_up": False, "door_zone_down": False}}, 5, "mid-way: the car stopped "
     "outside the door zone"),
    ({"t20": {"floor": 3}}, 5, "mid-way: stopped at floor 3 instead of 5"),
])
def test_a_trip_is_rejected_for_what_the_controller_shows(changes, target, reason):
    got = trip_anomaly(rows(**changes), 10.0, 20.0, target)
    assert (got is None) if reason is None else got.startswith(reason)


def test_a_noisy_feature_asks_for_more_trips_than_a_quiet_one():
    rng = np.random.default_rng(0)
    obs = [{"rope.strand_prom": 20 + 0.05 * rng.standard_normal(),
            "sheave.orders_prom": 6 + 3.0 * rng.standard_normal()} for _ in range(8)]
    s = stability(obs)
    by = {f.name: f for f in s.features}
    assert by["rope.strand_prom"].trips_needed == MIN_TRIPS
    assert by["sheave.orders_prom"].trips_needed > MIN_TRIPS
    assert s.more_trips == by["sheave.orders_prom"].trips_needed - 8 and not s.stable


def test_more_trips_of_the_same_lift_make_the_baseline_stable():
    rng = np.random.default_rng(1)
    draws = [{"sheave.orders_prom": 6 + 1.0 * rng.standard_normal()} for _ in range(80)]
    assert not stability(draws[:4]).stable
    assert stability(draws).stable

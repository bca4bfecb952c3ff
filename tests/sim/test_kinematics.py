"""Trips: jerk-limited S-curves that respect speed, acceleration and jerk limits exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.sim.kinematics import Motion, TripLimits, change_distance, plan_trip
from tests.sim.helpers import column, quiet_model, run_until, sample

LIMITS = [
    TripLimits(speed=1.75, accel=0.8, jerk=1.0, creep_speed=0.06, creep_distance=0.03),
    TripLimits(speed=2.5, accel=1.0, jerk=1.2, creep_speed=0.05, creep_distance=0.0),
    TripLimits(speed=1.0, accel=0.5, jerk=0.8, creep_speed=0.08, creep_distance=0.05),
]
DT = 1e-3


def profile(lim: TripLimits, distance: float):
    motion = Motion(0.0)
    motion.replace_from(0.0, plan_trip(0.0, 0.0, distance, lim))
    t = np.arange(0.0, motion.end_time + 0.5, DT)
    return (t, *motion.state(t))


@pytest.mark.parametrize("lim", LIMITS)
@pytest.mark.parametrize("distance", [0.02, 0.5, 3.0, 6.0, 27.0, -9.0])
def test_trip_respects_speed_accel_and_jerk_limits(lim, distance):
    t, p, v, a = profile(lim, distance)
    tol = 1e-9
    assert np.abs(v).max() <= lim.speed + tol
    assert np.abs(a).max() <= lim.accel + tol
    # jerk checked numerically on the 1 ms grid: the finite difference of the acceleration
    jerk = np.diff(a) / DT
    assert np.abs(jerk).max() <= lim.jerk * (1 + 1e-6)
    # and velocity is the integral of acceleration (no hidden steps)
    assert np.abs(np.diff(v) - (a[1:] + a[:-1]) / 2 * DT).max() < 1e-6


@pytest.mark.parametrize("lim", LIMITS)
@pytest.mark.parametrize("distance", [0.02, 3.0, 27.0, -9.0])
def test_trip_ends_at_rest_on_the_target(lim, distance):
    _, p, v, a = profile(lim, distance)
    assert p[-1] == pytest.approx(distance, abs=1e-6)
    assert v[-1] == 0 and a[-1] == 0


def test_long_trip_cruises_at_rated_speed_and_short_trip_never_reaches_it():
    lim = LIMITS[0]
    _, _, v_long, _ = profile(lim, 27.0)
    _, _, v_short, _ = profile(lim, 3.0)
    assert v_long.max() == pytest.approx(lim.speed, abs=1e-9)
    assert v_short.max() < 0.95 * lim.speed


def test_short_trip_uses_the_fastest_profile_that_fits():
    """The peak speed of a short trip is the highest one whose stopping fits the distance."""
    lim = LIMITS[1]
    _, p, v, _ = profile(lim, 3.0)
    vp = v.max()
    needed = change_distance(0, vp, lim.accel, lim.jerk) + change_distance(vp, 0, lim.accel,
                                                                          lim.jerk)
    assert needed == pytest.approx(3.0, rel=1e-4)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.005, 60.0), st.sampled_from(LIMITS))
def test_any_distance_is_planned_within_limits(distance, lim):
    t, p, v, a = profile(lim, distance)
    assert np.abs(v).max() <= lim.speed + 1e-9
    assert np.abs(a).max() <= lim.accel + 1e-9
    assert p[-1] == pytest.approx(distance, abs=1e-6)
    assert np.all(np.diff(p) >= -1e-12)  # never backs up


def test_model_trip_levels_at_the_called_floor():
    model = quiet_model()
    model.call(6)
    run_until(model, lambda r: r["car_state"] == "opening", 30)
    r = model.readings()
    assert r["floor"] == 6
    assert r["position_m"] == pytest.approx(15.0, abs=0.002)  # levelled within 2 mm
    assert r["door_zone_up"] and r["door_zone_down"]


def test_model_speed_register_respects_limits_through_a_trip():
    model = quiet_model()
    model.call(10)
    rows = sample(model, 25.0, dt=0.001)
    v = column(rows, "velocity_mps")
    assert v.max() == pytest.approx(1.75, abs=1e-6)
    assert np.abs(np.diff(v) / 0.001).max() <= 0.8 + 1e-3
    acc = column(rows, "acceleration_mps2")
    assert np.abs(np.diff(acc) / 0.001).max() <= 1.0 + 1e-3

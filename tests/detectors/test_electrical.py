"""Inverter features: the thermal model and the DC-link sag with its load."""

import math

import numpy as np
import pytest

from agent.detectors.electrical import fit_thermal, thermal_ratios, trip_features
from agent.detectors.trips import Trip


def _heatsink(r_scale=1.0, tau=400.0, seconds=6000, seed=0):
    """A duty cycle of trips; heatsink rise from the first-order model, losses a I + b I^2."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 0.5)
    cur = np.zeros_like(t)
    k = 0.0
    while k < seconds:
        start, dur = k + rng.uniform(5, 40), rng.uniform(5, 20)
        cur[(t >= start) & (t < start + dur)] = rng.uniform(10, 30)
        k = start + dur
    power = 0.6 * cur + 0.04 * cur**2
    rise = np.zeros_like(t)
    rise[0] = 3.0  # starts warm: the fit must not need the initial temperature
    for i in range(1, t.size):
        a = 1 - math.exp(-(t[i] - t[i - 1]) / tau)
        rise[i] = rise[i - 1] + a * (r_scale * power[i - 1] - rise[i - 1])
    return t, cur, rise


def test_thermal_fit_recovers_time_constant_and_gains():
    t, cur, rise = _heatsink()
    m = fit_thermal(t, cur, rise)
    assert m is not None
    assert m.tau_s == pytest.approx(400, rel=0.2)
    assert m.rms_residual_k < 0.1


@pytest.mark.parametrize("scale", [1.0, 1.3, 1.6])
def test_thermal_ratio_reads_the_change_of_thermal_resistance(scale):
    m = fit_thermal(*_heatsink())
    t, cur, rise = _heatsink(r_scale=scale, seed=1)
    r = thermal_ratios(t, cur, rise, m, np.array([3000.0, 6000.0]))
    assert r == pytest.approx([scale, scale], rel=0.05)


def test_thermal_ratio_is_nan_before_the_trace_holds_enough_heating():
    m = fit_thermal(*_heatsink())
    t, cur, rise = _heatsink(seed=2)
    assert math.isnan(thermal_ratios(t, cur, rise, m, np.array([1.0]))[0])


def test_short_or_idle_trace_gives_no_thermal_model():
    t = np.arange(0.0, 30.0, 0.5)
    assert fit_thermal(t, np.zeros_like(t), np.zeros_like(t)) is None


def _accelerating_trip(ripple_pp, sag=8.0, current=20.0, seed=0, top_speed=1.75):
    """Polls every ~0.1 s at random ripple phases: the bus sits `sag` below idle under load
    with a sawtooth ripple of `ripple_pp` below its (source) peak; the speed ramps to
    `top_speed` over the acceleration (5-7 s)."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.096, 0.104, 200))
    trip = Trip(5.0, 15.0, 1.75, {"acceleration": (5.0, 7.0)})
    on = (t >= 5.0) & (t <= 15.0)
    cur = np.where(on, current, 0.0)
    speed = np.clip((t - 5.0) / 2.0, 0.0, 1.0) * top_speed * on
    bus = 565.0 - np.where(on, sag + ripple_pp * rng.uniform(size=t.size), 0.0)
    return {"t": t, "current_a": cur, "dc_bus_v": np.round(bus, 1), "speed_mps": speed}, trip


@pytest.mark.parametrize("seed", range(5))
def test_sag_grows_with_the_ripple_at_the_same_load(seed):
    # C halved and ESR tripled about doubles the ripple per ampere (shared/REFERENCE.md 4)
    healthy = trip_features(*_accelerating_trip(20.0, seed=seed))
    aged = trip_features(*_accelerating_trip(40.0, seed=seed))
    assert aged["inverter.dc_sag_v"] / healthy["inverter.dc_sag_v"] == pytest.approx(
        48.0 / 28.0, rel=0.1)
    assert aged["inverter.load_a_mps"] == healthy["inverter.load_a_mps"]


def test_the_load_is_the_peak_of_current_times_speed_over_the_acceleration():
    # the DC link carries power (force x speed), so the load is taken at the acceleration's
    # end, where the car is fastest: 20 A x 1.75 m/s, not 20 A
    feats = trip_features(*_accelerating_trip(10.0))
    assert feats["inverter.load_a_mps"] == pytest.approx(20.0 * 1.75, rel=0.06)
    slow = trip_features(*_accelerating_trip(10.0, top_speed=1.0))
    assert slow["inverter.load_a_mps"] == pytest.approx(20.0, rel=0.06)


def test_a_trace_without_speed_gives_no_sag_feature():
    trace, trip = _accelerating_trip(10.0)
    del trace["speed_mps"]
    assert trip_features(trace, trip) == {}


def test_a_regenerating_acceleration_gives_no_sag_feature():
    trace, trip = _accelerating_trip(0.0, sag=-30.0)
    assert "inverter.dc_sag_v" not in trip_features(trace, trip)


def test_a_trace_shorter_than_two_time_constants_gives_no_thermal_model():
    # 600 s of a 400 s heatsink: gain, time constant and start temperature are confounded
    assert fit_thermal(*_heatsink(seconds=600)) is None
    assert fit_thermal(*_heatsink(seconds=2000)) is not None


def test_thermal_ratio_waits_for_one_time_constant_of_history():
    m = fit_thermal(*_heatsink())
    assert m is not None
    t, cur, rise = _heatsink(seed=3)
    r = thermal_ratios(t, cur, rise, m, np.array([0.5 * m.tau_s, 2 * m.tau_s]))
    assert math.isnan(r[0]) and r[1] == pytest.approx(1.0, rel=0.05)


def test_an_acceleration_that_turns_to_regenerating_gives_no_dip_feature():
    # a nearly balanced car: the bus sags 3 V as the drive starts, then the regenerated
    # energy lifts it well above idle before the plateau
    trace, trip = _accelerating_trip(0.0, sag=0.0)
    acc = (trace["t"] >= 5.0) & (trace["t"] <= 7.0)
    ramp = np.linspace(-3.0, 120.0, int(acc.sum()))
    trace["dc_bus_v"] = trace["dc_bus_v"].copy()
    trace["dc_bus_v"][acc] = 565.0 + ramp
    assert "inverter.dc_sag_v" not in trip_features(trace, trip)

"""Heatsink: temperature rise per I^2 grows with thermal ageing and with a failed fan; E14."""

import numpy as np
import pytest

from drivers.sim.params import ThermalParams
from drivers.sim.thermal import Heatsink
from tests.sim.helpers import column, quiet_model, sample


def steady_rise_per_i2(ageing=0.0, fan_failed=False, current=20.0):
    sink = Heatsink(ThermalParams(time_constant_s=20.0))
    sink.ageing, sink.fan_failed = ageing, fan_failed
    for _ in range(20000):
        sink.step(0.05, current, fan_commanded=True)
    return (sink.temp_c - sink.ambient_c) / current**2


def test_rise_per_i2_grows_with_thermal_ageing():
    rises = [steady_rise_per_i2(ageing=a) for a in (0.0, 0.5, 1.0)]
    assert rises[0] < rises[1] < rises[2]
    assert rises[2] / rises[0] == pytest.approx(1 + ThermalParams().ageing_rth_gain, rel=1e-3)


def test_rise_per_i2_grows_with_fan_failure():
    assert steady_rise_per_i2(fan_failed=True) > 1.5 * steady_rise_per_i2()


def test_steady_rise_is_losses_through_rth():
    tp = ThermalParams()
    rise = steady_rise_per_i2() * 20.0**2
    losses = tp.loss_w_per_a * 20 + tp.loss_w_per_a2 * 400
    assert rise == pytest.approx(tp.rth_fan_k_per_w * losses, rel=1e-3)


def traffic_rise(*faults):
    model = quiet_model(("traffic.random_calls=true", "traffic.calls_per_minute=6",
                         "thermal.time_constant_s=40"), seed=5)
    for name, value in faults:
        model.inject(name, value)
    rows = sample(model, 240.0, dt=0.5)
    i2 = np.mean(column(rows, "current_a") ** 2)
    heat = column(rows, "heatsink_c") - column(rows, "ambient_c")
    return heat[-120:].mean() / i2


def test_heatsink_register_rise_per_i2_grows_with_ageing_and_fan_failure_in_traffic():
    healthy = traffic_rise()
    aged = traffic_rise(("thermal_ageing", 1.0))
    no_fan = traffic_rise(("fan_failure", True))
    assert healthy < aged
    assert healthy < no_fan


def test_module_overheat_trips_e14_and_stops_the_lift():
    model = quiet_model(("traffic.random_calls=true", "traffic.calls_per_minute=20",
                         "thermal.ambient_c=60", "thermal.time_constant_s=20",
                         "thermal.trip_c=70"), seed=2)
    model.inject("fan_failure", True)
    model.inject("thermal_ageing", 1.0)
    hottest = 0.0
    for _ in range(1200):
        model.advance(0.5)
        hottest = max(hottest, model.readings()["heatsink_c"])
        if model.readings()["fault_code"]:
            break
    r = model.readings()
    assert r["fault_code"] == 14 and r["mode"] == "fault"
    assert hottest > 69.5  # read every 0.5 s: the module cools as soon as the drive stops
    rows = sample(model, 3.0, dt=0.1)
    assert rows[-1]["speed_mps"] == 0 and not rows[-1]["run_contactor"]

"""Drive electrics: output frequency, and DC-link dips and ripple per ampere vs C and ESR."""

import math

import numpy as np
import pytest

from drivers.sim.electrical import DcLink
from drivers.sim.params import ElectricalParams
from tests.sim.helpers import column, quiet_model, run_until, sample


def test_output_frequency_follows_speed_through_sheave_roping_and_poles():
    model = quiet_model(("lift.motor_pole_pairs=12",))
    model.call(10)
    run_until(model, lambda r: r["speed_mps"] == pytest.approx(1.75), 20)
    r = model.readings()
    lift = model.params.lift
    expected = 12 * 1.75 * lift.roping / (math.pi * lift.sheave_diameter_m)
    assert r["output_hz"] == pytest.approx(expected, rel=1e-9)


def dip_per_amp(c_scale, esr_scale, step_a=15.0):
    """Deepest instantaneous bus voltage after a current step (pre-torque), per ampere."""
    link = DcLink(ElectricalParams(), c_scale, esr_scale)
    for _ in range(200):
        link.step(1e-3, 0.0)
    v0 = link.v_bus
    low = v0
    for k in range(300):
        link.step(1e-3, step_a * link.v_bus)
        # what the controller's ADC can catch within this millisecond
        low = min(low, min(link.instantaneous(k * 1e-3 + x * 1e-4) for x in range(10)))
    return (v0 - low) / step_a


AGEING = [(1.0, 1.0), (0.8, 1.0), (0.5, 1.0), (1.0, 2.0), (1.0, 3.0), (0.5, 3.0)]


@pytest.mark.parametrize("better, worse", [(AGEING[0], AGEING[i]) for i in range(1, 6)])
def test_dc_dip_per_ampere_grows_as_capacitance_falls_and_esr_rises(better, worse):
    assert dip_per_amp(*worse) > dip_per_amp(*better)


def test_dc_ripple_per_ampere_grows_as_capacitance_falls_and_esr_rises():
    def ripple_per_amp(c, esr):
        link = DcLink(ElectricalParams(), c, esr)
        for _ in range(500):
            link.step(1e-3, 20.0 * link.v_bus)
        t = np.arange(0, 0.02, 1e-5)  # sample the waveform finely over one mains period
        v = np.array([link.instantaneous(x) for x in t])
        return (v.max() - v.min()) / link.i_source

    values = [ripple_per_amp(c, e) for c, e in AGEING]
    assert values[2] > values[1] > values[0]
    assert values[4] > values[3] > values[0]
    ep = ElectricalParams()
    expected = 1 / (6 * ep.mains_hz * ep.dc_capacitance_f) + ep.charge_pulse_factor * ep.dc_esr_ohm
    assert values[0] == pytest.approx(expected, rel=0.01)


def trip_bus_figures(ageing):
    """Dip and ripple per ampere seen in the dc_bus_v register through a loaded up trip."""
    model = quiet_model(script=[(0.0, 1, 10)] * 12)
    if ageing:
        model.inject("capacitor_ageing", ageing)
    run_until(model, lambda r: r["occupants"] == 12 and r["car_state"] == "closed", 60)
    idle = model.readings()["dc_bus_v"]
    rows = sample(model, 14.0, dt=0.0007)  # not a divisor of the ripple period: spreads phase
    v = column(rows, "dc_bus_v")
    i = column(rows, "current_a")
    return (idle - v.min()) / i.max(), column(rows, "dc_ripple_v").max() / i.max()


def test_capacitor_ageing_deepens_dips_and_ripple_in_the_bus_register():
    fresh, half, old = (trip_bus_figures(a) for a in (0.0, 0.5, 1.0))
    assert fresh[0] < half[0] < old[0]
    assert fresh[1] < half[1] < old[1]


def test_capacitor_ageing_maps_to_documented_c_and_esr():
    model = quiet_model()
    model.inject("capacitor_ageing", 1.0)
    r = model.readings()
    ep = model.params.electrical
    assert r["dc_capacitance_f"] == pytest.approx(0.5 * ep.dc_capacitance_f)
    assert r["dc_esr_ohm"] == pytest.approx(3.0 * ep.dc_esr_ohm)


def test_regeneration_raises_the_bus_to_the_chopper_threshold():
    model = quiet_model()  # empty car up: the counterweight drives the motor
    model.call(10)
    rows = sample(model, 15.0, dt=0.01)
    peak = column(rows, "dc_bus_v").max()
    chopper = model.params.electrical.chopper_on_v
    assert chopper - 5 < peak < chopper + 15


def test_bus_discharges_faster_at_power_off_with_aged_capacitors():
    """Energy in C over a constant standby load: the discharge time scales with C, which some
    drives use to estimate the capacitance (REFERENCE 4)."""

    def discharge_time(ageing):
        model = quiet_model()
        if ageing:
            model.inject("capacitor_ageing", ageing)
        model.advance(1.0)
        model.inject("power_loss")
        start = model.t
        run_until(model, lambda r: r["dc_bus_v"] < 450.0, 60, dt=0.005)
        return model.t - start

    fresh, old = discharge_time(0.0), discharge_time(1.0)
    assert old == pytest.approx(0.5 * fresh, rel=0.05)

"""Injected faults change the registers the way a NICE3000+ would; bad injections are refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.sim.faults import FAULTS, FaultError, validate
from tests.sim.helpers import quiet_model, registers, run_until


def running_model(floor=10, overrides=()):
    model = quiet_model(overrides)
    model.call(floor)
    run_until(model, lambda r: r["speed_mps"] > 1.0, 20)
    return model


def settle(model, seconds=5.0):
    for _ in range(int(seconds / 0.05)):
        model.advance(0.05)
    return registers(model)


def test_catalogue_lists_every_fault_of_the_issue():
    names = {"rope_wear", "sheave_wear", "bearing_wear", "capacitor_ageing", "fan_failure",
             "thermal_ageing", "trapped", "door_open_while_running", "overspeed", "top_overrun",
             "bottom_overrun", "safety_circuit_open", "door_fault", "controller_fault",
             "power_loss", "controller_unplugged", "bus_noise"}
    assert names <= set(FAULTS)
    assert all(spec.help and spec.range_text for spec in FAULTS.values())


def test_safety_circuit_open_stops_the_car_with_e41():
    model = running_model()
    model.inject("safety_circuit_open")
    regs = settle(model)
    assert regs["fault_code"] == 41 and regs["mode"] == "fault"
    assert not regs["safety_circuit_ok"]
    # the door-lock circuits are downstream in the same chain: they lose voltage too
    assert not regs["hall_door_lock_ok"] and not regs["car_door_lock_ok"]
    assert regs["speed_mps"] == 0 and regs["direction"] == 3
    assert not regs["run_contactor"] and not regs["brake_contactor"]
    assert regs["car_state"] == "stopped"


def test_clearing_a_fault_resets_the_controller_and_recovers_the_car():
    model = running_model()
    model.inject("safety_circuit_open")
    settle(model)
    model.clear("safety_circuit_open")
    run_until(model, lambda r: r["door_open"], 60)
    regs = registers(model)
    assert regs["fault_code"] == 0 and regs["mode"] == "automatic"
    assert regs["door_zone_up"] and regs["door_zone_down"]


def test_controller_fault_shows_the_number_and_stops():
    model = running_model()
    model.inject("controller_fault", "E20")
    regs = settle(model)
    assert regs["fault_code"] == 20 and regs["mode"] == "fault" and regs["speed_mps"] == 0


def test_door_open_while_running_loses_the_car_door_lock_with_e42():
    model = running_model()
    model.inject("door_open_while_running")
    model.advance(0.05)
    regs = registers(model)
    assert regs["fault_code"] == 42 and not regs["car_door_lock_ok"] and not regs["door_lock"]
    assert regs["speed_mps"] > 0.5  # caught while the car is still braking
    assert settle(model)["speed_mps"] == 0


def test_overspeed_runs_past_rated_speed_and_trips_e56():
    model = quiet_model()
    model.inject("overspeed", 1.4)
    model.call(10)
    top = 0.0
    for _ in range(600):
        model.advance(0.02)
        regs = registers(model)
        top = max(top, regs["speed_mps"])
        if regs["fault_code"]:
            break
    assert regs["fault_code"] == 56 and regs["mode"] == "fault"
    assert top > 1.15 * 1.75 - 0.01
    assert settle(model)["speed_mps"] == 0


@pytest.mark.parametrize("name, limit, final, code", [
    ("top_overrun", "up_limit", "up_final_limit", 43),
    ("bottom_overrun", "down_limit", "down_final_limit", 44),
])
def test_overrun_reaches_the_limits_and_opens_the_safety_chain(name, limit, final, code):
    model = quiet_model()
    if name == "bottom_overrun":
        model.call(3)
        run_until(model, lambda r: r["car_state"] == "idle" and r["floor"] == 3, 60)
    model.inject(name)
    regs = settle(model, 30.0)
    assert regs[limit] and regs[final] and not regs["safety_circuit_ok"]
    assert regs["fault_code"] == code and regs["mode"] == "fault"
    r = model.readings()
    if name == "top_overrun":
        assert r["position_m"] > 27.0 + model.params.lift.final_limit_offset_m
    else:
        assert r["position_m"] < -model.params.lift.final_limit_offset_m
        assert regs["position_m"] == 0  # the unsigned register saturates below the pit level


def test_trapped_between_floors_stops_outside_the_door_zone_with_an_occupant():
    model = quiet_model()
    model.inject("trapped", "between_floors")
    regs = settle(model, 20.0)
    r = model.readings()
    assert regs["speed_mps"] == 0 and regs["car_state"] == "stopped"
    assert not regs["door_zone_up"] and not regs["door_zone_down"]
    assert regs["door_close_limit"] and regs["car_door_lock_ok"]
    assert r["occupied"] and regs["fault_code"] == 0  # the controller shows no fault


def test_trapped_at_floor_keeps_doors_shut_with_an_occupant():
    model = quiet_model()
    model.inject("trapped", "at_floor")
    model.call(4)
    rows = [settle(model, 1.0) for _ in range(40)]
    assert all(r["door_close_limit"] for r in rows)
    assert rows[-1]["door_zone_up"] and rows[-1]["speed_mps"] == 0
    assert model.readings()["occupied"]


@pytest.mark.parametrize("which, code, shut", [("open", 48, True), ("close", 49, False)])
def test_door_fault_raises_e48_or_e49_after_the_time_limit(which, code, shut):
    model = quiet_model()
    model.inject("door_fault", which)
    model.call(2)
    regs = settle(model, 40.0)
    assert regs["fault_code"] == code and regs["mode"] == "fault"
    assert regs["door_close_limit"] is shut


def test_power_loss_sags_the_bus_raises_e09_then_the_controller_dies():
    model = running_model()
    model.inject("power_loss")
    seen = []
    for _ in range(400):
        model.advance(0.05)
        r = model.readings()
        seen.append((r["dc_bus_v"], r["fault_code"], r["controller_powered"]))
        if not r["controller_powered"]:
            break
    assert any(code == 9 and powered for _, code, powered in seen)
    assert seen[-1][0] < model.params.electrical.control_dropout_v and not seen[-1][2]
    assert model.readings()["speed_mps"] == 0
    model.clear("power_loss")
    run_until(model, lambda r: r["controller_powered"] and r["fault_code"] == 0, 30)


def test_fan_failure_slows_the_fan_and_lowers_its_blade_pass_tone():
    def fan_tone(fail):
        model = quiet_model(("thermal.fan_after_run_s=600",), synthesize=True)
        model.call(2)
        if fail:
            model.inject("fan_failure", True)
        model.advance(20.0)
        model.drain_blocks()
        model.advance(2.0)
        p = np.concatenate([b.data[:, 0] for b in model.drain_blocks() if b.stream == "audio"])
        mag = np.abs(np.fft.rfft(p * np.hanning(len(p))))
        freqs = np.fft.rfftfreq(len(p), 1 / 16000)
        band = (freqs > 50) & (freqs < 600)
        return freqs[band][np.argmax(mag[band])], model.readings()

    healthy, r0 = fan_tone(False)
    failed, r1 = fan_tone(True)
    tp = r0  # both fans are commanded on
    assert r0["fan_output"] and r1["fan_output"] and tp
    assert healthy == pytest.approx(7 * 2800 / 60, abs=1.0)
    assert failed == pytest.approx(0.3 * 7 * 2800 / 60, abs=1.5)
    assert r1["rth_k_per_w"] > r0["rth_k_per_w"]


def test_bus_faults_are_recorded_for_the_served_mode_without_touching_the_physics():
    model = quiet_model()
    before = registers(model)
    model.inject("controller_unplugged")
    model.inject("bus_noise", 0.3)
    assert model.status()["faults"] == {"controller_unplugged": True, "bus_noise": 0.3}
    assert registers(model) == before


@pytest.mark.parametrize("name, value, fragment", [
    ("rope_wer", 0.5, "unknown fault 'rope_wer'"),
    ("rope_wear", 1.5, "rope_wear: level 1.5 is out of range 0..1"),
    ("rope_wear", "lots", "rope_wear: level 'lots' must be a number"),
    ("overspeed", 0.9, "overspeed: level 0.9 is out of range 1..1.6"),
    ("trapped", "roof", "trapped: value 'roof' must be one of between_floors|at_floor"),
    ("fan_failure", "maybe", "fan_failure: value 'maybe' must be true or false"),
    ("controller_fault", 99, "controller_fault: 99 is not in the profile's fault table"),
    ("controller_fault", "E1x", "controller_fault: 'E1x' is not a fault number"),
])
def test_bad_injection_raises_a_one_line_fault_error(name, value, fragment):
    model = quiet_model()
    with pytest.raises(FaultError) as info:
        model.inject(name, value)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert model.status()["faults"] == {}


def test_clearing_an_unknown_fault_raises():
    with pytest.raises(FaultError, match="unknown fault 'nope'"):
        quiet_model().clear("nope")


def test_after_an_overrun_is_cleared_the_car_creeps_back_to_the_top_floor():
    model = quiet_model()
    model.inject("top_overrun")
    settle(model, 30.0)
    model.clear("top_overrun")
    rows = []
    for _ in range(400):
        model.advance(0.05)
        rows.append(registers(model))
        if rows[-1]["door_open_limit"]:
            break
    assert max(r["speed_mps"] for r in rows) <= model.params.lift.inspection_speed_mps + 1e-6
    assert rows[-1]["floor"] == 10 and rows[-1]["fault_code"] == 0
    assert model.readings()["position_m"] == pytest.approx(27.0, abs=0.002)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([n for n, s in FAULTS.items() if s.kind in ("level", "factor")]),
       st.floats(allow_nan=True, allow_infinity=True))
def test_levels_are_accepted_exactly_inside_their_range(name, value):
    spec = FAULTS[name]
    if spec.min <= value <= spec.max:
        assert validate(name, value) == value
        assert validate(name, repr(value)) == value  # as typed on the command line
    else:
        with pytest.raises(FaultError, match=name):
            validate(name, value)

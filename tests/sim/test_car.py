"""Door cycles, passengers, calls, inspection, stop/start and determinism by seed."""

import numpy as np
import pytest

from agent.errors import InputError
from drivers.sim.calls import RandomCalls, ScriptedCalls
from drivers.sim.model import ElevatorModel
from drivers.sim.params import SimParams
from tests.sim.helpers import column, quiet_model, run_until, sample


def edges(rows, key):
    """Times at which a boolean reading turns on."""
    x = column(rows, key)
    t = column(rows, "t")
    return t[1:][(x[1:] > 0) & (x[:-1] == 0)]


def test_door_cycle_follows_configured_times():
    model = quiet_model(("lift.door_open_s=2.0", "lift.door_hold_s=4.0", "lift.door_close_s=3.0"))
    model.call(3)
    rows = sample(model, 30.0, dt=0.01)
    opening = edges(rows, "door_open_cmd")[0]
    open_limit = edges(rows, "door_open_limit")[0]
    closing = edges(rows, "door_close_cmd")[0]
    closed = [r["t"] for r in rows if r["t"] > closing and r["door_close_limit"]][0]
    assert open_limit - opening == pytest.approx(2.0, abs=0.03)
    assert closing - open_limit == pytest.approx(4.0, abs=0.03)
    assert closed - closing == pytest.approx(3.0, abs=0.03)


def test_doors_open_only_at_rest_in_the_door_zone():
    model = quiet_model()
    model.call(4)
    rows = sample(model, 25.0)
    for r in rows:
        if r["door_open"]:
            assert r["speed_mps"] == 0 and r["door_zone_up"] and r["door_zone_down"]
        if r["speed_mps"] > 0:
            assert r["car_door_lock_ok"] and r["hall_door_lock_ok"] and r["door_lock"]


def test_passengers_board_and_alight_changing_the_load():
    model = quiet_model(script=[(0.0, 1, 3), (0.0, 1, 3)])
    t_full = run_until(model, lambda r: r["occupants"] == 2, 20)
    r = model.readings()
    assert r["load_pct"] == pytest.approx(15.0)  # 2 x 75 kg of a 1000 kg rated load
    assert r["floor"] == 1
    run_until(model, lambda r: r["occupants"] == 0, 40)
    r = model.readings()
    assert r["floor"] == 3 and r["load_pct"] == 0
    assert model.t > t_full


def test_loaded_car_draws_more_current_up_than_empty_car():
    def cruise_current(script):
        model = quiet_model(script=script)
        run_until(model, lambda r: r["occupants"] > 0, 30)
        model.call(10)
        rows = sample(model, 25.0, dt=0.05)
        cruising = [r for r in rows if r["speed_mps"] == pytest.approx(1.75)]
        return np.mean([r["torque_nm"] for r in cruising])

    light = cruise_current([(0.0, 1, 10)])
    heavy = cruise_current([(0.0, 1, 10)] * 12)
    # empty car is lighter than the counterweight: the motor brakes (negative torque)
    assert light < 0 < heavy


def test_scripted_calls_are_validated():
    with pytest.raises(InputError, match="entry 0"):
        ScriptedCalls([(0.0, 1, 11)], floors=10)
    with pytest.raises(InputError, match="entry 1"):
        ScriptedCalls([(0.0, 1, 2), (1.0, 2, 2)], floors=10)


def test_random_calls_are_seeded_and_have_the_configured_rate():
    a = RandomCalls(10, 6.0, 0.5, np.random.default_rng(3)).due(3600.0)
    b = RandomCalls(10, 6.0, 0.5, np.random.default_rng(3)).due(3600.0)
    assert a == b
    assert 300 < len(a) < 420  # Poisson, 360 expected per hour
    assert all(x.origin != x.destination for x in a)


def test_call_outside_the_building_is_refused():
    model = quiet_model()
    with pytest.raises(InputError, match="floor 11"):
        model.call(11)


def test_inspection_mode_drives_slowly_with_doors_shut():
    model = quiet_model()
    model.set_inspection(True)
    model.call(3)
    rows = sample(model, 30.0, dt=0.05)
    assert max(r["speed_mps"] for r in rows) == pytest.approx(0.3, abs=1e-6)
    assert all(r["mode"] == "inspection" and r["inspection_input"] for r in rows)
    assert not any(r["door_open"] for r in rows)
    assert rows[-1]["floor"] == 3


def test_stopped_lift_serves_no_calls_until_started():
    model = quiet_model()
    model.set_running(False)
    model.call(5)
    rows = sample(model, 10.0, dt=0.1)
    assert all(r["speed_mps"] == 0 for r in rows) and rows[-1]["mode"] == "parking"
    model.set_running(True)
    run_until(model, lambda r: r["floor"] == 5 and r["door_open"], 30)


def test_same_seed_gives_the_same_run_and_another_seed_differs():
    def run(seed):
        model = ElevatorModel(SimParams(), seed=seed)
        rows = sample(model, 40.0, dt=0.5)
        blocks = model.drain_blocks()
        return rows, np.concatenate([b.data for b in blocks if b.stream == "accel"])

    rows1, acc1 = run(7)
    rows2, acc2 = run(7)
    rows3, acc3 = run(8)
    assert rows1 == rows2 and np.array_equal(acc1, acc2)
    assert rows1 != rows3 and not np.array_equal(acc1, acc3)


def test_light_curtain_is_interrupted_while_each_passenger_crosses():
    model = quiet_model(script=[(0.0, 1, 2), (0.0, 1, 2), (0.0, 1, 2)])
    rows = sample(model, 12.0, dt=0.05)
    starts = edges(rows, "light_curtain_front")
    assert len(starts) == 3  # one interruption per person boarding
    assert np.all(np.diff(starts) == pytest.approx(model.params.lift.boarding_s, abs=0.02))


@pytest.mark.parametrize("dt", [-0.001, float("nan"), float("inf"), "1"])
def test_advance_refuses_a_bad_time_step(dt):
    with pytest.raises(InputError, match="advance: dt"):
        quiet_model().advance(dt)

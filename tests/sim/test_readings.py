"""Readings carry every name of the NICE3000+ profile and survive the register round trip."""

import pytest

from tests.sim.helpers import PROFILE, quiet_model, run_until


def test_readings_name_every_field_and_bit_of_the_profile():
    readings = quiet_model().readings()
    words = {f.name for f in PROFILE.fields if f.type == "bits"}  # composed from their bits
    missing = set(PROFILE.readings()) - words - set(readings)
    assert not missing


def test_register_round_trip_keeps_values_within_one_count():
    model = quiet_model(script=[(0.0, 1, 9)] * 5)
    run_until(model, lambda r: r["speed_mps"] > 1.0, 40)
    readings = model.readings()
    decoded = PROFILE.decode(PROFILE.encode(readings))
    for f in PROFILE.fields:
        if f.type == "bits":
            for b in f.bits:
                assert decoded[b.name] == readings[b.name], b.name
        else:
            assert decoded[f.name] == pytest.approx(readings[f.name], abs=f.scale / 2 + 1e-9)
    assert decoded["car_state"] == "running" and decoded["direction"] == 1
    assert decoded["speed_mps"] > 1.0 and decoded["current_a"] > 0


def test_status_is_a_compact_live_view():
    model = quiet_model()
    model.call(3)
    run_until(model, lambda r: r["door_open"], 30)
    status = model.status()
    assert status["floor"] == 3 and status["door"] in ("open", "opening")
    assert status["mode"] == "automatic" and status["faults"] == {}
    assert {"position_m", "speed_mps", "direction", "car_state", "load_pct", "occupants",
            "trips", "fault_code"} <= set(status)

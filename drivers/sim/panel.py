"""What the controller shows: canonical readings from the model's state, and a live status.

The reading names are the field and bit names of drivers/profiles/nice3000plus.toml, so
`load_profile("nice3000plus").encode(model.readings())` is the register image the served
slave answers with. Values are the truth the controller would display; the register encoding
(scale, saturation of negative positions to 0) is the profile's job. Extra keys (ambient_c,
occupied, dc_ripple_v, ...) are ground truth for tests and labelled data sets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drivers.sim.electrical import imbalance_torque
from drivers.sim.kinematics import change_distance

if TYPE_CHECKING:
    from drivers.sim.model import ElevatorModel

FULL_LOAD_PCT = 80.0  # full-load bypass: the car stops taking hall calls
OVERLOAD_PCT = 110.0  # EN 81-20 5.12.1.2: overload detected at rated load + 10 %


def controller_readings(m: ElevatorModel) -> dict[str, Any]:
    car, lift = m.car, m.params.lift
    t = m.t
    p, v, a = car.motion.scalar(t)
    top = car.level(lift.floors)
    final = car.final_limit(p)
    safety_ok = not m.faults.get("safety_circuit_open") and not final
    door_shut = car.door_pos <= 0.0
    near = car.nearest_floor(p)
    offset = p - car.level(near)
    zone = lift.door_zone_m
    car_lock = safety_ok and door_shut and not car.lock_lost
    # the landing door at the car's floor opens with the car door; elsewhere it stays locked
    hall_lock = safety_ok and (door_shut or car.lock_lost or not car.in_door_zone(p))
    load_pct = 100.0 * car.load_kg / lift.rated_load_kg
    moving = abs(v) > 1e-3
    if car.fault_code:
        mode = "fault"
    elif car.inspection:
        mode = "inspection"
    elif not car.in_service:
        mode = "parking"
    else:
        mode = "automatic"
    rated_torque = lift.motor_rated_torque_nm
    return {
        "speed_mps": abs(v),
        "rated_speed_mps": lift.rated_speed_mps,
        "dc_bus_v": m.dc.instantaneous(t),
        "current_a": m.drive.current_a,
        "output_hz": m.drive.output_hz,
        "door_zone_up": abs(offset - 0.01) <= zone,  # two sensors 20 mm apart on the car
        "door_zone_down": abs(offset + 0.01) <= zone,
        "inspection_input": car.inspection,
        "up_limit": p > top + lift.limit_offset_m,
        "down_limit": p < -lift.limit_offset_m,
        "up_final_limit": p > top + lift.final_limit_offset_m,
        "down_final_limit": p < -lift.final_limit_offset_m,
        "safety_circuit_ok": safety_ok,
        "hall_door_lock_ok": hall_lock,
        "car_door_lock_ok": car_lock,
        "run_contactor": car.run_contactor,
        "brake_contactor": car.brake_contactor,
        "fan_output": m.fan_output,
        "floor": near,
        "position_m": p,
        "load_pct": load_pct,
        "light_curtain_front": car.light_curtain,
        "light_curtain_rear": False,
        "door_open_limit": car.door_pos >= 1.0,
        "door_close_limit": door_shut,
        "full_load_input": load_pct >= FULL_LOAD_PCT,
        "overload_input": load_pct >= OVERLOAD_PCT,
        "door_open_cmd": car.phase == "opening",
        "door_close_cmd": car.phase == "closing",
        "door_lock": car_lock and hall_lock,
        "mode": mode,
        "car_state": car.car_state(v),
        "full_load": load_pct >= FULL_LOAD_PCT,
        "overload": load_pct >= OVERLOAD_PCT,
        "pretorque_pct": 100.0 * imbalance_torque(lift, car.load_kg) / rated_torque,
        "decel_distance_m": change_distance(abs(v), 0.0, lift.accel_mps2, lift.jerk_mps3)
        if moving else 0.0,
        "heatsink_c": m.heatsink.temp_c,
        "direction": (1 if v > 0 else 2) if moving else 3,
        "fault_code": car.fault_code,
        # ground truth beyond the register map
        "t": t,
        "velocity_mps": v,
        "acceleration_mps2": a,
        "ambient_c": m.heatsink.ambient_c,
        "occupants": len(car.riders),
        "occupied": bool(car.riders),
        "load_kg": car.load_kg,
        "door_position": car.door_pos,
        "door_open": not door_shut,
        "dc_bus_mean_v": m.dc.v_bus - m.dc.ripple_pp() / 2,
        "dc_ripple_v": m.dc.ripple_pp(),
        "dc_capacitance_f": m.dc.capacitance,
        "dc_esr_ohm": m.dc.esr,
        "torque_nm": m.drive.torque_nm,
        "heatsink_loss_w": m.heatsink.loss_w,
        "rth_k_per_w": m.heatsink.rth(),
        "fan_speed": m.heatsink.fan_speed,
        "mains_on": m.dc.mains_on,
        "controller_powered": m.controller_powered,
        "trips": car.trips,
        "phase": car.phase,
    }


def live_status(m: ElevatorModel) -> dict[str, Any]:
    car = m.car
    p, v, _ = car.motion.scalar(m.t)
    if car.door_pos <= 0:
        door = "closed"
    elif car.phase == "opening":
        door = "opening"
    elif car.phase == "closing":
        door = "closing"
    else:
        door = "open" if car.door_pos >= 1 else "ajar"
    info = m.profile.faults.get(car.fault_code)
    return {
        "t": round(m.t, 3),
        "floor": car.nearest_floor(p),
        "position_m": round(p, 3),
        "speed_mps": round(abs(v), 3),
        "direction": "up" if v > 1e-3 else "down" if v < -1e-3 else "stop",
        "door": door,
        "car_state": car.car_state(v),
        "mode": controller_readings(m)["mode"],
        "load_pct": round(100.0 * car.load_kg / m.params.lift.rated_load_kg, 1),
        "occupants": len(car.riders),
        "waiting": sum(len(w) for w in car.waiting.values()),
        "trips": car.trips,
        "fault_code": car.fault_code,
        "fault": f"{info.code} {info.text}" if info else ("" if not car.fault_code
                                                          else f"E{car.fault_code:02d}"),
        "faults": dict(m.faults),
        "controller_powered": m.controller_powered,
    }

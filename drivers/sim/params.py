"""Parameters of the virtual elevator: frozen dataclasses with units in their names.

Defaults describe one plausible machine-room-less traction lift: 1000 kg / 13 persons,
1.75 m/s, 2:1 roping on a 400 mm gearless sheave, an 11 kW integrated controller on 400 V
mains. The [lift] defaults agree with agent/config_schema.py so the agent and the sim describe
the same lift out of the box.

`SimParams.from_mapping({"lift": {...}, ...})` and `SimParams.with_overrides(["lift.x=1"])`
validate every key and range and raise `InputError` naming the dotted key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from agent.errors import InputError


def _p(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    """A parameter with its allowed range (checked by SimParams) and its meaning."""
    return field(default=default, metadata={"min": lo, "max": hi, "doc": doc})


@dataclass(frozen=True)
class LiftParams:
    floors: int = _p(10, 2, 200, "number of landings")
    floor_height_m: float = _p(3.0, 2.0, 20.0, "distance between landings")
    rated_speed_mps: float = _p(1.75, 0.1, 12.0, "contract speed of the car")
    accel_mps2: float = _p(0.8, 0.1, 2.0, "acceleration limit of the speed profile")
    jerk_mps3: float = _p(1.0, 0.1, 5.0, "jerk limit of the speed profile")
    levelling_speed_mps: float = _p(0.06, 0.01, 0.3, "creep speed for the last levelling stretch")
    levelling_distance_m: float = _p(0.03, 0.0, 0.3, "length of the creep stretch")
    inspection_speed_mps: float = _p(0.3, 0.05, 0.63, "EN 81-20 5.12.1.5: at most 0.63 m/s")
    roping: int = _p(2, 1, 4, "roping ratio (2 for 2:1)")
    sheave_diameter_m: float = _p(0.40, 0.1, 2.0, "traction sheave pitch diameter")
    rope_strands: int = _p(8, 3, 36, "outer strands per rope")
    rope_lay_length_m: float = _p(0.065, 0.01, 0.5, "strand lay length")
    rated_load_kg: float = _p(1000.0, 100.0, 10000.0, "rated load (EN 81-20 table 6)")
    car_mass_kg: float = _p(1200.0, 100.0, 20000.0, "empty car incl. sling")
    counterweight_mass_kg: float = _p(1700.0, 100.0, 30000.0, "car + 50 % of rated load")
    passenger_mass_kg: float = _p(75.0, 30.0, 150.0, "EN 81-20 5.4.2: 75 kg per person")
    friction_n: float = _p(350.0, 0.0, 5000.0, "guide and rope-bending friction, car side")
    rotating_inertia_kg: float = _p(250.0, 0.0, 5000.0, "sheave, motor, pulleys as car-side mass")
    motor_pole_pairs: int = _p(10, 1, 40, "gearless PM motor")
    motor_torque_nm_per_a: float = _p(25.0, 1.0, 500.0, "torque constant Kt (rms)")
    motor_rated_torque_nm: float = _p(600.0, 10.0, 50000.0, "100 % for the pre-torque register")
    motor_magnetising_a: float = _p(2.5, 0.0, 50.0, "current drawn with zero torque while running")
    motor_resistance_ohm: float = _p(0.6, 0.0, 10.0, "phase resistance (copper loss)")
    door_open_s: float = _p(2.5, 0.5, 20.0, "door opening time")
    door_hold_s: float = _p(3.0, 0.5, 60.0, "door open hold time with nobody crossing")
    door_close_s: float = _p(3.0, 0.5, 20.0, "door closing time")
    door_fault_s: float = _p(8.0, 1.0, 60.0, "door operation time limit before E48/E49")
    boarding_s: float = _p(1.2, 0.1, 10.0, "time one passenger needs to cross the sill")
    brake_lift_s: float = _p(0.3, 0.0, 2.0, "pre-torque, then brake lift, before moving")
    brake_drop_s: float = _p(0.4, 0.0, 2.0, "brake closing after stop, then current off")
    door_zone_m: float = _p(0.10, 0.02, 0.5, "door zone half-width around a floor level")
    limit_offset_m: float = _p(0.05, 0.01, 0.5, "terminal limit switches past the end floors")
    final_limit_offset_m: float = _p(0.15, 0.02, 1.0, "final limit switches past the end floors")
    overrun_m: float = _p(0.35, 0.05, 2.0, "how far an injected overrun takes the car")
    overspeed_trip_ratio: float = _p(1.15, 1.0, 2.0, "controller overspeed trip (E56)")
    emergency_decel_mps2: float = _p(1.5, 0.2, 9.81, "brake stop deceleration")
    rail_length_m: float = _p(5.0, 1.0, 20.0, "guide rail section length (joint spacing)")


@dataclass(frozen=True)
class ElectricalParams:
    mains_v: float = _p(400.0, 100.0, 690.0, "line-line rms")
    mains_hz: float = _p(50.0, 40.0, 70.0, "mains frequency")
    source_resistance_ohm: float = _p(0.4, 0.0, 10.0, "mains, fuses, diodes (DC side)")
    source_inductance_h: float = _p(1.0e-3, 1.0e-5, 0.1, "mains reactance seen by the DC link")
    dc_capacitance_f: float = _p(1.8e-3, 1.0e-5, 0.1, "DC-link capacitor bank")
    dc_esr_ohm: float = _p(0.05, 0.001, 5.0, "capacitor bank ESR")
    charge_pulse_factor: float = _p(3.0, 1.0, 10.0, "peak/mean rectifier current (DCM)")
    standby_w: float = _p(40.0, 0.0, 1000.0, "control electronics load on the DC link")
    chopper_on_v: float = _p(700.0, 400.0, 1200.0, "braking chopper threshold")
    brake_resistor_ohm: float = _p(40.0, 1.0, 1000.0, "braking resistor")
    undervoltage_v: float = _p(380.0, 100.0, 900.0, "E09 threshold")
    control_dropout_v: float = _p(250.0, 50.0, 900.0, "switch-mode supply stops below this")
    switching_hz: float = _p(6000.0, 1000.0, 16000.0, "PWM carrier frequency")
    inverter_efficiency: float = _p(0.97, 0.5, 1.0, "motor power to DC power")


@dataclass(frozen=True)
class ThermalParams:
    ambient_c: float = _p(25.0, -40.0, 70.0, "machine room temperature")
    rth_fan_k_per_w: float = _p(0.10, 0.005, 5.0, "heatsink to air, fan running")
    rth_natural_k_per_w: float = _p(0.35, 0.01, 20.0, "heatsink to air, no airflow")
    time_constant_s: float = _p(600.0, 10.0, 10000.0, "heatsink thermal time constant")
    loss_w_per_a: float = _p(8.0, 0.0, 100.0, "IGBT/diode conduction+switching, linear term")
    loss_w_per_a2: float = _p(0.35, 0.0, 10.0, "IGBT/diode resistive term")
    trip_c: float = _p(85.0, 40.0, 150.0, "E14 module overheat")
    fan_on_c: float = _p(40.0, 0.0, 100.0, "fan runs above this even when idle")
    fan_after_run_s: float = _p(60.0, 0.0, 3600.0, "fan keeps running after a trip")
    fan_rpm: float = _p(2800.0, 500.0, 10000.0, "nominal fan speed")
    fan_blades: int = _p(7, 2, 20, "blade count (blade-pass tone)")
    failed_fan_speed_ratio: float = _p(0.3, 0.0, 1.0, "a failed fan's speed")
    ageing_rth_gain: float = _p(1.0, 0.0, 10.0, "R_th rises by this fraction at ageing 1")


@dataclass(frozen=True)
class SensorParams:
    accel_fs: int = _p(3200, 100, 32000, "accelerometer output data rate")
    audio_fs: int = _p(16000, 4000, 96000, "microphone sample rate")
    accel_noise_ug_rthz: float = _p(25.0, 0.0, 5000.0, "ADXL355 datasheet: 25 ug/sqrt(Hz)")
    audio_noise_pa: float = _p(2e-4, 0.0, 1.0, "microphone self-noise rms (~20 dB SPL)")
    mount: str = _p("car", doc="'car' (car roof) or 'machine' (machine bedplate)")
    tilt_deg: float = _p(0.0, 0.0, 45.0, "sensor tilt about its x axis")
    room_noise_dba: float = _p(48.0, 20.0, 90.0, "machine room background, idle")
    running_noise_dba: float = _p(66.0, 30.0, 100.0, "machine noise at rated speed")


@dataclass(frozen=True)
class TrafficParams:
    calls_per_minute: float = _p(2.0, 0.0, 60.0, "random passenger arrivals (Poisson)")
    lobby_fraction: float = _p(0.5, 0.0, 1.0, "share of trips that start or end at floor 1")
    random_calls: bool = _p(True, doc="generate random passengers")


SECTIONS = {
    "lift": LiftParams, "electrical": ElectricalParams, "thermal": ThermalParams,
    "sensor": SensorParams, "traffic": TrafficParams,
}


@dataclass(frozen=True)
class SimParams:
    lift: LiftParams = field(default_factory=LiftParams)
    electrical: ElectricalParams = field(default_factory=ElectricalParams)
    thermal: ThermalParams = field(default_factory=ThermalParams)
    sensor: SensorParams = field(default_factory=SensorParams)
    traffic: TrafficParams = field(default_factory=TrafficParams)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SimParams:
        """Build from {"section": {"key": value}}; unknown keys and bad values raise."""
        out = cls()
        for section, values in data.items():
            if section not in SECTIONS:
                raise InputError(f"sim: unknown parameter section {section!r} "
                                 f"(known: {', '.join(SECTIONS)})")
            if not isinstance(values, Mapping):
                raise InputError(f"sim: parameter section {section!r} must be a table")
            for key, value in values.items():
                out = out._set(f"{section}.{key}", value)
        return out

    def with_overrides(self, items: Iterable[str]) -> SimParams:
        """Apply "section.key=value" strings (from the command line)."""
        out = self
        for item in items:
            name, sep, text = item.partition("=")
            if not sep:
                raise InputError(f"sim: parameter {item!r} must look like section.key=value")
            out = out._set(name.strip(), _parse_text(text.strip()))
        return out

    def _set(self, dotted: str, value: Any) -> SimParams:
        section, _, key = dotted.partition(".")
        if section not in SECTIONS or not key:
            raise InputError(f"sim: unknown parameter {dotted!r}")
        group = getattr(self, section)
        spec = {f.name: f for f in fields(group)}.get(key)
        if spec is None:
            raise InputError(f"sim: unknown parameter {dotted!r}")
        new = replace(group, **{key: _coerce(dotted, spec, value)})
        _check_consistency(dotted, new)
        return replace(self, **{section: new})

    def flat(self) -> dict[str, Any]:
        """Every parameter as {"section.key": value}."""
        return {f"{s}.{k}": v for s in SECTIONS for k, v in
                dataclasses.asdict(getattr(self, s)).items()}


def _parse_text(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def _coerce(dotted: str, spec: dataclasses.Field[Any], value: Any) -> Any:
    default = spec.default
    lo, hi = spec.metadata.get("min"), spec.metadata.get("max")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InputError(f"sim: parameter {dotted} = {value!r} must be true or false")
        return value
    if isinstance(default, str):
        if dotted == "sensor.mount" and value not in ("car", "machine"):
            raise InputError(f"sim: parameter {dotted} = {value!r} must be 'car' or 'machine'")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"sim: parameter {dotted} = {value!r} must be a number")
    if isinstance(default, int):
        if float(value) != int(value):
            raise InputError(f"sim: parameter {dotted} = {value!r} must be a whole number")
        value = int(value)
    else:
        value = float(value)
    if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise InputError(f"sim: parameter {dotted} = {value!r} is out of range {lo}..{hi}")
    return value


def _check_consistency(dotted: str, group: Any) -> None:
    if isinstance(group, LiftParams) and group.levelling_speed_mps >= group.rated_speed_mps:
        raise InputError(f"sim: parameter {dotted}: levelling speed must be below rated speed")
    if isinstance(group, ThermalParams) and group.rth_natural_k_per_w < group.rth_fan_k_per_w:
        raise InputError(f"sim: parameter {dotted}: natural-convection R_th must be >= fan R_th")

"""Drive electrics: motor current from the force balance, and the DC link.

Motor side (gearless PM machine, all forces referred to the car):

    F = (m_car + m_load - m_cw) g + (m_car + m_load + m_cw + m_rot) a + F_friction sign(v)
    torque = F D / (2 roping)            (rope speed at the sheave = roping x car speed)
    I = sqrt((torque / Kt)^2 + I_d^2)    (I_d: magnetising/field-weakening share, running only)
    P_dc = (F v + 3 I^2 R) / eta  when motoring,  (F v + 3 I^2 R) x eta  when regenerating

DC link: an averaged six-pulse bridge (source = peak line voltage through R_s and L_s, diodes
block reverse current) feeding the capacitor bank C with its ESR; the inverter draws
P_dc / v. A current step (pre-torque, acceleration) therefore dips the bus by about
dI (sqrt(L_s/C) + ESR) before the source catches up, and regeneration charges the bus until
the braking chopper clamps it. On top of the averaged voltage sits the 300 Hz (6 x mains)
ripple of a drive without DC choke, where the capacitor alone feeds the inverter between
charging pulses: ripple_pp = I/(6 f C) + k I ESR, with k = peak/mean pulse current. So both
the dip and the ripple per ampere grow as C falls and ESR rises (REFERENCE 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivers.sim.params import ElectricalParams, LiftParams

G = 9.80665  # standard gravity, m/s^2 (ISO 80000-3)


@dataclass(frozen=True)
class DriveState:
    current_a: float
    torque_nm: float
    dc_power_w: float
    output_hz: float


def drive_state(lift: LiftParams, ep: ElectricalParams, load_kg: float, v: float, a: float,
                enabled: bool) -> DriveState:
    """Motor current and DC power at car speed v and acceleration a."""
    out_hz = lift.motor_pole_pairs * abs(v) * lift.roping / (math.pi * lift.sheave_diameter_m)
    if not enabled:
        return DriveState(0.0, 0.0, 0.0, 0.0)
    m_car = lift.car_mass_kg + load_kg
    force = ((m_car - lift.counterweight_mass_kg) * G
             + (m_car + lift.counterweight_mass_kg + lift.rotating_inertia_kg) * a
             + lift.friction_n * math.tanh(v / 0.01))
    torque = force * lift.sheave_diameter_m / (2 * lift.roping)
    i_q = torque / lift.motor_torque_nm_per_a
    i_d = lift.motor_magnetising_a if v != 0 else 0.0
    current = math.hypot(i_q, i_d)
    p = force * v + 3 * current * current * lift.motor_resistance_ohm
    p = p / ep.inverter_efficiency if p > 0 else p * ep.inverter_efficiency
    return DriveState(current, torque, p, out_hz)


def imbalance_torque(lift: LiftParams, load_kg: float) -> float:
    return ((lift.car_mass_kg + load_kg - lift.counterweight_mass_kg) * G
            * lift.sheave_diameter_m / (2 * lift.roping))


def _expm(m: np.ndarray) -> np.ndarray:
    """Matrix exponential by scaling and squaring with a Taylor series (small matrices)."""
    norm = float(np.abs(m).sum(axis=1).max())
    k = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    a = m / (2**k)
    out = np.eye(len(m))
    term = np.eye(len(m))
    for n in range(1, 18):
        term = term @ a / n
        out = out + term
    for _ in range(k):
        out = out @ out
    return out


class DcLink:
    """The DC-link voltage, stepped with an exact (zero-order-hold) discretisation."""

    def __init__(self, ep: ElectricalParams, c_scale: float = 1.0, esr_scale: float = 1.0):
        self.ep = ep
        self.v_source = math.sqrt(2) * ep.mains_v  # six-pulse bridge, no load: peak line voltage
        self.i_source = 0.0
        self.v_cap = self.v_source
        self.i_load = 0.0
        self.mains_on = True
        self.chopper_on = False
        self._coeffs: dict[float, tuple[float, ...]] = {}
        self.set_ageing(c_scale, esr_scale)

    def set_ageing(self, c_scale: float, esr_scale: float) -> None:
        self.capacitance = self.ep.dc_capacitance_f * c_scale
        self.esr = self.ep.dc_esr_ohm * esr_scale
        self._coeffs.clear()

    def _discrete(self, dt: float) -> tuple[float, ...]:
        c = self._coeffs.get(dt)
        if c is None:
            ep, cap, esr = self.ep, self.capacitance, self.esr
            lsrc = ep.source_inductance_h
            a = np.array([[-(ep.source_resistance_ohm + esr) / lsrc, -1 / lsrc], [1 / cap, 0.0]])
            b = np.array([[1 / lsrc, esr / lsrc], [0.0, -1 / cap]])
            aug = np.zeros((4, 4))
            aug[:2, :2], aug[:2, 2:] = a, b
            e = _expm(aug * dt)
            c = tuple(float(x) for x in (*e[:2, :2].ravel(), *e[:2, 2:].ravel()))
            self._coeffs[dt] = c
        return c

    @property
    def v_bus(self) -> float:
        """Averaged bus voltage at the capacitor terminals (ESR drop included)."""
        return self.v_cap + self.esr * (self.i_source - self.i_load)

    def step(self, dt: float, dc_power_w: float) -> None:
        """Advance by dt with the inverter drawing dc_power_w (negative: regenerating)."""
        ep = self.ep
        v = max(self.v_bus, 1.0)
        p = dc_power_w + (ep.standby_w if v > ep.control_dropout_v * 0.5 else 0.0)
        i_load = p / v
        # braking chopper with 20 V hysteresis dumps regenerated energy into the resistor
        if self.v_cap > ep.chopper_on_v:
            self.chopper_on = True
        elif self.v_cap < ep.chopper_on_v - 20:
            self.chopper_on = False
        if self.chopper_on:
            i_load += self.v_cap / ep.brake_resistor_ohm
        self.i_load = i_load
        vs = self.v_source if self.mains_on else 0.0
        a11, a12, a21, a22, b11, b12, b21, b22 = self._discrete(dt)
        i_new = a11 * self.i_source + a12 * self.v_cap + b11 * vs + b12 * i_load
        v_new = a21 * self.i_source + a22 * self.v_cap + b21 * vs + b22 * i_load
        if i_new < 0 or (i_new == 0 and vs < self.v_cap):
            # the bridge diodes block: the capacitor alone carries the load
            i_new = 0.0
            v_new = self.v_cap - i_load * dt / self.capacitance
        self.i_source, self.v_cap = i_new, max(0.0, v_new)

    def ripple_pp(self) -> float:
        """Peak-to-peak 6-pulse ripple while the bridge conducts (zero when it does not)."""
        i = max(0.0, self.i_source)
        ep = self.ep
        return i / (6 * ep.mains_hz * self.capacitance) + ep.charge_pulse_factor * i * self.esr

    def instantaneous(self, t: float) -> float:
        """Bus voltage at time t: the averaged value with the ripple waveform on top. The
        bridge charges the bank during 1/k of each 1/(6 f) period and the load discharges it
        linearly for the rest, so the peak sits at the averaged (source) value."""
        pp = self.ripple_pp()
        if pp <= 0:
            return self.v_bus
        k = self.ep.charge_pulse_factor
        ph = (6 * self.ep.mains_hz * t) % 1.0
        rise = 1.0 / k
        shape = ph / rise if ph < rise else 1.0 - (ph - rise) / (1.0 - rise)
        return self.v_bus - pp + pp * shape

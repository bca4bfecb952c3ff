"""Heatsink (power module) temperature and the cooling fan.

First-order thermal model: the module losses P = a I + b I^2 (IGBT/diode conduction and
switching: a linear on-state-voltage term and a resistive term) flow through the heatsink's
thermal resistance R_th to the machine-room air, with heat capacity C_th = tau / R_th(fan):

    C_th dT/dt = P - (T - T_ambient) / R_th

R_th depends on the airflow: with the fan at a fraction s of its speed,
1/R_th = 1/R_natural + (1/R_fan - 1/R_natural) s^0.8 (forced-convection heat transfer grows
as Re^0.8, Dittus-Boelter), so a stopped or failing fan raises R_th towards natural
convection. Thermal-path ageing (solder and grease degradation) multiplies R_th by
(1 + gain x level). Steady state: T - T_ambient = R_th P, so the temperature rise per I^2
grows with both.
"""

from __future__ import annotations

import math

from drivers.sim.params import ThermalParams

FAN_SPIN_TAU_S = 2.0  # rotor spin-up/down time constant of a small axial fan


class Heatsink:
    def __init__(self, tp: ThermalParams, ambient_c: float | None = None) -> None:
        self.tp = tp
        self.ambient_c = tp.ambient_c if ambient_c is None else ambient_c
        self.temp_c = self.ambient_c
        self.fan_speed = 0.0  # fraction of nominal rpm
        self.fan_failed = False
        self.ageing = 0.0
        self.heat_capacity = tp.time_constant_s / tp.rth_fan_k_per_w  # J/K
        self.loss_w = 0.0

    def losses(self, current_a: float) -> float:
        i = abs(current_a)
        return self.tp.loss_w_per_a * i + self.tp.loss_w_per_a2 * i * i

    def rth(self) -> float:
        tp = self.tp
        g_nat = 1.0 / tp.rth_natural_k_per_w
        g_fan = 1.0 / tp.rth_fan_k_per_w
        g = g_nat + (g_fan - g_nat) * self.fan_speed**0.8
        return (1.0 + tp.ageing_rth_gain * self.ageing) / g

    def step(self, dt: float, current_a: float, fan_commanded: bool) -> None:
        target = 0.0
        if fan_commanded:
            target = self.tp.failed_fan_speed_ratio if self.fan_failed else 1.0
        self.fan_speed += (target - self.fan_speed) * (1 - math.exp(-dt / FAN_SPIN_TAU_S))
        self.loss_w = self.losses(current_a)
        r = self.rth()
        steady = self.ambient_c + r * self.loss_w
        self.temp_c = steady + (self.temp_c - steady) * math.exp(-dt / (r * self.heat_capacity))

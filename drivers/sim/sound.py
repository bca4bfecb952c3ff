"""Sound pressure in the machine room (Pa), synthesised at the microphone rate.

- Inverter: the PWM carrier (magnetostriction of the motor and chokes) with sidebands at
  f_sw +/- 2 f_e, present while the drive is enabled and louder with current.
- Motor: torque-ripple tones at 6 f_e and 12 f_e of the electrical frequency
  f_e = pole_pairs x sheave rotation rate, proportional to current.
- Cooling fan: blade-pass tone (blades x rpm / 60) and harmonics plus broadband flow noise,
  both as speed^2.5 (fan sound power grows with the 5th power of speed): a failing fan that
  turns slower drops in pitch and level.
- Broadband: room background (idle) and machine/rope noise growing with car speed.
- Brake and contactor clicks from the controller's events; microphone self-noise.

Levels are set in dB SPL re 20 uPa so that a running lift lands at 60-80 dB(A) in the machine
room (GB/T 10058 limit 80 dB(A), REFERENCE 1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from drivers.sim.params import SimParams
from drivers.sim.synthesis import Convolver, Impulses, band_gain, damped_sine

F64 = npt.NDArray[np.float64]
P_REF = 20e-6  # Pa, reference sound pressure


def spl_to_pa(db: float) -> float:
    return P_REF * 10 ** (db / 20)


CARRIER_DB = 62.0  # PWM whistle at reference current
CURRENT_REF_A = 20.0
MOTOR_TONES = ((6, 60.0), (12, 54.0))  # (order of f_e, dB at reference current)
FAN_TONE_DB = 56.0  # blade pass, full speed
FAN_HARMONICS = (1.0, 0.4, 0.2)
FAN_NOISE_DB = 52.0
CLICKS = {"brake_lift": 0.3, "brake_drop": 0.45, "contactor": 0.15}  # Pa peak


class Sound:
    def __init__(self, params: SimParams, seed: np.random.SeedSequence) -> None:
        self.p = params
        # one generator per noise source, so blocks of any length join into the same stream
        self.rng_fan, self.rng_room, self.rng_machine, self.rng_mic = (
            np.random.default_rng(s) for s in seed.spawn(4))
        self.fs = float(params.sensor.audio_fs)
        # gentle low-pass: broadband machine noise falls off above a few kHz
        shape = np.array([0.25, 0.5, 0.25])
        self.room = Convolver(shape / np.linalg.norm(shape))
        self.machine = Convolver(shape / np.linalg.norm(shape))
        self.fan_noise = Convolver(shape / np.linalg.norm(shape))
        self.clicks = Impulses(damped_sine(self.fs, min(2200.0, 0.3 * self.fs), 0.04))
        self._fan_phase = 0.0

    def render(self, t: F64, pos: F64, vel: F64, current: F64, drive_on: F64, fan: F64,
               events: list[tuple[int, str]], faults: dict[str, Any]) -> npt.NDArray[np.float32]:
        """Samples at times t; events are (sample index within this block, kind)."""
        n, fs, lift, tp = len(t), self.fs, self.p.lift, self.p.thermal
        if n == 0:
            return np.zeros((0, 1), dtype=np.float32)
        ep, sp = self.p.electrical, self.p.sensor
        out = np.zeros(n)
        i_rel = current / CURRENT_REF_A
        # electrical angle in cycles: pole pairs x sheave revolutions
        elec_cyc = lift.motor_pole_pairs * pos * lift.roping / (math.pi * lift.sheave_diameter_m)
        f_e = np.abs(vel) * lift.motor_pole_pairs * lift.roping / (math.pi * lift.sheave_diameter_m)
        carrier_cyc = (t * ep.switching_hz) % 1.0
        on = drive_on * (0.3 + 0.7 * np.minimum(i_rel, 2.0))
        a = spl_to_pa(CARRIER_DB)
        out += a * on * band_gain(np.full(n, ep.switching_hz), fs) * np.sin(2 * np.pi * carrier_cyc)
        for s in (-1, 1):
            f_sb = ep.switching_hz + s * 2 * f_e
            ph = 2 * np.pi * (carrier_cyc + s * 2 * elec_cyc)
            out += 0.5 * a * on * band_gain(f_sb, fs) * np.sin(ph)
        for order, db in MOTOR_TONES:
            out += spl_to_pa(db) * i_rel * band_gain(order * f_e, fs) * np.sin(
                2 * np.pi * order * elec_cyc)

        # cooling fan: the rotor speed varies, so its phase is accumulated
        bpf = tp.fan_blades * tp.fan_rpm / 60.0 * fan
        cyc = self._fan_phase + np.cumsum(bpf) / fs
        self._fan_phase = float(cyc[-1] % 1.0)
        level = fan**2.5
        for k, rel in enumerate(FAN_HARMONICS, start=1):
            out += spl_to_pa(FAN_TONE_DB) * rel * level * band_gain(k * bpf, fs) * np.sin(
                2 * np.pi * k * cyc)
        out += self.fan_noise(self.rng_fan.standard_normal(n) * spl_to_pa(FAN_NOISE_DB) * level)

        # broadband: room background plus machine and rope noise with speed
        speed = np.abs(vel) / lift.rated_speed_mps
        out += self.room(self.rng_room.standard_normal(n) * spl_to_pa(sp.room_noise_dba))
        machine = self.rng_machine.standard_normal(n) * spl_to_pa(sp.running_noise_dba)
        out += self.machine(machine * speed)

        idx = np.array([i for i, _ in events], dtype=np.int64)
        amps = np.array([CLICKS.get(kind, 0.0) for _, kind in events])
        out += self.clicks.render(n, idx, amps)
        out += sp.audio_noise_pa * self.rng_mic.standard_normal(n)
        return out.astype(np.float32).reshape(n, 1)

"""Vibration synthesis: 3-axis specific force at the accelerometer (z vertical, m/s^2).

What is in the signal, and why:

- gravity on the vertical axis plus the car's own acceleration (a car-roof sensor measures
  specific force, so a calibration can find the vertical axis from the mean);
- rope strand excitation at f = v x roping x strands / lay_length and harmonics, with
  sidebands at the sheave rotation rate f_sheave = v x roping / (pi D) (REFERENCE 4). Its
  amplitude rises by ROPE_WEAR_DB_AT_1 x level dB with rope wear, the sidebands grow too;
- sheave orders (1x..3x rotation), raised by sheave groove wear;
- outer-race bearing defect impacts at BPFO (orders of the sheave rotation), each ringing
  the machine's structural resonance: impulsive, so kurtosis rises with bearing wear;
- guide-rail joint bumps each time a rail joint passes the guide shoes;
- door, brake and contactor jolts from the controller's events;
- ride vibration (rope-car bounce and lateral sway resonances excited by the guides), and
  the sensor's own noise (ADXL355 density by default).

Speed-locked components take their phase from the car position, so they are continuous
across blocks and exactly consistent with the speed register.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from drivers.sim.electrical import G
from drivers.sim.faults import ROPE_WEAR_DB_AT_1, SHEAVE_WEAR_DB_AT_1
from drivers.sim.params import SimParams
from drivers.sim.synthesis import Convolver, Impulses, band_gain, crossings, damped_sine

F64 = npt.NDArray[np.float64]

# Amplitudes at rated speed, healthy lift, car-roof mount (m/s^2); chosen so a healthy ride
# stays well inside ISO 18738-1 comfort figures (tens of milli-g) while every line stands
# >20 dB above the sensor noise in a 1 s spectrum.
ROPE_AMP = 0.008
ROPE_HARMONICS = (1.0, 0.5, 0.3)
ROPE_AXES = (0.25, 0.15, 1.0)  # x, y, z share of the strand line
SIDEBAND_REL = 0.05  # healthy sideband / carrier; +0.45 at rope_wear 1
SHEAVE_AMP = 0.004
SHEAVE_ORDERS = ((1, 1.0), (2, 0.6), (3, 0.3))
BEARING_AMP = 0.5  # per impact at bearing_wear 1, rated speed
BPFO_ORDER = 4.8  # 12 rollers, d/D = 0.2: BPFO = n/2 (1 - d/D) sheave orders
BEARING_RES_HZ = 1100.0  # bedplate/housing resonance rung by each impact
RIDE_RMS = (0.03, 0.025, 0.02)  # x, y, z at rated speed
RAIL_AMP = (0.06, 0.04, 0.02)
RAIL_JOINT_OFFSET_M = 1.7  # first joint above the bottom floor level
EVENT_JOLTS = {  # event -> (x, y, z) amplitude of the ringing it starts
    "door_close_end": (0.02, 0.12, 0.03),
    "door_open_end": (0.01, 0.06, 0.015),
    "door_start": (0.005, 0.03, 0.005),
    "brake_lift": (0.01, 0.01, 0.12),
    "brake_drop": (0.01, 0.01, 0.15),
    "contactor": (0.002, 0.002, 0.01),
}


class Vibration:
    def __init__(self, params: SimParams, seed: np.random.SeedSequence) -> None:
        self.p = params
        # one generator per noise source: each consumes its own stream in order, so the
        # output does not depend on how time is cut into blocks
        self.rng_bearing, self.rng_noise, *self.rng_ride = (
            np.random.default_rng(s) for s in seed.spawn(5))
        sp, fs = params.sensor, float(params.sensor.accel_fs)
        self.fs = fs
        machine = sp.mount == "machine"
        self.car_motion = 0.0 if machine else 1.0
        self.car_share = 0.1 if machine else 1.0  # ride, rail and door: damped at the machine
        self.machine_share = 3.0 if machine else 1.0  # sheave and bearing: closer at the machine
        self.noise_rms = sp.accel_noise_ug_rthz * 1e-6 * G * math.sqrt(fs / 2)
        ride = [damped_sine(fs, 2.2, 0.15), damped_sine(fs, 2.8, 0.15), damped_sine(fs, 5.0, 0.12)]
        self.ride = [Convolver(k / np.linalg.norm(k)) for k in ride]
        self.rail = [Impulses(damped_sine(fs, f, 0.12)) for f in (14.0, 17.0, 22.0)]
        self.bearing = Impulses(damped_sine(fs, min(BEARING_RES_HZ, 0.3 * fs), 0.05))
        self.jolt = [Impulses(damped_sine(fs, f, 0.1)) for f in (11.0, 9.0, 18.0)]
        self._rail_prev: float | None = None
        self._bpfo_prev: float | None = None
        tilt = math.radians(sp.tilt_deg)
        self.rot = np.array([[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)],
                             [0, math.sin(tilt), math.cos(tilt)]])

    def render(self, t: F64, pos: F64, vel: F64, acc: F64, events: list[tuple[int, str]],
               faults: dict[str, Any]) -> npt.NDArray[np.float32]:
        """Samples at times t; events are (sample index within this block, kind)."""
        n, fs, lift = len(t), self.fs, self.p.lift
        out = np.zeros((n, 3))
        if n == 0:
            return out.astype(np.float32)
        speed = np.abs(vel) / lift.rated_speed_mps
        rope_travel = pos * lift.roping
        sheave_rev = rope_travel / (math.pi * lift.sheave_diameter_m)
        out[:, 2] += G + self.car_motion * acc

        # rope strand line, harmonics and sheave-rate sidebands
        wear = float(faults.get("rope_wear", 0.0))
        amp = ROPE_AMP * 10 ** (ROPE_WEAR_DB_AT_1 * wear / 20) * speed
        strand_cyc = rope_travel * lift.rope_strands / lift.rope_lay_length_m
        f_strand = np.abs(vel) * lift.roping * lift.rope_strands / lift.rope_lay_length_m
        f_sheave = np.abs(vel) * lift.roping / (math.pi * lift.sheave_diameter_m)
        side = SIDEBAND_REL + 0.45 * wear
        line = np.zeros(n)
        for k, rel in enumerate(ROPE_HARMONICS, start=1):
            ph = 2 * np.pi * k * strand_cyc
            line += rel * band_gain(k * f_strand, fs) * np.sin(ph)
            for s in (-1, 1):
                ph_s = ph + s * 2 * np.pi * sheave_rev
                line += rel * side * band_gain(k * f_strand + s * f_sheave, fs) * np.sin(ph_s)
        for axis, share in enumerate(ROPE_AXES):
            out[:, axis] += share * amp * line

        # sheave orders (groove wear)
        sw = float(faults.get("sheave_wear", 0.0))
        s_amp = SHEAVE_AMP * self.machine_share * 10 ** (SHEAVE_WEAR_DB_AT_1 * sw / 20) * speed
        sheave = sum(rel * np.sin(2 * np.pi * order * sheave_rev) for order, rel in SHEAVE_ORDERS)
        out[:, 2] += s_amp * sheave
        out[:, 0] += 0.5 * s_amp * sheave

        # bearing outer-race impacts, rung through the structure
        bw = float(faults.get("bearing_wear", 0.0))
        bpfo = BPFO_ORDER * sheave_rev
        prev = self._bpfo_prev if self._bpfo_prev is not None else float(bpfo[0])
        idx, self._bpfo_prev = crossings(bpfo, prev)
        jitter = 1 + 0.2 * self.rng_bearing.standard_normal(len(idx))
        b_amp = BEARING_AMP * self.machine_share * 0.3 * bw * (0.3 + 0.7 * speed[idx]) * jitter
        ring = self.bearing.render(n, idx, b_amp)
        out[:, 2] += ring
        out[:, 0] += 0.4 * ring

        # guide rail joints
        joints = (pos - RAIL_JOINT_OFFSET_M) / lift.rail_length_m
        prev = self._rail_prev if self._rail_prev is not None else float(joints[0])
        idx, self._rail_prev = crossings(joints, prev)
        for axis in range(3):
            a = RAIL_AMP[axis] * self.car_share * speed[idx]
            out[:, axis] += self.rail[axis].render(n, idx, a)

        # controller events: doors, brake, contactors
        ev_idx = [i for i, _ in events]
        for axis in range(3):
            amps = np.array([EVENT_JOLTS.get(kind, (0, 0, 0))[axis] for _, kind in events])
            out[:, axis] += self.jolt[axis].render(n, np.array(ev_idx, dtype=np.int64),
                                                   amps * self.car_share)

        # ride vibration (guide-excited resonances) and sensor noise
        for axis in range(3):
            excite = self.rng_ride[axis].standard_normal(n) * speed
            excite *= RIDE_RMS[axis] * self.car_share
            out[:, axis] += self.ride[axis](excite)
        out += self.noise_rms * self.rng_noise.standard_normal((n, 3))
        return (out @ self.rot.T).astype(np.float32)

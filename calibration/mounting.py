"""Accelerometer mounting check and axis alignment, from a capture with the car at rest.

At rest an accelerometer reads only gravity (+1 g along "up") plus its noise. So:

* the mean vector is gravity in the sensor frame: its largest component names the vertical
  axis (with sign), and the minimal rotation taking it onto +z is the rotation to the car
  frame. Gravity alone fixes tilt, not heading: the car's x/y stay as mounted, which is what
  the detectors need (they use the vertical axis and the horizontal plane as a whole);
* |gravity| - g along that direction is the sensor's offset plus scale error on the vertical
  (the horizontal offsets are not observable in one orientation and are not claimed);
* the standard deviation per axis is the noise floor;
* a narrow spectral peak standing far above the floor at rest means the sensor rings: a loose
  mount or a flexible bracket excited by the building (a rigid mount on a car roof has its
  first resonance in the kHz range, beyond this band);
* samples at the range limit mean the sensor saturates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.detectors import spectra
from agent.errors import InputError

G = 9.80665  # standard gravity, m/s^2 (ISO 80000-3)
MAX_TILT_DEG = 5.0  # beyond this the mount is visibly not level; detectors still work rotated
GRAVITY_TOLERANCE = 0.05  # |g| within 5 %: ADXL345/355 sensitivity tolerance is a few %
RESONANCE_PROMINENCE_DB = 20.0  # a line this far over the median floor at rest: it rings
RESONANCE_BAND_HZ = (5.0, 1000.0)
SATURATION_FRACTION = 0.98  # of full scale


class MountingError(InputError):
    """The capture cannot be used for alignment (car moving, sensor not measuring gravity)."""


@dataclass(frozen=True)
class Alignment:
    gravity: tuple[float, float, float]  # m/s^2 in the sensor frame
    vertical_axis: str  # "z", "-y", ...
    rotation: tuple[tuple[float, ...], ...]  # sensor frame -> car frame (z up)
    tilt_deg: float
    vertical_offset_mps2: float
    noise_floor_mps2: dict[str, float]
    resonance_hz: float | None
    saturated_fraction: float
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "gravity_mps2": [round(g, 5) for g in self.gravity],
            "vertical_axis": self.vertical_axis,
            "rotation": [[round(v, 9) for v in row] for row in self.rotation],
            "tilt_deg": round(self.tilt_deg, 3),
            "vertical_offset_mps2": round(self.vertical_offset_mps2, 5),
            "noise_floor_mps2": {k: round(v, 7) for k, v in self.noise_floor_mps2.items()},
            "resonance_hz": self.resonance_hz,
            "warnings": list(self.warnings),
        }


def rotation_onto_z(v: np.ndarray) -> np.ndarray:
    """The smallest rotation R with R @ v/|v| = +z (Rodrigues' formula)."""
    a = v / np.linalg.norm(v)
    z = np.array([0.0, 0.0, 1.0])
    c = float(a @ z)
    axis = np.cross(a, z)
    s = float(np.linalg.norm(axis))
    if s < 1e-12:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])  # upside down: turn about x
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * (kx @ kx)


def align(data: np.ndarray, fs: float, channels: tuple[str, ...], range_g: float
          ) -> Alignment:
    """Alignment and mounting warnings from (n, 3) m/s^2 captured with the car at rest."""
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 3:
        raise MountingError(f"accel: alignment needs 3 axes, got {x.shape[-1]} channel(s)")
    g = x.mean(axis=0)
    mag = float(np.linalg.norm(g))
    if not (1 - 4 * GRAVITY_TOLERANCE) * G <= mag <= (1 + 4 * GRAVITY_TOLERANCE) * G:
        raise MountingError(f"accel: gravity reads {mag:.2f} m/s^2, expected {G:.2f}: wrong "
                            "range/scale setting, or the car is not at rest")
    k = int(np.argmax(np.abs(g)))
    vertical = ("" if g[k] > 0 else "-") + channels[k]
    rot = rotation_onto_z(g)
    tilt = math.degrees(math.acos(min(1.0, abs(g[k]) / mag)))
    noise = {ch: float(np.std(x[:, i])) for i, ch in enumerate(channels)}
    warnings = []
    if tilt > MAX_TILT_DEG:
        warnings.append(f"sensor is tilted {tilt:.1f} deg from its {vertical} axis: "
                        "readings are rotated to the car frame, but check the bracket")
    if abs(mag - G) > GRAVITY_TOLERANCE * G:
        warnings.append(f"gravity reads {mag:.2f} m/s^2 (expected {G:.2f}): scale or offset "
                        "error beyond the datasheet tolerance")
    full = range_g * G
    sat = float(np.mean(np.abs(x) >= SATURATION_FRACTION * full))
    if sat > 0:
        warnings.append(f"{100 * sat:.2f} % of samples at the +/-{range_g:g} g limit: "
                        "the sensor saturates (raise range_g or damp the mount)")
    res = resonance(x - g, fs)
    if res is not None:
        warnings.append(f"a resonance at {res:.0f} Hz rings at rest: loose mount or "
                        "flexible bracket; tighten the sensor")
    return Alignment(tuple(float(v) for v in g), vertical,  # type: ignore[arg-type]
                     tuple(tuple(float(v) for v in row) for row in rot), tilt, mag - G,
                     noise, res, sat, warnings)


def resonance(x: np.ndarray, fs: float) -> float | None:
    """Frequency of a narrow peak >= RESONANCE_PROMINENCE_DB over the median floor, if any."""
    lo, hi = RESONANCE_BAND_HZ[0], min(RESONANCE_BAND_HZ[1], 0.45 * fs)
    f, p = spectra.welch_psd(x[:, 0], fs, 2.0)
    for c in range(1, x.shape[1]):
        p = p + spectra.welch_psd(x[:, c], fs, 2.0)[1]
    m = (f >= lo) & (f <= hi)
    if not m.any():
        return None
    floor = float(np.median(p[m]))
    i = int(np.argmax(np.where(m, p, -np.inf)))
    if floor > 0 and spectra.db(float(p[i])) - spectra.db(floor) >= RESONANCE_PROMINENCE_DB:
        return float(f[i])
    return None

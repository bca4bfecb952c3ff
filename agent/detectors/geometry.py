"""Lift geometry and the vibration orders it defines (shared/REFERENCE.md section 4).

A rope of `strands` strands laid with `lay_length_m` passes one strand over a given point every
lay_length / strands metres of rope travel, so it excites

    f_strand = v_rope * strands / lay_length,   v_rope = v_car * roping

and a sheave of diameter D turns at f_sheave = v_rope / (pi * D). Dividing a frequency by the
speed-proportional reference (v_rope) turns it into an *order* that is the same at every speed,
which is what makes trips at different speeds comparable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from agent.errors import InputError


@dataclass(frozen=True)
class LiftGeometry:
    roping: int = 2
    sheave_diameter_m: float = 0.40
    rope_strands: int = 8
    rope_lay_length_m: float = 0.065
    rated_speed_mps: float = 1.75

    def rope_speed(self, car_speed_mps: float) -> float:
        return abs(car_speed_mps) * self.roping

    def strand_hz(self, car_speed_mps: float) -> float:
        return self.rope_speed(car_speed_mps) * self.rope_strands / self.rope_lay_length_m

    def sheave_hz(self, car_speed_mps: float) -> float:
        return self.rope_speed(car_speed_mps) / (math.pi * self.sheave_diameter_m)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any], where: str) -> LiftGeometry:
        """Build from a sidecar's or config's `lift` table; `where` names it in errors."""
        fields: dict[str, tuple[type, float, float]] = {
            "roping": (int, 1, 4),
            "sheave_diameter_m": (float, 0.05, 3.0),
            "rope_strands": (int, 3, 36),
            "rope_lay_length_m": (float, 0.005, 0.5),
            "rated_speed_mps": (float, 0.05, 12.0),
        }
        values: dict[str, Any] = {}
        for name, (typ, lo, hi) in fields.items():
            if name not in m:
                if name == "rated_speed_mps":
                    continue
                raise InputError(f"{where}: lift.{name} is missing")
            v = m[name]
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise InputError(f"{where}: lift.{name} = {v!r}: expected a number")
            if typ is int and float(v) != int(v):
                raise InputError(f"{where}: lift.{name} = {v!r}: expected an integer")
            if not lo <= v <= hi:
                raise InputError(f"{where}: lift.{name} = {v!r}: must be in [{lo}, {hi}]")
            values[name] = typ(v)
        return cls(**values)

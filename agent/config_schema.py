"""The configuration schema, as data: one table of keys per TOML section.

A section is added here by the issue that needs it. `path=True` resolves a relative path
against the config file's folder; `secret=True` also checks the file's permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REQUIRED: Any = object()


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any = REQUIRED
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    path: bool = False
    secret: bool = False
    help: str = ""


SCHEMA: dict[str, dict[str, Key]] = {
    "device": {
        "site": Key(str, help="site id, used in MQTT topics"),
        "lift": Key(str, help="lift id within the site, used in MQTT topics"),
        "box_id": Key(str, "", help="hardware serial of the box (defaults to site-lift)"),
    },
    "lift": {
        "floors": Key(int, 10, min=2, max=200),
        "floor_height_m": Key(float, 3.0, min=2.0, max=20.0),
        "rated_speed_mps": Key(float, 1.75, min=0.1, max=12.0),
        "roping": Key(int, 2, choices=(1, 2, 4)),
        "sheave_diameter_m": Key(float, 0.40, min=0.1, max=2.0),
        "rope_strands": Key(int, 8, min=3, max=36),
        "rope_lay_length_m": Key(float, 0.065, min=0.01, max=0.5),
    },
    "detectors": {
        "baseline": Key(str, "", path=True, help="baseline JSON from `liftguard baseline learn`"),
        "state": Key(str, "", path=True, help="detector state file (trends, severity levels)"),
        "warning_score": Key(float, 5.0, min=1.0, max=100.0, help="baseline units"),
        "critical_score": Key(float, 10.0, min=1.0, max=1000.0, help="baseline units"),
        "release": Key(float, 0.7, min=0.1, max=1.0, help="leave a level below release x enter"),
        "clear_count": Key(int, 3, min=1, max=100, help="evaluations below release to step down"),
        "trend_alpha": Key(float, 0.25, min=0.01, max=1.0, help="EWMA weight of a new score"),
        "ride_vertical_max_pk_pk": Key(float, 0.30, min=0.0, help="m/s^2, Wk weighted"),
        "ride_vertical_a95": Key(float, 0.20, min=0.0, help="m/s^2, Wk weighted"),
        "ride_horizontal_max_pk_pk": Key(float, 0.20, min=0.0, help="m/s^2, Wd weighted"),
        "ride_horizontal_a95": Key(float, 0.15, min=0.0, help="m/s^2, Wd weighted"),
        "noise_running_dba": Key(float, 80.0, min=20.0, max=140.0, help="L_Aeq limit, trip"),
        "noise_rest_dba": Key(float, 80.0, min=20.0, max=140.0, help="L_Aeq limit, at rest"),
    },
}

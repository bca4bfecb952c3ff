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
}

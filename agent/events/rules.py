"""What the car is doing, from one sample's readings, and each event's condition.

Pure functions of readings (canonical names of the profiles: `speed_mps`, `door_zone_up`,
`car_door_lock_ok`, ...). A condition is True, False, or None when the readings it needs are
missing (profiles differ; a partial poll lacks some), which freezes that event's latch.
The event catalogue is shared/REFERENCE.md section 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.events.settings import EventSettings

# Fixed vocabulary of event codes (REFERENCE.md section 1); uplink payloads use these names.
EVENT_CODES = (
    "trapped_at_floor",
    "trapped_between_floors",
    "stopped_outside_door_zone",
    "door_open_while_running",
    "overspeed",
    "top_overrun",
    "bottom_overrun",
    "safety_circuit_open",
    "door_fault",
    "power_loss",
    "controller_fault",
    "comm_lost",
)

SEVERITY = {
    "trapped_at_floor": "critical",
    "trapped_between_floors": "critical",
    "stopped_outside_door_zone": "major",
    "door_open_while_running": "critical",
    "overspeed": "major",  # level 2 is critical
    "top_overrun": "critical",
    "bottom_overrun": "critical",
    "safety_circuit_open": "critical",
    "door_fault": "major",
    "power_loss": "major",
    "controller_fault": "major",  # replaced by the profile's fault table entry
    "comm_lost": "major",
}

# Modes in which a technician is in charge: a stopped car or open door is expected.
SERVICE_MODES = ("inspection", "shaft_learning")


def _all(*values: bool | None) -> bool | None:
    """Three-valued AND: False wins, then unknown."""
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _any(*values: bool | None) -> bool | None:
    """Three-valued OR: True wins, then unknown."""
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def _flag(r: Mapping[str, Any], name: str) -> bool | None:
    v = r.get(name)
    return None if v is None else bool(v)


def _not(v: bool | None) -> bool | None:
    return None if v is None else not v


@dataclass(frozen=True)
class CarState:
    """Derived facts about the car; each None when the profile or sample lacks the input."""

    speed: float | None
    moving: bool | None
    in_door_zone: bool | None
    door_closed: bool | None
    occupied: bool | None
    in_service_mode: bool
    door_open_cmd: bool | None
    door_close_cmd: bool | None
    door_open_limit: bool | None
    door_close_limit: bool | None

    @classmethod
    def from_readings(cls, r: Mapping[str, Any], s: EventSettings) -> CarState:
        speed = r.get("speed_mps")
        speed = None if speed is None else abs(float(speed))
        zone = _any(_flag(r, "door_zone_up"), _flag(r, "door_zone_down"))
        if "door_zone_up" not in r and "door_zone_down" not in r:
            zone = None
        locks = [_flag(r, n) for n in ("car_door_lock_ok", "hall_door_lock_ok") if n in r]
        # The door-lock contacts sit after the safety chain in the high-voltage circuit: with
        # the chain open they carry no voltage and read open whatever the doors do, so then
        # only the car-top close limit (a separate low-voltage input) tells us anything.
        if r.get("safety_circuit_ok") is False:
            locks = []
        door_closed = _all(*locks) if locks else _flag(r, "door_close_limit")
        load = r.get("load_pct")
        return cls(
            speed=speed,
            moving=None if speed is None else speed > s.moving_speed_mps,
            in_door_zone=zone,
            door_closed=door_closed,
            occupied=None if load is None else float(load) >= s.occupied_load_pct,
            in_service_mode=r.get("mode") in SERVICE_MODES,
            door_open_cmd=_flag(r, "door_open_cmd"),
            door_close_cmd=_flag(r, "door_close_cmd"),
            door_open_limit=_flag(r, "door_open_limit"),
            door_close_limit=_flag(r, "door_close_limit"),
        )


def trapped_at_floor(c: CarState) -> bool | None:
    if c.in_service_mode:
        return False
    # Door closed at a floor and nobody is opening it: passengers inside cannot get out.
    return _all(_not(c.moving), c.in_door_zone, c.door_closed, c.occupied,
                _not(c.door_open_cmd) if c.door_open_cmd is not None else True)


def trapped_between_floors(c: CarState) -> bool | None:
    if c.in_service_mode:
        return False
    return _all(_not(c.moving), _not(c.in_door_zone), c.occupied)


def stopped_outside_door_zone(c: CarState) -> bool | None:
    if c.in_service_mode:
        return False
    return _all(_not(c.moving), c.door_closed, _not(c.in_door_zone))


def door_open_while_running(c: CarState, s: EventSettings) -> bool | None:
    if c.speed is None or c.door_closed is None:
        return None
    if c.door_closed or c.speed <= s.door_open_speed_mps:
        return False
    relevelling = c.in_door_zone is True and c.speed <= s.relevel_max_speed_mps
    return not relevelling


def overspeed(speed: float | None, rated: float, level: float, active: bool,
              s: EventSettings) -> bool | None:
    """Above `level` x rated; once active, clears only below (level - hysteresis) x rated."""
    if speed is None:
        return None
    limit = level - s.overspeed_hysteresis if active else level
    return speed > limit * rated


def _overrun(r: Mapping[str, Any], limit_input: str, beyond: bool | None) -> bool | None:
    """Final-limit input OR position beyond the terminal level; either may be unavailable."""
    sources = [v for v in (_flag(r, limit_input), beyond) if v is not None]
    return _any(*sources) if sources else None


def top_overrun(r: Mapping[str, Any], s: EventSettings) -> bool | None:
    pos = r.get("position_m")
    beyond = None if pos is None or s.top_level_m is None else (
        float(pos) > s.top_level_m + s.overrun_margin_m
    )
    return _overrun(r, "up_final_limit", beyond)


def bottom_overrun(r: Mapping[str, Any], s: EventSettings) -> bool | None:
    pos = r.get("position_m")
    beyond = None if pos is None or s.bottom_level_m is None else (
        float(pos) < s.bottom_level_m - s.overrun_margin_m
    )
    return _overrun(r, "down_final_limit", beyond)


def safety_circuit_open(r: Mapping[str, Any]) -> bool | None:
    return _not(_flag(r, "safety_circuit_ok"))


def door_stuck(c: CarState) -> bool | None:
    """Door commanded but its limit not reached; the door_timeout_s latch makes it a fault."""
    opening = _all(c.door_open_cmd, _not(c.door_open_limit))
    closing = _all(c.door_close_cmd, _not(c.door_close_limit))
    return _any(opening, closing)

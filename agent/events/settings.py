"""Event timers and thresholds, with the defaults public terminal firmwares use.

Defaults from shared/REFERENCE.md section 1 (event table): trapped at floor 20 s, trapped
between floors 15 s, stopped outside the door zone 45 s, overspeed at 1.2 x and 1.4 x rated
speed. The others are engineering choices named and explained next to each value; every one
can be overridden in the [events] config section.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class EventSettings:
    trapped_at_floor_s: float = 20.0
    trapped_between_floors_s: float = 15.0
    stopped_outside_door_zone_s: float = 45.0
    # Door open while running is a safety event: a short debounce only filters a single noisy
    # read of the lock inputs (one poll at the usual 5-10 Hz).
    door_open_while_running_s: float = 0.3
    overspeed_s: float = 0.3
    overspeed_level1: float = 1.2
    overspeed_level2: float = 1.4
    # Speed must fall this far (fraction of rated) below a level before it clears.
    overspeed_hysteresis: float = 0.05
    overrun_s: float = 0.0
    safety_circuit_s: float = 0.5
    # A door operator opens or closes in 2-5 s; controllers' own door timeouts are ~15 s.
    door_timeout_s: float = 15.0
    controller_fault_s: float = 0.0
    # Every event ends only after its cause has been gone this long (time hysteresis).
    clear_s: float = 2.0
    # Longest stretch between two good polls that a rule timer counts as held (latch.py). The
    # shortest door dwell a controller allows (and the sim's lower bound) is 0.5 s: a longer
    # gap could hide a door cycle, so rule timers do not count it as seen.
    gap_bridge_s: float = 0.5
    # comm_lost after this many consecutive failed polls; ends after this many good ones.
    comm_lost_polls: int = 3
    comm_recover_polls: int = 2
    # Car counts as moving above this speed (encoder noise at standstill is a few mm/s).
    moving_speed_mps: float = 0.05
    # Door open while running needs real movement. EN 81-20 5.12.1.4 allows levelling and
    # re-levelling with open doors inside the unlocking zone; controllers re-level at a few
    # cm/s, so open-door movement inside the door zone counts only above relevel_max_speed.
    door_open_speed_mps: float = 0.1
    relevel_max_speed_mps: float = 0.3
    # Car is occupied above this load (one 75 kg person in a 1000 kg car is 7.5 %).
    occupied_load_pct: float = 5.0
    rated_speed_mps: float = 1.75
    # Car position limits for overrun detection (metres in the controller's position frame);
    # None disables the position check and leaves the final-limit inputs and fault codes.
    top_level_m: float | None = None
    bottom_level_m: float | None = None
    overrun_margin_m: float = 0.15

    @classmethod
    def from_config(cls, events: Any = None, lift: Any = None) -> EventSettings:
        """Settings from the [events] section; rated speed from [lift] when given."""
        names = {f.name for f in fields(cls)}
        values = {k: events[k] for k in (events or {}) if k in names}
        if lift is not None and "rated_speed_mps" not in values and "rated_speed_mps" in lift:
            values["rated_speed_mps"] = lift["rated_speed_mps"]
        for key in ("top_level_m", "bottom_level_m"):
            if values.get(key) is not None and values[key] < 0:
                values[key] = None  # config uses a negative value to mean "not set"
        return cls(**values)

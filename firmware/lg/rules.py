"""Event rules on the board: the Pi agent's engine (agent/events/) ported to MicroPython.

Same catalogue (shared/REFERENCE.md section 1), same three-valued conditions (None = the
readings it needs are missing, which decides nothing), same raise/clear timers (counting only
time seen to hold: poll gaps over gap_bridge_s restart or pause them, as on the Pi) and
the same mapping of controller fault codes through the profile's fault table, so a trace gives
the same starts and ends on both boxes (tests/firmware/test_rules.py runs both on one trace).
Readings use the profiles' canonical names; time is the poll's timestamp in seconds.
"""

SEVERITY = {
    "trapped_at_floor": "critical",
    "trapped_between_floors": "critical",
    "stopped_outside_door_zone": "major",
    "door_open_while_running": "critical",
    "overspeed": "major",
    "top_overrun": "critical",
    "bottom_overrun": "critical",
    "safety_circuit_open": "critical",
    "door_fault": "major",
    "power_loss": "major",
    "controller_fault": "major",
    "comm_lost": "major",
}
SERVICE_MODES = ("inspection", "shaft_learning")
SNAPSHOT = ("speed_mps", "floor", "position_m", "load_pct", "car_state", "mode", "fault_code")

def defaults() -> dict:
    """agent/events/settings.py defaults; config.json "events" overrides any of them. A new
    dict per call: the engine keeps its own, nothing else needs the table after boot."""
    return {
        "trapped_at_floor_s": 20.0, "trapped_between_floors_s": 15.0,
        "stopped_outside_door_zone_s": 45.0, "door_open_while_running_s": 0.3,
        "overspeed_s": 0.3, "overspeed_level1": 1.2, "overspeed_level2": 1.4,
        "overspeed_hysteresis": 0.05, "overrun_s": 0.0, "safety_circuit_s": 0.5,
        "door_timeout_s": 15.0, "controller_fault_s": 0.0, "clear_s": 2.0,
        "comm_lost_polls": 3, "comm_recover_polls": 2, "moving_speed_mps": 0.05,
        "door_open_speed_mps": 0.1, "relevel_max_speed_mps": 0.3, "occupied_load_pct": 5.0,
        "rated_speed_mps": 1.75, "top_level_m": None, "bottom_level_m": None,
        "overrun_margin_m": 0.15, "gap_bridge_s": 0.5,
    }


def all3(*values):
    """Three-valued AND: False wins, then unknown."""
    if False in values:
        return False
    if None in values:
        return None
    return True


def any3(*values):
    """Three-valued OR: True wins, then unknown."""
    if True in values:
        return True
    if None in values:
        return None
    return False


def either(*values):
    """OR over sources that may be unavailable: unknown only when every one is unknown."""
    known = [v for v in values if v is not None]
    return any(known) if known else None


def flag(r, name):
    v = r.get(name)
    return None if v is None else bool(v)


def not3(v):
    return None if v is None else not v


class Latch:
    """Condition must hold raise_s to start and be gone clear_s to end (agent/events/latch.py).
    None (readings missing) decides nothing. Only time seen to hold counts: two known
    observations up to bridge_s apart count the interval as held; a longer gap restarts the
    timer, or with pause=True (stationary-car timers) adds nothing but keeps what was seen."""

    def __init__(self, raise_s, clear_s, bridge_s=0.5, pause=False):
        self.raise_s, self.clear_s = raise_s, clear_s
        self.bridge_s, self.pause = bridge_s, pause
        self.active = False
        self.pending = False  # the condition differs from `active`: a change is being timed
        self.held = 0.0  # seconds the pending change has been seen to hold
        self.last = None  # time of the last known observation

    def update(self, cond, t):
        if cond is None:
            return None
        last, self.last = self.last, t
        if cond == self.active:
            self.pending = False
            return None
        if not self.pending:
            self.pending, self.held = True, 0.0
        elif last is not None:
            dt = t - last
            if dt <= self.bridge_s:
                self.held += dt
            elif not self.pause:
                self.held = 0.0
        if self.held < (self.raise_s if cond else self.clear_s) - 1e-9:  # float poll sums
            return None
        self.active = cond
        self.pending = False
        return "start" if cond else "end"


class Car:
    """Derived facts about the car (agent.events.rules.CarState)."""

    def __init__(self, r, s):
        speed = r.get("speed_mps")
        self.speed = None if speed is None else abs(float(speed))
        self.moving = None if self.speed is None else self.speed > s["moving_speed_mps"]
        if "door_zone_up" in r or "door_zone_down" in r:
            self.zone = any3(flag(r, "door_zone_up"), flag(r, "door_zone_down"))
        else:
            self.zone = None
        locks = [flag(r, n) for n in ("car_door_lock_ok", "hall_door_lock_ok") if n in r]
        self.closed = all3(*locks) if locks else flag(r, "door_close_limit")
        load = r.get("load_pct")
        self.occupied = None if load is None else float(load) >= s["occupied_load_pct"]
        self.service = r.get("mode") in SERVICE_MODES
        self.open_cmd = flag(r, "door_open_cmd")
        self.close_cmd = flag(r, "door_close_cmd")
        self.open_limit = flag(r, "door_open_limit")
        self.close_limit = flag(r, "door_close_limit")


def conditions(c, r, s, rated, latches, fault_says, stuck, comm_lost_on_backup):
    still = not3(c.moving)
    if c.service:
        at_floor = between = outside = False
    else:
        at_floor = all3(still, c.zone, c.closed, c.occupied,
                        not3(c.open_cmd) if c.open_cmd is not None else True)
        between = all3(still, not3(c.zone), c.occupied)
        outside = all3(still, c.closed, not3(c.zone))
    if c.speed is None or c.closed is None:
        door_run = None
    elif c.closed or c.speed <= s["door_open_speed_mps"]:
        door_run = False
    else:
        door_run = not (c.zone is True and c.speed <= s["relevel_max_speed_mps"])
    return {
        "trapped_at_floor": at_floor,
        "trapped_between_floors": between,
        "stopped_outside_door_zone": outside,
        "door_open_while_running": either(door_run, fault_says("door_open_while_running")),
        "overspeed:1": either(_overspeed(c.speed, rated, s["overspeed_level1"],
                                         latches["overspeed:1"].active, s),
                              fault_says("overspeed")),
        "overspeed:2": _overspeed(c.speed, rated, s["overspeed_level2"],
                                  latches["overspeed:2"].active, s),
        "top_overrun": either(_overrun(r, "up_final_limit", s, 1), fault_says("top_overrun")),
        "bottom_overrun": either(_overrun(r, "down_final_limit", s, -1),
                                 fault_says("bottom_overrun")),
        "safety_circuit_open": either(not3(flag(r, "safety_circuit_ok")),
                                      fault_says("safety_circuit_open")),
        "door_fault": either(stuck, fault_says("door_fault")),
        "power_loss": either(fault_says("power_loss"), comm_lost_on_backup),
    }


def _overspeed(speed, rated, level, active, s):
    if speed is None:
        return None
    limit = level - s["overspeed_hysteresis"] if active else level
    return speed > limit * rated


def _overrun(r, limit_input, s, sign):
    pos = r.get("position_m")
    level = s["top_level_m"] if sign > 0 else s["bottom_level_m"]
    beyond = None
    if pos is not None and level is not None:
        margin = s["overrun_margin_m"]
        beyond = float(pos) > level + margin if sign > 0 else float(pos) < level - margin
    sources = [v for v in (flag(r, limit_input), beyond) if v is not None]
    return any3(*sources) if sources else None

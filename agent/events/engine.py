"""The event engine: ControllerSamples in, event starts and ends out.

Each event of the catalogue (agent/events/rules.py) has a latch with its own raise timer and
the common clear timer; time is the samples' timestamps, which the poller takes from its
injected clock, so tests drive the engine with a fake clock. Controller fault codes are mapped
through the profile's fault table: every non-zero code is a `controller_fault` with the
table's severity and text, and a code whose table entry names another event (E41 ->
safety_circuit_open) also raises that event, so the platform sees the same event whether the
controller reports a fault or liftguard sees the inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.events import rules
from agent.events.latch import Latch
from agent.events.settings import EventSettings
from drivers.controller.profile import FaultInfo, Profile
from drivers.controller.sample import ControllerSample

# Stationary-car events whose timers pause over a comm gap instead of restarting (latch.py):
# whatever would end them unseen (the door opening, the car moving to a floor, passengers
# leaving) shows in the next good poll as a False condition, which restarts the timer anyway;
# restarting on every gap would let an intermittent bus hold back a trapped-passenger alarm
# for as long as the bus stays bad. Every other rule restarts: a door command or a speed seen
# on both sides of a gap may be two different door cycles or two different runs.
PAUSE_ON_GAP = ("trapped_at_floor", "trapped_between_floors", "stopped_outside_door_zone")

SNAPSHOT = ("speed_mps", "floor", "position_m", "load_pct", "car_state", "mode", "fault_code")


@dataclass
class Event:
    key: str  # unique among active events: code, plus level or fault code
    code: str  # one of rules.EVENT_CODES
    severity: str
    started: float
    ended: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventChange:
    edge: Literal["start", "end"]
    event: Event
    t: float


def _either(*values: bool | None) -> bool | None:
    """OR over sources that may be unavailable: unknown only when every source is unknown."""
    known = [v for v in values if v is not None]
    return any(known) if known else None


class EventEngine:
    def __init__(
        self,
        profile: Profile | None = None,
        settings: EventSettings | None = None,
        *,
        on_backup: Callable[[], bool] = lambda: False,
    ) -> None:
        self.profile = profile
        self.s = settings or EventSettings()
        self.on_backup = on_backup  # True while the box itself runs from its backup supply
        s = self.s
        timers = {
            "trapped_at_floor": s.trapped_at_floor_s,
            "trapped_between_floors": s.trapped_between_floors_s,
            "stopped_outside_door_zone": s.stopped_outside_door_zone_s,
            "door_open_while_running": s.door_open_while_running_s,
            "overspeed:1": s.overspeed_s,
            "overspeed:2": s.overspeed_s,
            "top_overrun": s.overrun_s,
            "bottom_overrun": s.overrun_s,
            "safety_circuit_open": s.safety_circuit_s,
            "door_fault": 0.0,
            "power_loss": 0.0,
        }
        self.latches = {k: self._latch(v, s.clear_s, k in PAUSE_ON_GAP)
                        for k, v in timers.items()}
        self.door_stuck = self._latch(s.door_timeout_s, 0.0)
        self.fault_latches: dict[int, Latch] = {}
        self.active: dict[str, Event] = {}
        self.failed_polls = 0
        self.good_polls = 0
        self.comm_lost = False

    def _latch(self, raise_after_s: float, clear_after_s: float, pause: bool = False) -> Latch:
        return Latch(raise_after_s, clear_after_s, bridge_s=self.s.gap_bridge_s,
                     on_gap="pause" if pause else "restart")

    def update(self, sample: ControllerSample) -> list[EventChange]:
        changes: list[EventChange] = []
        t = sample.t
        r = sample.readings
        self._comm(sample, changes)
        if not sample.ok:
            # A poll with a failed read holds every rule: a partial image mixes old and new
            # state and lacks inputs (a missing fault register would look like "no fault").
            # Only power loss can start, from the comm loss while the box runs on backup.
            backup = self.comm_lost and self.on_backup()
            self._step("power_loss", self.latches["power_loss"], True if backup else None, t, r,
                       changes)
            return changes
        fault_events = self._faults(r, t, changes)

        def fault_says(code: str) -> bool | None:
            return None if fault_events is None else code in fault_events

        car = rules.CarState.from_readings(r, self.s)
        rated = float(r.get("rated_speed_mps") or self.s.rated_speed_mps)
        door_stuck = rules.door_stuck(car)
        self.door_stuck.update(door_stuck, t)  # commanded but not moving for door_timeout_s
        stuck = None if door_stuck is None else self.door_stuck.active
        conditions: dict[str, bool | None] = {
            "trapped_at_floor": rules.trapped_at_floor(car),
            "trapped_between_floors": rules.trapped_between_floors(car),
            "stopped_outside_door_zone": rules.stopped_outside_door_zone(car),
            "door_open_while_running": _either(
                rules.door_open_while_running(car, self.s), fault_says("door_open_while_running")
            ),
            "overspeed:1": _either(
                rules.overspeed(car.speed, rated, self.s.overspeed_level1,
                                self.latches["overspeed:1"].active, self.s),
                fault_says("overspeed"),
            ),
            "overspeed:2": rules.overspeed(car.speed, rated, self.s.overspeed_level2,
                                           self.latches["overspeed:2"].active, self.s),
            "top_overrun": _either(rules.top_overrun(r, self.s), fault_says("top_overrun")),
            "bottom_overrun": _either(rules.bottom_overrun(r, self.s),
                                      fault_says("bottom_overrun")),
            "safety_circuit_open": _either(rules.safety_circuit_open(r),
                                           fault_says("safety_circuit_open")),
            "door_fault": _either(stuck, fault_says("door_fault")),
            "power_loss": _either(fault_says("power_loss"),
                                  self.comm_lost and self.on_backup()),
        }
        for key, cond in conditions.items():
            self._step(key, self.latches[key], cond, t, r, changes)
        return changes

    def _comm(self, sample: ControllerSample, changes: list[EventChange]) -> None:
        # A poll that got nothing back counts as failed; a partial poll still proves the
        # controller is alive and talking.
        if sample.readings or sample.ok:
            self.good_polls += 1
            self.failed_polls = 0
        else:
            self.failed_polls += 1
            self.good_polls = 0
        if not self.comm_lost and self.failed_polls >= self.s.comm_lost_polls:
            self.comm_lost = True
            ev = Event("comm_lost", "comm_lost", rules.SEVERITY["comm_lost"], sample.t,
                       details={"error": sample.error, "detail": sample.detail,
                                "failed_polls": self.failed_polls})
            self.active[ev.key] = ev
            changes.append(EventChange("start", ev, sample.t))
        elif self.comm_lost and self.good_polls >= self.s.comm_recover_polls:
            self.comm_lost = False
            self._end("comm_lost", sample.t, changes)

    def _faults(self, r: dict[str, Any], t: float,
                changes: list[EventChange]) -> set[str] | None:
        """Step the per-code latches; return the events the active fault code stands for."""
        if self.profile is None or not self.profile.fault_register:
            return set()
        raw = r.get(self.profile.fault_register)
        if raw is None:
            for latch in self.fault_latches.values():
                latch.update(None, t)
            return None
        code = int(raw)
        if code and code not in self.fault_latches:
            self.fault_latches[code] = self._latch(self.s.controller_fault_s, self.s.clear_s)
        for number, latch in self.fault_latches.items():
            info = self.profile.fault(number)
            self._step(f"controller_fault:{info.code}", latch, number == code, t, r, changes,
                       info)
        return {self.profile.fault(code).event} if code else set()

    def _step(self, key: str, latch: Latch, cond: bool | None, t: float, r: dict[str, Any],
              changes: list[EventChange], fault: FaultInfo | None = None) -> None:
        edge = latch.update(cond, t)
        if edge == "start":
            code = key.split(":")[0]
            severity = rules.SEVERITY[code]
            details = {k: r[k] for k in SNAPSHOT if k in r}
            if key == "overspeed:2":
                severity = "critical"
            if code == "overspeed":
                level = self.s.overspeed_level2 if key.endswith("2") else self.s.overspeed_level1
                details["level"] = level
            if fault is not None:
                severity = fault.severity
                details.update(fault_number=fault.number, fault=fault.code, text=fault.text,
                               causes=fault.causes)
            ev = Event(key, code, severity, t, details=details)
            self.active[key] = ev
            changes.append(EventChange("start", ev, t))
        elif edge == "end":
            self._end(key, t, changes)

    def _end(self, key: str, t: float, changes: list[EventChange]) -> None:
        ev = self.active.pop(key, None)
        if ev is not None:
            ev.ended = t
            changes.append(EventChange("end", ev, t))

"""The controller logic of one car: dispatch, run sequence, doors, passengers, fault stops.

It behaves like an integrated controller (NICE3000+ style) in automatic mode:

    idle --call--> start (run contactor, pre-torque, brake lift) --> running (S-curve trip)
    --> stopping (brake drops, current off) --> opening --> open_hold (passengers cross one
    at a time) --> closing (lock made) --> closed --> idle

A fault stops the car with the brake (emergency stop), latches the fault number and holds the
car ("halted") until the cause is cleared; the controller then resets itself and, if the car
is outside a door zone, runs to the nearest floor at inspection speed before opening.
`tick()` is called every control period with the time; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.errors import InputError
from drivers.sim.kinematics import Motion, TripLimits, plan_brake_stop, plan_trip
from drivers.sim.params import LiftParams

# NICE3000+ fault numbers used by the logic (drivers/profiles/nice3000plus.toml [faults])
E41_SAFETY, E42_DOOR_LOCK, E43_UP_LIMIT, E44_DOWN_LIMIT = 41, 42, 43, 44
E48_DOOR_OPEN, E49_DOOR_CLOSE, E56_OVERSPEED = 48, 49, 56
CLOSE_STALL = 0.3  # a door that fails to close sticks about a third open
LOCK_CHECK_S = 0.3  # controller waits for the lock circuit after the close limit
CROSSING_S = 0.6  # a person interrupts the light curtain for about this long


@dataclass
class Passenger:
    origin: int
    destination: int


class Car:
    def __init__(self, lift: LiftParams, floor: int = 1) -> None:
        self.lift = lift
        self.motion = Motion(self.level(floor))
        self.floor = floor  # floor the car last stopped at / is nearest to
        self.phase = "idle"
        self.phase_t = 0.0
        self.door_pos = 0.0  # 0 closed .. 1 fully open
        self.riders: list[Passenger] = []
        self.waiting: dict[int, list[Passenger]] = {}
        self.car_calls: set[int] = set()
        self.heading = 1
        self.target: int | None = None
        self.target_pos = 0.0
        self.rescue = False
        self.fault_code = 0
        self.inspection = False
        self.in_service = True
        self.run_contactor = False
        self.brake_contactor = False
        self.drive_on = False
        self.lock_lost = False
        self.light_curtain = False
        self.trips = 0
        self.faults: dict[str, Any] = {}  # the model's active faults, read here
        self.events: list[tuple[float, str]] = []
        self._transfers: list[tuple[str, Passenger]] = []
        self._last_transfer = 0.0
        self._crossing_t = -1e9
        self._overrun_armed = False
        self.external_hold = False  # the drive's own protections (E09, E14) hold the car

    # geometry ---------------------------------------------------------------------------
    def level(self, floor: int) -> float:
        return (floor - 1) * self.lift.floor_height_m

    def nearest_floor(self, p: float) -> int:
        return int(min(max(round(p / self.lift.floor_height_m) + 1, 1), self.lift.floors))

    def in_door_zone(self, p: float) -> bool:
        return abs(p - self.level(self.nearest_floor(p))) <= self.lift.door_zone_m

    @property
    def load_kg(self) -> float:
        return len(self.riders) * self.lift.passenger_mass_kg

    # requests ---------------------------------------------------------------------------
    def call(self, floor: int) -> None:
        self._check_floor(floor)
        self.car_calls.add(floor)

    def add_passenger(self, origin: int, destination: int) -> None:
        self._check_floor(origin)
        self._check_floor(destination)
        if origin == destination:
            raise InputError(f"passenger from floor {origin} to the same floor")
        self.waiting.setdefault(origin, []).append(Passenger(origin, destination))

    def _check_floor(self, floor: int) -> None:
        if not 1 <= floor <= self.lift.floors:
            raise InputError(f"floor {floor} is outside 1..{self.lift.floors}")

    def _stops(self) -> set[int]:
        stops = set(self.car_calls) | {p.destination for p in self.riders}
        room = self.load_kg + self.lift.passenger_mass_kg <= self.lift.rated_load_kg
        for floor, people in self.waiting.items():
            if people and (room or floor != self.floor):
                stops.add(floor)
        return stops

    def _choose(self) -> int | None:
        stops = self._stops()
        if not stops:
            return None
        if self.floor in stops:
            return self.floor
        for d in (self.heading, -self.heading):
            ahead = [s for s in stops if (s - self.floor) * d > 0]
            if ahead:
                self.heading = d
                return min(ahead, key=lambda s: abs(s - self.floor))
        return None

    # control period -----------------------------------------------------------------------
    def tick(self, t: float, dt: float, p: float, v: float) -> None:
        self._check_faults(t, p, v)
        handler = getattr(self, "_in_" + self.phase)
        handler(t, dt, p, v)

    def _goto(self, phase: str, t: float) -> None:
        self.phase, self.phase_t = phase, t

    def _in_idle(self, t: float, dt: float, p: float, v: float) -> None:
        if not self.in_service or self.fault_code:
            return
        trap = self.faults.get("trapped")
        if trap == "at_floor":
            self._ensure_occupant()
            self._halt(t, p, v, 0)
            return
        if self._overrun_armed:
            self._start_overrun(t)
            return
        target = self._choose()
        if trap == "between_floors" and target is None:
            target = self.floor + 1 if self.floor < self.lift.floors else self.floor - 1
            self._ensure_occupant()
        if target is None:
            return
        self.target, self.target_pos = target, self.level(target)
        if target == self.floor and abs(p - self.target_pos) < 0.005:
            self.car_calls.discard(target)
            if self.inspection:
                return
            self._goto("opening", t)
            self.events.append((t, "door_start"))
            return
        self._begin_run(t)

    def _begin_run(self, t: float) -> None:
        self.run_contactor = self.drive_on = True
        self._goto("start", t)
        self.events.append((t, "contactor"))

    def _in_start(self, t: float, dt: float, p: float, v: float) -> None:
        if t - self.phase_t < self.lift.brake_lift_s:
            return
        lift = self.lift
        speed = lift.rated_speed_mps
        if self.inspection or self.rescue:
            speed = lift.inspection_speed_mps
        elif "overspeed" in self.faults:
            speed *= float(self.faults["overspeed"])  # runaway: the car outruns the command
        creep = lift.levelling_distance_m if speed > lift.levelling_speed_mps else 0.0
        limits = TripLimits(speed, lift.accel_mps2, lift.jerk_mps3,
                            min(lift.levelling_speed_mps, speed), creep)
        self.brake_contactor = True
        self.events.append((t, "brake_lift"))
        self.motion.replace_from(t, plan_trip(t, p, self.target_pos, limits))
        self._goto("running", t)

    def _in_running(self, t: float, dt: float, p: float, v: float) -> None:
        if self.motion.moving_at(t):
            return
        self.brake_contactor = False
        self.events.append((t, "brake_drop"))
        self._goto("stopping", t)

    def _in_stopping(self, t: float, dt: float, p: float, v: float) -> None:
        if t - self.phase_t < self.lift.brake_drop_s:
            return
        self.drive_on = self.run_contactor = False
        self.trips += 1
        self.floor = self.nearest_floor(p)
        self.rescue = False
        if self.fault_code or self._overrun_hit(p):
            self._goto("halted", t)
            return
        self.car_calls.discard(self.floor)
        if self.faults.get("trapped") == "at_floor":
            self._ensure_occupant()
            self._goto("halted", t)
        elif self.inspection:
            self._goto("idle", t)
        else:
            self._goto("opening", t)
            self.events.append((t, "door_start"))

    def _in_opening(self, t: float, dt: float, p: float, v: float) -> None:
        if self.faults.get("door_fault") == "open":
            if t - self.phase_t >= self.lift.door_fault_s:
                self._halt(t, p, v, E48_DOOR_OPEN)
            return
        self.door_pos = min(1.0, self.door_pos + dt / self.lift.door_open_s)
        if self.door_pos >= 1.0:
            self.events.append((t, "door_open_end"))
            self._transfers = [("off", r) for r in self.riders if r.destination == self.floor]
            self._transfers += [("on", w) for w in self.waiting.get(self.floor, [])]
            self._last_transfer = t
            self._goto("open_hold", t)

    def _in_open_hold(self, t: float, dt: float, p: float, v: float) -> None:
        self.light_curtain = t - self._crossing_t < CROSSING_S
        if self._transfers and t - self._last_transfer >= self.lift.boarding_s:
            kind, person = self._transfers.pop(0)
            if kind == "off":
                self.riders.remove(person)
            elif self.load_kg + self.lift.passenger_mass_kg <= self.lift.rated_load_kg:
                self.waiting[self.floor].remove(person)
                self.riders.append(person)
            self.light_curtain = True
            self._crossing_t = self._last_transfer = t
        if not self._transfers and t - self._last_transfer >= self.lift.door_hold_s:
            self._goto("closing", t)

    def _in_closing(self, t: float, dt: float, p: float, v: float) -> None:
        floor_pos = CLOSE_STALL if self.faults.get("door_fault") == "close" else 0.0
        self.door_pos = max(floor_pos, self.door_pos - dt / self.lift.door_close_s)
        if floor_pos and t - self.phase_t >= self.lift.door_fault_s:
            self._halt(t, p, v, E49_DOOR_CLOSE)
        elif self.door_pos <= 0.0:
            self.events.append((t, "door_close_end"))
            self._goto("closed", t)

    def _in_closed(self, t: float, dt: float, p: float, v: float) -> None:
        if t - self.phase_t >= LOCK_CHECK_S:
            self._goto("idle", t)

    def _in_halted(self, t: float, dt: float, p: float, v: float) -> None:
        if self.motion.moving_at(t) or self._held():
            return
        # the cause is gone: the controller resets and recovers the car
        self.fault_code = 0
        self.lock_lost = False
        self.floor = self.nearest_floor(p)
        if abs(p - self.level(self.floor)) < 0.005:
            self._goto("opening" if not self.inspection else "idle", t)
            return
        self.rescue = True
        self.target, self.target_pos = self.floor, self.level(self.floor)
        self._begin_run(t)

    # faults -------------------------------------------------------------------------------
    def _held(self) -> bool:
        """True while an active fault keeps the car halted."""
        f = self.faults
        return bool(self.external_hold or f.get("trapped") or f.get("safety_circuit_open")
                    or f.get("power_loss")
                    or f.get("controller_fault") or f.get("door_fault")
                    or f.get("door_open_while_running") and self.lock_lost
                    or f.get("top_overrun") or f.get("bottom_overrun")
                    or ("overspeed" in f and self.fault_code == E56_OVERSPEED))

    def arm_overrun(self) -> None:
        self._overrun_armed = True

    def _start_overrun(self, t: float) -> None:
        self._overrun_armed = False
        top = "top_overrun" in self.faults
        self.target = self.lift.floors if top else 1
        over = self.lift.overrun_m if top else -self.lift.overrun_m
        self.target_pos = self.level(self.target) + over
        self._begin_run(t)

    def _overrun_hit(self, p: float) -> bool:
        top = self.level(self.lift.floors) + self.lift.limit_offset_m
        return p > top or p < -self.lift.limit_offset_m

    def _check_faults(self, t: float, p: float, v: float) -> None:
        f, lift = self.faults, self.lift
        moving = self.motion.moving_at(t)
        if f.get("safety_circuit_open"):
            self._halt(t, p, v, E41_SAFETY)
        if "controller_fault" in f:
            self._halt(t, p, v, int(f["controller_fault"]))
        if f.get("power_loss"):
            self._halt(t, p, v, 0)
        if f.get("door_open_while_running") and self.phase == "running" and abs(v) > 0.1:
            self.lock_lost = True
            self.door_pos = 0.05  # the door leaves its lock: the contact opens
            self._halt(t, p, v, E42_DOOR_LOCK)
        if abs(v) > lift.overspeed_trip_ratio * lift.rated_speed_mps and moving:
            self._halt(t, p, v, E56_OVERSPEED)
        if moving and v > 0 and p > self.level(lift.floors) + lift.limit_offset_m:
            self._latch(E43_UP_LIMIT)  # traction lost: the brake cannot hold the car
        if moving and v < 0 and p < -lift.limit_offset_m:
            self._latch(E44_DOWN_LIMIT)
        trap = f.get("trapped")
        if trap == "between_floors" and moving and self.phase == "running" \
                and not self.in_door_zone(p) and abs(p - self.target_pos) > lift.door_zone_m:
            self._ensure_occupant()
            self._halt(t, p, v, 0)

    def final_limit(self, p: float) -> bool:
        lift = self.lift
        return (p > self.level(lift.floors) + lift.final_limit_offset_m
                or p < -lift.final_limit_offset_m)

    def trip(self, t: float, p: float, v: float, code: int) -> None:
        """A protection outside this logic (drive, supply) trips: latch and stop."""
        self._halt(t, p, v, code)

    def _latch(self, code: int) -> None:
        if not self.fault_code:
            self.fault_code = code

    def _halt(self, t: float, p: float, v: float, code: int) -> None:
        """Emergency stop: drive off, brake drops, fault latched, car held."""
        if code:
            self._latch(code)
        if self.phase == "halted":
            return
        if self.motion.moving_at(t):
            self.motion.replace_from(t, plan_brake_stop(t, p, v, self.lift.emergency_decel_mps2))
        if self.brake_contactor or self.drive_on:
            self.events.append((t, "brake_drop"))
        self.brake_contactor = self.drive_on = self.run_contactor = False
        self.light_curtain = False
        self._transfers = []
        self._goto("halted", t)

    def _ensure_occupant(self) -> None:
        if not self.riders:
            dest = 1 if self.floor != 1 else self.lift.floors
            self.riders.append(Passenger(self.floor, dest))

    # status for registers -------------------------------------------------------------------
    def car_state(self, v: float) -> str:
        if abs(v) > 1e-3 or self.phase == "running":
            return "running"
        return {
            "idle": "idle", "start": "closed", "closed": "closed", "stopping": "stopped",
            "opening": "opening", "open_hold": "open_hold", "closing": "closing",
            "halted": "stopped",
        }[self.phase]

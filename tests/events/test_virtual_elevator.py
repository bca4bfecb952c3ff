"""The rules against the stepping virtual elevator (drivers.sim.model) on a fake clock:
every injectable event is raised and cleared, and healthy random traffic raises nothing.

Readings go through the profile's register encoding and back, so the rules see the same
quantised values a poll would return."""

from __future__ import annotations

import pytest

from agent.events import EventEngine, EventSettings
from drivers.controller.planner import plan_reads
from drivers.controller.profile import load_profile
from drivers.controller.sample import ControllerSample

model_mod = pytest.importorskip("drivers.sim.model")
params_mod = pytest.importorskip("drivers.sim.params")

NICE = load_profile("nice3000plus")
ADDRESSES = [a for b in plan_reads(NICE) for a in range(b.address, b.end)]
PERIOD = 0.1
SHORT = EventSettings(trapped_at_floor_s=2.0, trapped_between_floors_s=2.0,
                      stopped_outside_door_zone_s=3.0, door_timeout_s=8.0, clear_s=0.5)


def polled(model) -> ControllerSample:
    regs = dict.fromkeys(ADDRESSES, 0)
    regs.update(NICE.encode(model.readings()))
    return ControllerSample(model.t, NICE.decode(regs))


class Lift:
    def __init__(self, seed: int, settings: EventSettings = SHORT, **traffic) -> None:
        params = params_mod.SimParams()
        if traffic:
            params = params.with_overrides([f"traffic.{k}={v}" for k, v in traffic.items()])
        self.model = model_mod.ElevatorModel(params, seed=seed, synthesize=False)
        self.engine = EventEngine(NICE, settings)
        self.log: list[tuple[str, str, float]] = []
        self.floors: set[int] = set()
        self.top_speed = 0.0

    def run(self, seconds: float, period: float = PERIOD) -> None:
        for _ in range(round(seconds / period)):
            self.model.advance(period)
            sample = polled(self.model)
            self.floors.add(sample.readings["floor"])
            self.top_speed = max(self.top_speed, sample.readings["speed_mps"])
            for c in self.engine.update(sample):
                self.log.append((c.edge, c.event.key, c.t))

    def first(self, edge: str, key: str, after: float) -> float | None:
        return next((t for e, k, t in self.log if e == edge and k == key and t >= after), None)


# fault injected, its value, the event key it must raise
FAULTS = [
    ("trapped", "at_floor", "trapped_at_floor"),
    ("trapped", "between_floors", "trapped_between_floors"),
    ("trapped", "between_floors", "stopped_outside_door_zone"),
    ("door_open_while_running", True, "door_open_while_running"),
    ("overspeed", 1.3, "overspeed:1"),
    ("top_overrun", True, "top_overrun"),
    ("bottom_overrun", True, "bottom_overrun"),
    ("safety_circuit_open", True, "safety_circuit_open"),
    ("door_fault", "open", "door_fault"),
    ("door_fault", "close", "door_fault"),
    ("controller_fault", 14, "controller_fault:E14"),
    ("power_loss", True, "power_loss"),
]


@pytest.mark.parametrize("fault, value, key", FAULTS, ids=[f"{f[0]}={f[1]}" for f in FAULTS])
def test_injected_fault_raises_its_event_and_removal_clears_it(fault, value, key):
    lift = Lift(seed=3)
    lift.run(20)
    assert lift.log == []
    injected = lift.model.t
    lift.model.inject(fault, value)
    # faults that act "during the next run" wait for the model to start one
    lift.run(60)
    assert lift.first("start", key, injected) is not None, lift.log
    removed = lift.model.t
    lift.model.clear(fault)
    lift.run(10)
    ended = lift.first("end", key, removed)
    assert ended is not None, lift.log
    # the controller resets once the cause is gone; clear_s later the event ends
    assert ended - removed <= 5.0


def test_thirty_minutes_of_healthy_random_traffic_raise_nothing():
    lift = Lift(seed=1, settings=EventSettings(), calls_per_minute=6.0)
    lift.run(30 * 60, period=0.2)  # the agent's default poll period ([controller])
    assert lift.log == []
    # the traffic really exercised the rules: the car ran at rated speed to many floors
    assert len(lift.floors) >= 5 and lift.top_speed >= 1.5

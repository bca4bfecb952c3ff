"""Every event of the REFERENCE.md section 1 catalogue, caused on the bench and seen where it
matters: as an alarm raised at the platform, and cleared once the cause is gone."""

from __future__ import annotations

import pytest

from hil_tests.bench import Bench

# fault injected, its value, the alarm kind and source the platform must see. Faults that
# act "during the next run" get a car call to start one.
EVENTS = [
    ("trapped", "at_floor", "trapped_at_floor", "controller"),
    ("trapped", "between_floors", "trapped_between_floors", "controller"),
    ("trapped", "between_floors", "stopped_outside_door_zone", "controller"),
    ("door_open_while_running", "true", "door_open_while_running", "controller"),
    ("overspeed", "1.3", "overspeed", "controller:1"),
    ("top_overrun", "true", "top_overrun", "controller"),
    ("bottom_overrun", "true", "bottom_overrun", "controller"),
    ("safety_circuit_open", "true", "safety_circuit_open", "controller"),
    ("door_fault", "open", "door_fault", "controller"),
    ("controller_fault", "14", "controller_fault", "controller:E14"),
    ("power_loss", "true", "power_loss", "controller"),
    ("controller_unplugged", "true", "comm_lost", "controller"),
]


def kick(bench: Bench) -> None:
    """Send the car on a trip away from where it stands (top or bottom half)."""
    floor = int(bench.sim.status().get("floor", 1))
    bench.sim.call(1 if floor > 5 else 10)


@pytest.mark.parametrize(("fault", "value", "kind", "source"), EVENTS,
                         ids=[f"{e[2]}<-{e[0]}={e[1]}" for e in EVENTS])
def test_injected_fault_raises_its_alarm_at_the_platform_and_clears(
        quiet_bench: Bench, fault: str, value: str, kind: str, source: str) -> None:
    bench = quiet_bench
    bench.require("controller_faults" if fault != "controller_unplugged" else "bus_faults")
    mark = bench.mark()
    bench.sim.inject(**{fault: value})
    kick(bench)
    raised = bench.wait_alarm(kind, "raised", timeout=60, after=mark, source=source)
    assert raised is not None, f"no {kind} alarm at the platform"
    assert raised["evidence"] is not None and raised["severity"] in ("warning", "critical")
    bench.sim.clear(fault)
    cleared = bench.wait_alarm(kind, "cleared", timeout=60, after=mark, source=source)
    assert cleared is not None and cleared["alarm_id"] == raised["alarm_id"]

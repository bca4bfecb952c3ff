"""Rope and inverter wear developing trip by trip, seen as detector alarms at the platform.

The baseline is learned at the start of the session from a healthy recording of the same
lift made faster than real time (`liftguard sim record` + `liftguard baseline learn`), and
the running agent loads it when the file appears, as it would one copied in on site.
"""

from __future__ import annotations

from typing import Any

from hil_tests.bench import Bench, SimulatedBench

# Fault levels per end-to-end trip: wear grows while the lift keeps running.
# The trackers follow an EWMA of the per-trip score (agent/detectors/tracker.py), so an alarm
# needs a few trips at the new level; the loop ends as soon as both alarms are up.
ROPE_STEPS = ("0.3", "0.6", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0")
CAPACITOR_STEPS = ("0.5", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0")


def wear_scores(bench: Bench, after: int) -> list[dict[str, Any]]:
    return [b["values"] for _, c, b in bench.platform.messages[after:]
            if c == "telemetry" and b["kind"] == "wear"]


def test_rope_and_inverter_wear_develop_into_alarms_over_successive_trips(
        quiet_bench: Bench) -> None:
    bench = quiet_bench
    bench.require("sensor_faults", "controller_faults")
    assert isinstance(bench, SimulatedBench)
    assert bench.baseline_ready(timeout=180), "the healthy baseline could not be learned"
    assert bench.platform.wait_for(lambda: bench.platform.on("event", kind="baseline_loaded"),
                                   30), bench.agent_log()
    mark = bench.mark()
    for i, (rope, cap) in enumerate(zip(ROPE_STEPS, CAPACITOR_STEPS, strict=True)):
        bench.sim.inject(rope_wear=rope, capacitor_ageing=cap)
        trips = len(wear_scores(bench, mark))
        bench.sim.call(10 if i % 2 == 0 else 1)
        assert bench.platform.wait_for(lambda n=trips: len(wear_scores(bench, mark)) > n, 90)
        if bench.alarms("rope_wear", "raised") and bench.alarms("inverter_wear", "raised"):
            break
    rope = bench.alarms("rope_wear", "raised", source="detectors")
    assert rope, wear_scores(bench, mark)
    assert rope[0]["evidence"]["feature"].startswith("rope.")
    inverter = bench.alarms("inverter_wear", "raised", source="detectors")
    assert inverter, wear_scores(bench, mark)

"""Rope and inverter wear developing trip by trip, seen as detector alarms at the platform.

The baseline is learned at the start of the session from a healthy recording of the same
lift made faster than real time (`liftguard sim record` + `liftguard baseline learn`), and
the running agent loads it when the file appears, as it would one copied in on site.
"""

from __future__ import annotations

from typing import Any

from hil_tests.bench import Bench, SimulatedBench

# Fault levels per end-to-end trip: wear grows while the lift keeps running. The trackers
# follow an EWMA of the per-trip score (agent/detectors/tracker.py), so an alarm needs a few
# trips at the new level.
ROPE_STEPS = ("0.3", "0.6", "1.0", "1.0", "1.0", "1.0")
CAPACITOR_STEPS = ("0.5", "1.0", "1.0", "1.0", "1.0", "1.0")
MIN_TRIPS = 4  # enough for the inverter trend to move, even once the rope alarm is up


def wear_scores(bench: Bench, after: int) -> list[dict[str, Any]]:
    return [b["values"] for _, c, b in bench.platform.messages[after:]
            if c == "telemetry" and b["kind"] == "wear"]


def trip(bench: Bench, floor: int, mark: int) -> dict[str, Any]:
    """Send the car end to end; the `wear` telemetry of that trip."""
    n = len(wear_scores(bench, mark))
    bench.sim.call(floor)
    assert bench.platform.wait_for(lambda: len(wear_scores(bench, mark)) > n, 90)
    return wear_scores(bench, mark)[-1]


def test_rope_and_inverter_wear_develop_over_successive_trips(quiet_bench: Bench) -> None:
    bench = quiet_bench
    bench.require("sensor_faults", "controller_faults")
    assert isinstance(bench, SimulatedBench)
    assert bench.baseline_ready(timeout=180), "the healthy baseline could not be learned"
    assert bench.platform.wait_for(lambda: bench.platform.on("event", kind="baseline_loaded"),
                                   30), bench.agent_log()
    mark = bench.mark()
    healthy = trip(bench, 10, mark)
    scores = []
    for i, (rope, cap) in enumerate(zip(ROPE_STEPS, CAPACITOR_STEPS, strict=True)):
        bench.sim.inject(rope_wear=rope, capacitor_ageing=cap)
        scores.append(trip(bench, 1 if i % 2 == 0 else 10, mark))
        if i + 1 >= MIN_TRIPS and bench.alarms("rope_wear", "raised", source="detectors"):
            break
    rope = bench.alarms("rope_wear", "raised", source="detectors")
    assert rope, scores
    assert rope[0]["evidence"]["feature"].startswith("rope.")
    assert healthy.get("rope_wear.severity") == "normal"
    # The inverter trend rises with the capacitor's ageing. (Its alarm threshold, 5 baseline
    # units, is not reached on this bench: see the closing note of issue 8.)
    inverter = [s["inverter_wear.score"] for s in scores if "inverter_wear.score" in s]
    assert inverter and inverter[-1] >= healthy["inverter_wear.score"] + 1.5, (healthy, scores)

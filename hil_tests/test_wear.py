"""Rope and inverter wear developing trip by trip, seen as detector alarms at the platform.

The baseline is learned at the start of the session from a healthy recording of the same
lift made faster than real time (`liftguard sim record` + `liftguard baseline learn`), and
the running agent loads it when the file appears, as it would one copied in on site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from hil_tests.bench import Bench, SimulatedBench

# Fault levels per end-to-end trip: wear grows while the lift keeps running. The trackers
# follow an EWMA of the per-trip score (agent/detectors/tracker.py), so an alarm needs a few
# trips at the new level.
# The DC-link sag over its load line is judged on the evidence of the recent motoring trips
# (agent/detectors/evidence.py): an aged capacitor raises the alarm after a few motoring
# accelerations, and about half the trips of an empty car are motoring.
ROPE_STEPS = ("0.3", "0.6", "1.0")
CAPACITOR_STEPS = ("0.5", "1.0", "1.0")
# then stop, whatever has been raised. The bench raised inverter_wear on the 9th trip; once in
# three runs on a host loaded ~3x over its cores (a two-process benchmark beside the suite) it
# had not by the 15th, likely as the polls thin out and the lowest bus reading of an acceleration is
# missed (offline, 4 Hz polls gave 1-6.5 units a trip at capacitor_ageing 1.0, 10 Hz 5.5-7)
MAX_TRIPS = 20


def wear_scores(bench: Bench, after: int) -> list[dict[str, Any]]:
    return [b["values"] for _, c, b in bench.platform.messages[after:]
            if c == "telemetry" and b["kind"] == "wear"]


def trip(bench: Bench, mark: int) -> dict[str, Any]:
    """Send the car to the far end from where it stands; the `wear` telemetry of that trip."""
    n = len(wear_scores(bench, mark))
    bench.sim.call(1 if int(bench.sim.status().get("floor", 1)) > 5 else 10)
    assert bench.platform.wait_for(lambda: len(wear_scores(bench, mark)) > n, 90)
    return wear_scores(bench, mark)[-1]


@dataclass
class WearRun:
    healthy: dict[str, Any]
    scores: list[dict[str, Any]]


@pytest.fixture(scope="module")
def wear_run(bench: Bench) -> WearRun:
    """One healthy trip, then trips with rope wear and capacitor ageing growing: shared by the
    scenarios below (each trip takes ~25 s of real time)."""
    bench.require("sensor_faults", "controller_faults")
    assert isinstance(bench, SimulatedBench)
    bench.settle()
    assert bench.baseline_ready(timeout=180), "the healthy baseline could not be learned"
    assert bench.platform.wait_for(lambda: bench.platform.on("event", kind="baseline_loaded"),
                                   30), bench.agent_log()
    mark = bench.mark()
    run = WearRun(trip(bench, mark), [])
    if "inverter_wear.score" not in run.healthy:
        # an empty car regenerates one way (no bus sag to judge): the way back motors
        run.healthy = trip(bench, mark)
    for i in range(MAX_TRIPS):
        k = min(i, len(ROPE_STEPS) - 1)
        bench.sim.inject(rope_wear=ROPE_STEPS[k], capacitor_ageing=CAPACITOR_STEPS[k])
        run.scores.append(trip(bench, mark))
        if all(bench.alarms(kind, "raised", source="detectors")
               for kind in ("rope_wear", "inverter_wear")):
            break
    bench.settle()
    return run


def test_rope_wear_develops_into_a_rope_wear_alarm(bench: Bench, wear_run: WearRun) -> None:
    assert wear_run.healthy.get("rope_wear.severity") == "normal"
    rope = bench.alarms("rope_wear", "raised", source="detectors")
    assert rope, wear_run.scores
    assert rope[0]["evidence"]["feature"].startswith("rope.")


def test_capacitor_ageing_develops_into_an_inverter_wear_alarm(
        bench: Bench, wear_run: WearRun) -> None:
    healthy = wear_run.healthy["inverter_wear.score"]
    last = [s["inverter_wear.score"] for s in wear_run.scores if "inverter_wear.score" in s]
    # A healthy lift's evidence is unit-variance in baseline units: within 3 (the per-trip
    # clip) unless trips out of service were let in (the fault scenarios run before this one).
    assert wear_run.healthy["inverter_wear.severity"] == "normal" and healthy < 3.0, healthy
    assert last and last[-1] >= healthy + 1.5, (healthy, last)
    inverter = bench.alarms("inverter_wear", "raised", source="detectors")
    assert inverter, [s.get("inverter_wear.score") for s in wear_run.scores]
    assert inverter[0]["evidence"]["feature"] == "inverter.dc_sag_v"  # the DC link, not a tone

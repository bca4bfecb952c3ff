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
ROPE_STEPS = ("0.3", "0.6", "1.0", "1.0", "1.0", "1.0")
CAPACITOR_STEPS = ("0.5", "1.0", "1.0", "1.0", "1.0", "1.0")
MIN_TRIPS = 4  # enough for the inverter trend to move, even once the rope alarm is up


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
    for i, (rope, cap) in enumerate(zip(ROPE_STEPS, CAPACITOR_STEPS, strict=True)):
        bench.sim.inject(rope_wear=rope, capacitor_ageing=cap)
        run.scores.append(trip(bench, mark))
        if i + 1 >= MIN_TRIPS and bench.alarms("rope_wear", "raised", source="detectors"):
            break
    bench.settle()
    return run


def test_rope_wear_develops_into_a_rope_wear_alarm(bench: Bench, wear_run: WearRun) -> None:
    assert wear_run.healthy.get("rope_wear.severity") == "normal"
    rope = bench.alarms("rope_wear", "raised", source="detectors")
    assert rope, wear_run.scores
    assert rope[0]["evidence"]["feature"].startswith("rope.")


@pytest.mark.xfail(strict=True, reason=(
    "known defect, measured (agent log, issue 8): the live inverter_wear score is set by an "
    "acoustic band, inverter.tone_158, which reads ~56.8 dB on the bench's empty-car trip "
    "against 52.3 dB (MAD 0.33) in the baseline learned from `sim record` traffic: ~4 baseline "
    "units on a healthy trip, 5.0 with the capacitor aged, so the healthy < 2 premise fails. "
    "Not yet located: band levels are scored per speed bin only, and the simulated motor "
    "noise follows the current (bench: empty car; recording: random loads). The "
    "DC-link feature inverter.dip_per_a does track the capacitor: 6.07 units (3.20 V/A) on "
    "the bench's first motoring trip at ageing 1.0; median 0.1 -> 1.1 -> 3.8 units at ageing "
    "0 / 0.4 / 1 on the stepping model read at one ripple phase"))
def test_capacitor_ageing_develops_into_an_inverter_wear_alarm(
        bench: Bench, wear_run: WearRun) -> None:
    healthy = wear_run.healthy["inverter_wear.score"]
    last = [s["inverter_wear.score"] for s in wear_run.scores if "inverter_wear.score" in s]
    assert healthy < 2.0 and last and last[-1] >= healthy + 1.5, (healthy, last)
    assert bench.alarms("inverter_wear", "raised", source="detectors")

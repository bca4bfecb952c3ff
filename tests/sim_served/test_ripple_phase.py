"""The served sim publishes its register image at instants that wander over the DC-bus
ripple period, so a master polling a few times a second reads the bus at random ripple
phases (as on a real drive, whose register refresh is not locked to the mains) and sees the
ripple as a spread of readings, not one phase-locked value."""

from __future__ import annotations

import math
import random
import shutil
import time
from itertools import islice
from pathlib import Path

import pytest

from drivers.controller.profile import load_profile
from drivers.sim.model import ElevatorModel
from drivers.sim.params import SimParams
from drivers.sim.server import TICK, ServedOptions, ServedSim, tick_intervals

RIPPLE_HZ = 300.0  # six-pulse ripple of the default 50 Hz mains


def resultant(times: list[float], hz: float = RIPPLE_HZ) -> float:
    """Length of the mean unit phasor of the instants at `hz`: 1 = all at one phase,
    ~1/sqrt(n) for phases spread uniformly."""
    c = sum(math.cos(2 * math.pi * hz * t) for t in times) / len(times)
    s = sum(math.sin(2 * math.pi * hz * t) for t in times) / len(times)
    return math.hypot(c, s)


def test_a_fixed_twenty_millisecond_tick_would_lock_the_ripple_phase() -> None:
    # the check below can fail: the old fixed tick is six ripple periods exactly
    assert resultant([k * TICK for k in range(200)]) > 0.99


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_tick_instants_spread_over_the_ripple_period(mains_hz: float) -> None:
    t, times = 0.0, []
    for dt in islice(tick_intervals(random.Random(3)), 200):
        t += dt
        times.append(t)
    assert resultant(times, 6 * mains_hz) < 0.25
    assert abs(t / 200 - TICK) < 0.1 * TICK  # still ~50 register updates a second


class PublishLog(ElevatorModel):
    """The real model, noting the simulated time of every register image published."""

    published: list[float]

    def readings(self):  # type: ignore[no-untyped-def]
        self.published.append(self.t)
        return super().readings()


def test_served_images_are_published_at_wandering_ripple_phases(tmp_path: Path) -> None:
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    params = SimParams().with_overrides(["traffic.random_calls=false"])
    model = PublishLog(params, seed=1, profile=load_profile("nice3000plus"))
    model.published = []
    sim = ServedSim(model, load_profile("nice3000plus"),
                    ServedOptions(sensors=str(tmp_path / "s.sock"),
                                  control=str(tmp_path / "c.sock")))
    try:
        sim.start()
        deadline = time.monotonic() + 10
        while len(model.published) < 60 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sim.stop()
    times = model.published[1:]  # the first image is published before the model thread runs
    assert len(times) >= 40
    assert resultant(times) < 0.4, times[:10]

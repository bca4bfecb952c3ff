"""`liftguard demo --duration S`: a live view of a moving elevator, then a clean exit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.demo import door_state, render
from tests.sim_served.conftest import ROOT

# Marks this run's demo sim among any others on the shared machine (other test runs too).
SEED = str(os.getpid())


def demo_processes() -> list[int]:
    """Processes still running this test's demo sim."""
    out = []
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"liftguard-demo-" in cmd and b"--seed\x00" + SEED.encode() + b"\x00" in cmd:
            out.append(int(entry.name))
    return out


@pytest.mark.skipif(not Path("/usr/bin/socat").exists(), reason="socat not installed")
def test_demo_shows_the_elevator_moving_and_stops_its_sim():
    result = subprocess.run([sys.executable, "-m", "agent.cli", "demo", "--duration", "10",
                             "--seed", SEED],
                            cwd=ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr
    rows = [dict(re.findall(r"(floor|speed|door) ([^|]+?) (?:m/s )?\|", line))
            for line in result.stdout.splitlines()]
    assert len(rows) >= 20  # ~5 refreshes a second
    floors = {r["floor"] for r in rows}
    speeds = [float(r["speed"].split()[0]) for r in rows if r["speed"] != "?"]
    assert len(floors) > 1
    assert max(speeds) > 0.5 and speeds[0] == 0.0
    assert "failed" in result.stdout and " 0 failed" in result.stdout.splitlines()[-1]
    assert demo_processes() == []


@pytest.mark.parametrize(
    ("state", "door"),
    [({"door_open_limit": True}, "open"), ({"door_close_limit": True}, "closed"),
     ({"door_open_cmd": True}, "opening"), ({"door_close_cmd": True}, "closing"), ({}, "?")],
)
def test_door_state_from_the_car_top_bits(state, door):
    assert door_state(state) == door


def test_a_view_without_readings_shows_unknowns_not_zeros():
    text = render({}, {}, "", "NoResponse: no answer", {"ok": 0, "failed": 3}, 1.0, False)
    assert "floor ? " in text and "speed ? " in text and "3 failed" in text

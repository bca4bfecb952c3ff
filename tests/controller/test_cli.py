"""`liftguard controller probe|read`: answers on the virtual elevator, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def liftguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60)


def test_probe_finds_the_nice3000plus_profile(sim):
    out = liftguard("controller", "probe", "--port", sim["link"], "--parity", "N")
    assert out.returncode == 0, out.stderr
    assert "nice3000plus     reads 3/3" in out.stdout
    assert out.stdout.strip().endswith("best match: nice3000plus")


def test_read_follow_prints_one_json_object_per_poll(sim):
    out = liftguard("controller", "read", "--port", sim["link"], "--parity", "N", "--json",
                    "--follow", "--period", "0.1", "--count", "3")
    assert out.returncode == 0, out.stderr
    polls = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(polls) == 3 and all(p["ok"] for p in polls)
    assert polls[0]["readings"]["rated_speed_mps"] == 1.75


def test_read_prints_a_table_with_units(sim):
    out = liftguard("controller", "read", "--port", sim["link"], "--parity", "N")
    assert out.returncode == 0, out.stderr
    assert "rated_speed_mps          1.75 m/s" in out.stdout
    assert "  car_state" in out.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["read", "--port", "/nonexistent/tty"], "cannot open the controller port"),
        (["read", "--port", "loop://", "--timeout", "0.05"], "not a response"),
        (["read", "--port", "loop://", "--profile", "nope"], "unknown profile 'nope'"),
        (["read", "--port", "loop://", "--device-id", "300"], "--device-id 300 must be 1..247"),
        (["read", "--port", "loop://", "--baud", "7"], "--baud 7 is not a standard rate"),
        (["read"], "the following arguments are required: --port"),
    ],
)
def test_bad_input_is_a_one_line_error(args, fragment):
    out = liftguard("controller", *args)
    assert out.returncode != 0
    assert out.stderr.count("\n") == 1 and fragment in out.stderr, out.stderr

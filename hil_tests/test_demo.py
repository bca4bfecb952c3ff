"""`liftguard demo` as a first-time user runs it: alarms arrive within the first minute."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_shows_a_trapped_passenger_alarm_arriving_and_clearing_then_stops_cleanly():
    r = subprocess.run([sys.executable, "-m", "agent.cli", "demo", "--duration", "50",
                        "--refresh", "2", "--keep"], cwd=ROOT, capture_output=True, text=True,
                       timeout=180, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    alarms = re.findall(r"(RAISED|CLEARED)\s+(\w+)\s+(\w+) \((\w[\w:]*)\)", r.stdout)
    assert ("RAISED", "critical", "trapped_at_floor", "controller") in alarms, r.stdout[-3000:]
    assert ("CLEARED", "critical", "trapped_at_floor", "controller") in alarms
    # every line is a view of the elevator as the platform received it
    last = r.stdout.strip().splitlines()[-1]
    assert "health ok" in last and "floor " in last
    # no process of the run is left: none has the run's folder on its command line
    folder = re.search(r"run folder kept: (\S+)", r.stderr)
    assert folder is not None
    try:
        left = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                and folder.group(1).encode() in _cmdline(p)]
        assert left == []
    finally:
        shutil.rmtree(folder.group(1), ignore_errors=True)


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""

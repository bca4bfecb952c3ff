"""`liftguard sim run` as a child process for suites that need the virtual elevator on a pty.

Endpoints live under a private tmp folder; stderr goes to a file so a chatty sim can never block
on a full pipe; the sim is stopped by PID (SIGTERM, then SIGKILL) even when the test fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SimEndpoints:
    link: Path
    control: Path
    sensors: Path


@contextmanager
def served_sim(tmp_path: Path, extra: Sequence[str] = ()) -> Iterator[SimEndpoints]:
    ends = SimEndpoints(tmp_path / "ctl", tmp_path / "control.sock", tmp_path / "sensors.sock")
    with open(tmp_path / "sim.stderr", "w") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "sim", "run", "--link", str(ends.link),
             "--control", str(ends.control), "--sensors", str(ends.sensors), *extra],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "ready":
                break
        else:
            pytest.fail(f"sim did not start: {(tmp_path / 'sim.stderr').read_text()[-500:]}")
        yield ends
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout:
            proc.stdout.close()

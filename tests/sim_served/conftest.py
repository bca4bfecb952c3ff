"""Fixtures for the served virtual elevator: real socat pty pairs and the sim as a subprocess,
always stopped by PID (also when a test fails)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.sim.link import PtyPair

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    pair = PtyPair(tmp_path, "pair")
    pair.start()
    try:
        yield pair
    finally:
        pair.stop()


class SimProcess:
    """`liftguard sim run` as a child process; endpoints parsed from its stdout."""

    def __init__(self, args: list[str], cwd: Path = ROOT) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "sim", "run", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
            start_new_session=True,
        )
        self.endpoints: dict[str, str] = {}
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"sim exited before ready: {err}")
            line = line.strip()
            if line == "ready":
                return
            key, _, value = line.partition(": ")
            self.endpoints[key] = value
        raise RuntimeError("sim not ready within 30 s")

    @property
    def controller(self) -> str:
        return self.endpoints["controller"]

    @property
    def control(self) -> str:
        return self.endpoints["control"]

    def socat_pids(self) -> list[int]:
        return child_pids(self.proc.pid, "socat")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return self.proc.returncode


def child_pids(parent: int, name: str) -> list[int]:
    """PIDs of `parent`'s children called `name`, from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if int(fields[1]) == parent and comm == name:
            out.append(int(entry.name))
    return out


@pytest.fixture
def start_sim() -> Iterator[object]:
    """Call with CLI args; every sim started is stopped at the end, socat children included."""
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    started: list[SimProcess] = []

    def start(*args: str) -> SimProcess:
        sim = SimProcess(list(args))
        started.append(sim)
        return sim

    try:
        yield start
    finally:
        for sim in started:
            leftovers = child_pids(sim.proc.pid, "socat")
            sim.stop()
            for pid in leftovers:  # only if the sim itself failed to stop them
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

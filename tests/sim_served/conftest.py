"""Fixtures for the served virtual elevator: real socat pty pairs and the sim as a subprocess,
always stopped by PID (also when a test fails)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.demo_stack import SimProcess
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
def start_sim() -> Iterator[Callable[..., SimProcess]]:
    """`start_sim(**options)`: the product's SimProcess (agent/demo_stack.py) started with
    those options (calls="none" unless given), its endpoints in a short private directory
    (socket paths must fit sockaddr_un). Every sim started is stopped at the end, by PID,
    with its socat children."""
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    workdir = Path(tempfile.mkdtemp(prefix="lg-sim-"))
    started: list[SimProcess] = []

    def start(**options: Any) -> SimProcess:
        options.setdefault("calls", "none")
        folder = workdir / str(len(started))
        folder.mkdir()
        sim = SimProcess(folder, **options)
        started.append(sim)
        return sim.start()

    try:
        yield start
    finally:
        for sim in started:
            leftovers = child_pids(sim.proc.pid, "socat") if sim.proc else []
            sim.stop()
            for pid in leftovers:  # only if the sim itself failed to stop them
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)

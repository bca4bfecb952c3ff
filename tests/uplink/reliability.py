"""Shared drivers for the reliability tests and benchmarks: a config for a box on a test
broker, the kill -9 soak loop around `python -m agent.uplink.soak`, and the broker
SIGKILL/restart loop under a running alarm pipeline (tests/uplink/test_reliability.py and
benchmarks/uplink.py both run these; the test asserts on what the benchmark reports)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agent.uplink.pipeline import AlarmPipeline
from tests.support.mosquitto import Mosquitto
from tests.support.subscriber import Received

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp: Path, broker: Mosquitto, *, site: str = "s1", lift: str = "L1",
                 extra: str = "", storage: str = "") -> Path:
    tls = ""
    if broker.pki is not None:
        ident = broker.pki.clients[f"{site}.{lift}"]
        tls = (f'ca_file = "{broker.pki.ca_cert}"\ncert_file = "{ident.cert}"\n'
               f'key_file = "{ident.key}"\n')
    text = f"""
[device]
site = "{site}"
lift = "{lift}"

[mqtt]
host = "{broker.host}"
port = {broker.port}
tls = {"true" if broker.pki is not None else "false"}
{tls}backoff_min_s = 0.05
backoff_max_s = 1.0
heartbeat_s = 3600
{extra}
[storage]
outbox_path = "{tmp / 'outbox.db'}"
counter_path = "{tmp / 'counters.json'}"
trail_path = "{tmp / 'trail.jsonl'}"
{storage}
"""
    path = tmp / "lg.toml"
    path.write_text(text)
    return path


@dataclass
class SoakRun:
    committed: dict[str, str] = field(default_factory=dict)
    """msg_id -> alarm_id for every change the killed processes had committed."""
    kills: int = 0


def _run_soak(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "agent.uplink.soak", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env, start_new_session=True)


def kill9_cycles(config: Path, cycles: int, rng: random.Random,
                 max_alive_s: float = 0.4) -> SoakRun:
    """Start the soak, let it raise alarms for a random time, SIGKILL it; `cycles` times."""
    run = SoakRun()
    for _ in range(cycles):
        proc = _run_soak(["--config", str(config), "--rate", "300"])
        lines: list[str] = []
        ready = threading.Event()

        def reader(p: subprocess.Popen[str] = proc, out: list[str] = lines,
                   ev: threading.Event = ready) -> None:
            assert p.stdout is not None
            for line in p.stdout:
                out.append(line)
                if line.startswith("ready"):
                    ev.set()
            ev.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            if not ready.wait(30):
                raise RuntimeError("soak did not start")
            time.sleep(rng.uniform(0.0, max_alive_s))
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            t.join(10)
            err = proc.stderr.read() if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            if proc.stdout:
                proc.stdout.close()
        if proc.returncode not in (-signal.SIGKILL, 0):
            raise RuntimeError(f"soak exited with {proc.returncode}: {err[-2000:]}")
        run.kills += 1
        for line in lines:
            parts = line.split()
            # A line is complete only with its newline; the kill can cut the last one.
            if len(parts) == 4 and parts[0] == "committed" and line.endswith("\n"):
                run.committed[parts[3]] = parts[2]
    return run


def drain(config: Path, timeout: float = 120.0) -> None:
    proc = _run_soak(["--config", str(config), "--drain", "--timeout", str(timeout)])
    try:
        out, err = proc.communicate(timeout=timeout + 30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    if proc.returncode != 0:
        raise RuntimeError(f"drain failed ({proc.returncode}): {err[-2000:]}")


@dataclass
class RestartRun:
    raised: list[str] = field(default_factory=list)
    """alarm_id of every alarm raised while the broker went down and came back."""
    reconnect_s: list[float] = field(default_factory=list)
    """Per restart: broker started -> uplink connected again (inf: not within the wait)."""


def broker_restart_cycles(pipeline: AlarmPipeline, broker: Mosquitto, restarts: int,
                          rng: random.Random, wait_s: float) -> RestartRun:
    """SIGKILL and restart `broker` `restarts` times at random moments while a thread raises
    an alarm every 10 ms through the started, online `pipeline`; each reconnect is waited
    for up to `wait_s` after the broker is back."""
    run = RestartRun()
    stop = threading.Event()

    def raiser() -> None:
        n = 0
        while not stop.is_set():
            run.raised.append(pipeline.alarms.raise_("door_fault", f"door:{n}",
                                                     "warning").alarm_id)
            n += 1
            time.sleep(0.01)

    t = threading.Thread(target=raiser)
    t.start()
    connected = pipeline.uplink.connected_at
    try:
        for _ in range(restarts):
            time.sleep(rng.uniform(0.1, 0.5))
            broker.kill()
            time.sleep(rng.uniform(0.1, 1.0))
            before = len(connected)
            broker.start()
            up = time.monotonic()
            while len(connected) == before and time.monotonic() < up + wait_s:
                time.sleep(0.005)
            run.reconnect_s.append(connected[before] - up if len(connected) > before
                                   else float("inf"))
    finally:
        stop.set()
        t.join()
    return run


def alarm_ids(messages: Iterable[Received]) -> set[str]:
    """alarm_id of every alarm publication among a subscriber's messages."""
    return {m.body["alarm_id"] for m in messages if m.channel == "alarm"}

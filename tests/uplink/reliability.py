"""Shared drivers for the reliability tests and benchmarks: a config for a box on a test
broker, and the kill -9 soak loop around `python -m agent.uplink.soak`."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.mosquitto import Mosquitto

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

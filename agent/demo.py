"""`liftguard demo`: the whole system on one machine, with a live view.

Stage one: the demo starts the virtual elevator (`liftguard sim run`, a child process stopped
by PID) and shows its state about five times a second: floor, position, speed, direction,
door, car state, load, DC bus, current, heatsink, the controller's fault code and the faults
injected into the sim. The state is read the way the agent will read it: as a Modbus master
on the controller port (drivers/sim/master.py), so the view shows what crosses the emulated
RS-485 wire, including silence and CRC errors when the bus is faulty. Only the list of
injected faults comes from the sim's control socket. Later stages add the agent and the
broker to this command.

On a terminal the view redraws in place; otherwise (a pipe, a log, a test) it prints one line
per refresh. Ctrl-C (or `--duration S`) stops the demo and the sim.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from agent.errors import HardwareUnavailable, InputError

READY_TIMEOUT = 30.0
FIRST_CALL_FLOOR = 3


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds (default: run until Ctrl-C)")
    parser.add_argument("--refresh", type=float, default=5.0, metavar="HZ",
                        help="view updates per second (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="sim random seed (default 0)")
    parser.add_argument("--baud", type=int, default=19200, help="controller line rate")
    parser.add_argument("--calls-per-minute", type=float, default=6.0, metavar="N",
                        help="random passenger arrivals (default 6: a busy lift to watch)")
    parser.add_argument("--inject", action="append", default=[], metavar="NAME=VALUE",
                        help="start the sim with this fault (repeatable)")


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration {args.duration} must be > 0")
    if not 0.2 <= args.refresh <= 20:
        raise InputError(f"--refresh {args.refresh} must be 0.2..20")
    workdir = Path(tempfile.mkdtemp(prefix="liftguard-demo-"))
    sim: subprocess.Popen[str] | None = None
    stop = {"now": False}
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        sim, endpoints = _start_sim(args, workdir)
        _show(args, sim, endpoints, stop, sys.stdout)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if sim is not None:
            _stop_sim(sim)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _start_sim(
    args: argparse.Namespace, workdir: Path
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    cmd = [sys.executable, "-m", "agent.cli", "sim", "run", "--seed", str(args.seed),
           "--baud", str(args.baud), "--link", str(workdir / "controller"),
           "--control", str(workdir / "control.sock"),
           "--set", f"traffic.calls_per_minute={args.calls_per_minute}"]
    for item in args.inject:
        cmd += ["--inject", item]
    sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)  # Ctrl-C reaches the demo, which stops it
    endpoints: dict[str, str] = {}
    deadline = time.monotonic() + READY_TIMEOUT
    assert sim.stdout is not None
    while time.monotonic() < deadline:
        line = sim.stdout.readline().strip()
        if line == "ready":
            _first_call(endpoints["control"])
            return sim, endpoints
        if not line and sim.poll() is not None:
            err = (sim.stderr.read() if sim.stderr else "").strip().splitlines()
            _stop_sim(sim)
            raise HardwareUnavailable(f"the sim did not start: {err[-1] if err else '?'}")
        key, _, value = line.partition(": ")
        endpoints[key] = value
    _stop_sim(sim)
    raise HardwareUnavailable(f"the sim was not ready within {READY_TIMEOUT:.0f} s")


def _first_call(control: str) -> None:
    """Send the car a few floors up at once, so the view shows a trip from the start."""
    from drivers.sim.control import send

    send(control, {"cmd": "call", "floor": FIRST_CALL_FLOOR})


def _stop_sim(sim: subprocess.Popen[str]) -> None:
    if sim.poll() is None:
        sim.send_signal(signal.SIGTERM)
        try:
            sim.wait(10)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()
    for stream in (sim.stdout, sim.stderr):
        if stream:
            stream.close()


def _show(
    args: argparse.Namespace, sim: subprocess.Popen[str], endpoints: Mapping[str, str],
    stop: dict[str, bool], out: TextIO,
) -> None:
    import serial

    from drivers.controller.profile import load_profile
    from drivers.sim.control import ControlError, SimUnreachable, send
    from drivers.sim.master import ProbeError, RegisterProbe
    from drivers.sim.slave import register_runs

    profile = load_profile("nice3000plus")
    runs = register_runs(a for f in profile.fields for a in range(f.address, f.address + f.words))
    port = serial.serial_for_url(endpoints["link"], baudrate=args.baud, timeout=0.3)
    probe = RegisterProbe(port, timeout=0.3)
    tty = out.isatty()
    period = 1.0 / args.refresh
    start = time.monotonic()
    counts = {"ok": 0, "failed": 0}
    try:
        next_at = start
        while not stop["now"] and sim.poll() is None:
            now = time.monotonic()
            if args.duration is not None and now - start >= args.duration:
                break
            regs: dict[int, int] = {}
            error = ""
            for address, count in runs:
                try:
                    regs.update(zip(range(address, address + count),
                                    probe.read(address, count), strict=True))
                    counts["ok"] += 1
                except ProbeError as exc:
                    counts["failed"] += 1
                    error = f"{type(exc).__name__}: {exc}"
            try:
                active = send(endpoints["control"], {"cmd": "status"})["status"].get("faults", {})
            except (SimUnreachable, ControlError):
                active = {}
            state = profile.decode(regs)
            fault = profile.faults.get(int(state.get("fault_code", 0) or 0))
            text = render(state, active, fault.code if fault else "", error, counts,
                          now - start, tty, endpoints["control"])
            out.write(("\x1b[H\x1b[J" + text) if tty else text)
            out.flush()
            next_at += period
            time.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        port.close()


def door_state(state: Mapping[str, Any]) -> str:
    if state.get("door_open_limit"):
        return "open"
    if state.get("door_close_limit"):
        return "closed"
    if state.get("door_open_cmd"):
        return "opening"
    if state.get("door_close_cmd"):
        return "closing"
    return "?"


def render(
    state: Mapping[str, Any], active: Mapping[str, Any], fault_code: str, error: str,
    counts: Mapping[str, int], elapsed: float, tty: bool, control: str = "",
) -> str:
    """The live view of one refresh: a panel for a terminal, one line otherwise."""
    direction = {1: "up", 2: "down", 3: "stop"}.get(int(state.get("direction", 3) or 3), "?")
    faults = ", ".join(f"{k}={v}" for k, v in active.items()) or "none"
    items = [
        ("floor", f"{state.get('floor', '?')}"),
        ("position", _num(state, "position_m", "{:.1f} m")),
        ("speed", _num(state, "speed_mps", "{:.3f} m/s")),
        ("direction", direction),
        ("door", door_state(state) if state else "?"),
        ("car", f"{state.get('car_state', '?')}"),
        ("mode", f"{state.get('mode', '?')}"),
        ("load", _num(state, "load_pct", "{:.1f} %")),
        ("dc bus", _num(state, "dc_bus_v", "{:.1f} V")),
        ("current", _num(state, "current_a", "{:.1f} A")),
        ("heatsink", _num(state, "heatsink_c", "{:.1f} C")),
        ("fault", fault_code or ("-" if state else "?")),
        ("injected", faults),
        ("modbus", f"{counts['ok']} reads ok, {counts['failed']} failed"
                   + (f" (last: {error})" if error else "")),
    ]
    if not tty:
        return f"t={elapsed:6.1f}s " + " | ".join(f"{k} {v}" for k, v in items) + "\n"
    lines = [f"liftguard demo: virtual elevator seen through Modbus   t = {elapsed:6.1f} s",
             ""]
    lines += [f"  {k:<10} {v}" for k, v in items]
    lines += ["", "  Ctrl-C stops. Add a fault from another terminal:",
              f"  liftguard sim inject --control {control} NAME=VALUE",
              "  (the catalogue: liftguard sim faults)"]
    return "\n".join(lines) + "\n"


def _num(state: Mapping[str, Any], key: str, fmt: str) -> str:
    value = state.get(key)
    with contextlib.suppress(TypeError, ValueError):
        return fmt.format(float(value))  # type: ignore[arg-type]
    return "?"

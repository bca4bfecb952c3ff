"""`liftguard demo`: the whole system on one machine, with a live view.

What runs (agent/demo_stack.py), all as child processes stopped by PID on exit or Ctrl-C:

    mosquitto            a local broker on a free 127.0.0.1 port, TLS with client
                         certificates and a per-device ACL; certificates and the operator's
                         command-signing key are made fresh for this run (agent/demo_pki.py)
    liftguard sim run    the virtual elevator: controller on a pty, sensor streams
    liftguard run        the agent, with a config written for this run
    (in this process)    the platform: an MQTT client with the operator's certificate

The view shows only what arrives at the platform: the elevator as the agent reports it
(`controller` telemetry), detector scores (`wear` telemetry), health (`state` telemetry) and
alarms as they arrive. A schedule makes something happen for a first-time user: a passenger
is trapped at a floor after SCHEDULE's first step (alarm within about half a minute) and
freed again, and once the agent has learned its baseline a rope-wear fault develops step by
step until the rope-wear alarm rises. Nothing needs to be typed; `--no-schedule` turns it off.

On a terminal the view redraws in place; otherwise (a pipe, a log, a test) it prints one line
per refresh. Ctrl-C (or `--duration S`) stops everything and removes the run's files.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from agent.errors import InputError

SITE, LIFT = "demo", "L1"
FIRST_CALL_FLOOR = 3
# Rule timers shortened so the demo shows its events in seconds, not minutes.
DEMO_EVENTS = {"trapped_at_floor_s": 8.0, "trapped_between_floors_s": 8.0,
               "stopped_outside_door_zone_s": 20.0, "clear_s": 1.0}
# baseline_trips = 0: the baseline comes from BaselineLearner (below), not from live trips.
DEMO_RUNTIME = {"baseline_trips": 0, "telemetry_period_s": 0.2, "state_period_s": 1.0}
POLL_PERIOD_S = 0.2
# Simulated seconds of healthy traffic recorded for the baseline (about 30 trips).
BASELINE_RECORD_S = 600
WEAR_STEPS = (0.4, 0.6, 0.8, 1.0)
WEAR_STEP_S = 12.0
# End-to-end trips reach rated speed, whose constant-speed phase the rope detector needs; the
# demo sends one every TRIP_EVERY_S on top of the random passengers so the baseline is
# learned in about a minute.
TRIP_EVERY_S = 12.0
TOP_FLOOR = 10


@dataclass
class Schedule:
    """Fault injections at set times (seconds since the agent came online); the rope wear
    starts once the baseline is learned, since wear is measured against it."""

    trapped_at: float = 12.0
    freed_at: float = 32.0
    done: set[str] = field(default_factory=set)
    next_trip: float = TRIP_EVERY_S
    trips: int = 0
    wear_step: int = 0
    wear_next: float | None = None
    note: str = ""

    def step(self, sim: Any, t: float, baseline_ready: bool) -> None:
        trapped = "trapped" in self.done and "freed" not in self.done
        if t >= self.next_trip and not trapped:
            self.trips += 1
            sim.call(1 if self.trips % 2 == 0 else TOP_FLOOR)
            self.next_trip = t + TRIP_EVERY_S
        if t >= self.trapped_at and "trapped" not in self.done:
            sim.inject(trapped="at_floor")
            self.done.add("trapped")
            self.note = f"t={t:.0f}s: a passenger is trapped at a floor (alarm after 8 s)"
        if t >= self.freed_at and "freed" not in self.done:
            sim.clear("trapped")
            sim.call(1)
            self.done.add("freed")
            self.note = f"t={t:.0f}s: passenger freed; the alarm clears"
        if baseline_ready and self.wear_next is None:
            self.wear_next = t
        if (self.wear_next is not None and t >= self.wear_next
                and self.wear_step < len(WEAR_STEPS)):
            level = WEAR_STEPS[self.wear_step]
            sim.inject(rope_wear=level)
            self.wear_step += 1
            self.wear_next = t + WEAR_STEP_S
            self.note = f"t={t:.0f}s: rope wear develops: level {level} (of 1)"


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
    parser.add_argument("--no-schedule", action="store_true",
                        help="do not inject the trapped passenger and the rope wear")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's folder (configs, certificates, logs) at exit")


def run(args: argparse.Namespace) -> int:
    from agent.demo_pki import make_credentials
    from agent.demo_stack import AgentProcess, Broker, Platform, SimProcess, agent_config

    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration {args.duration} must be > 0")
    if not 0.2 <= args.refresh <= 20:
        raise InputError(f"--refresh {args.refresh} must be 0.2..20")
    workdir = Path(tempfile.mkdtemp(prefix="liftguard-demo-"))
    stop = {"now": False}
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    parts: list[Any] = []
    try:
        creds = make_credentials(workdir / "pki", SITE, LIFT)
        broker = Broker(workdir, creds, SITE, LIFT).start()
        parts.append(broker)
        sim = SimProcess(workdir, seed=args.seed, baud=args.baud, injections=args.inject,
                         settings=[f"traffic.calls_per_minute={args.calls_per_minute}"]).start()
        parts.append(sim)
        cfg = agent_config(workdir, creds, broker, sim.endpoints, site=SITE, lift=LIFT,
                           extra={"events": DEMO_EVENTS, "runtime": DEMO_RUNTIME,
                                  "controller": {"poll_period_s": POLL_PERIOD_S,
                                                 "baudrate": args.baud}})
        platform = Platform.for_run(broker, creds, SITE, LIFT).start()
        parts.append(platform)
        agent = AgentProcess(cfg, workdir / "agent.log").start()
        parts.append(agent)
        parts.append(BaselineLearner(workdir, args.seed, args.calls_per_minute))
        view = View(platform, sim, agent, broker, workdir, sys.stdout)
        view.loop(args, stop, None if args.no_schedule else Schedule())
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for part in reversed(parts):  # agent first: its goodbye still reaches the broker
            with contextlib.suppress(Exception):
                part.stop()
        if args.keep:
            print(f"run folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


class BaselineLearner:
    """Learns the demo lift's healthy baseline while the demo runs: `liftguard sim record`
    (the same model and seed, healthy, faster than real time) then `liftguard baseline learn`,
    written atomically where the agent's [detectors] baseline points; the agent picks it up
    on its own (agent/runtime/wear.py reload_baseline). This is the field workflow too:
    record a healthy lift, learn on a laptop, copy the file in."""

    def __init__(self, workdir: Path, seed: int, calls_per_minute: float) -> None:
        import subprocess

        rec = workdir / "healthy-recordings"
        script = (
            f"{shlex.quote(sys.executable)} -m agent.cli sim record -o {rec} "
            f"--duration {BASELINE_RECORD_S} --seed {seed + 1} --poll {POLL_PERIOD_S} "
            f"--set traffic.calls_per_minute={max(calls_per_minute, 6.0)} && "
            f"{shlex.quote(sys.executable)} -m agent.cli baseline learn {rec}/*.wav "
            f"{rec}/controller.csv -o {workdir / 'baseline.json'}")
        self.proc = subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)

    def stop(self) -> None:
        from agent.demo_stack import stop_process

        stop_process(self.proc)
        if self.proc.stderr:
            self.proc.stderr.close()


class View:
    def __init__(self, platform: Any, sim: Any, agent: Any, broker: Any, workdir: Path,
                 out: TextIO) -> None:
        self.platform, self.sim, self.agent, self.broker = platform, sim, agent, broker
        self.workdir, self.out = workdir, out
        self.tty = out.isatty()
        self.seen_alarms = 0
        self.alarm_lines: list[str] = []

    def loop(self, args: argparse.Namespace, stop: dict[str, bool],
             schedule: Schedule | None) -> None:
        period = 1.0 / args.refresh
        start = time.monotonic()
        online_at: float | None = None
        next_at = start
        while not stop["now"]:
            now = time.monotonic()
            if args.duration is not None and now - start >= args.duration:
                break
            if not self.agent.running:
                raise InputError(f"the agent stopped; its log: {self.tail_log()}")
            latest = self.latest()
            if online_at is None and latest["controller"]:
                online_at = now
                self.sim.call(FIRST_CALL_FLOOR)  # a trip from the start, seen from rest
            if schedule is not None and online_at is not None:
                ready = latest["wear"].get("learning") is False
                schedule.step(self.sim, now - online_at, ready)
            fresh = self.new_alarms()
            text = render(latest["controller"], {}, "", "", latest["counts"], now - start,
                          self.tty, self.sim.endpoints.control, scores=latest["wear"],
                          health=latest["state"], alarms=self.alarm_lines if self.tty else fresh,
                          note=schedule.note if schedule else "",
                          broker=f"{self.broker.host}:{self.broker.port}")
            self.out.write(("\x1b[H\x1b[J" + text) if self.tty else text)
            self.out.flush()
            next_at += period
            time.sleep(max(0.0, next_at - time.monotonic()))

    def latest(self) -> dict[str, Any]:
        tele = self.platform.on("telemetry")
        out: dict[str, Any] = {"controller": {}, "wear": {}, "state": {}}
        for body in tele:  # oldest first: the last of each kind wins
            kind = body.get("kind")
            if kind in out:
                out[kind] = body.get("values", {})
        st = out["state"]
        polls, failed = int(st.get("polls", 0)), int(st.get("polls_failed", 0))
        out["counts"] = {"ok": polls - failed, "failed": failed}
        return out

    def new_alarms(self) -> list[str]:
        alarms = self.platform.on("alarm")
        fresh = []
        for a in alarms[self.seen_alarms:]:
            line = (f"{a.get('ts', '')[11:19]} {a.get('state', '?').upper():<12} "
                    f"{a.get('severity', '?'):<8} {a.get('kind', '?')} ({a.get('source', '?')})")
            fresh.append(line)
        self.seen_alarms = len(alarms)
        self.alarm_lines = (self.alarm_lines + fresh)[-10:]
        return fresh

    def tail_log(self) -> str:
        with contextlib.suppress(OSError):
            lines = (self.workdir / "agent.log").read_text().strip().splitlines()
            return lines[-1] if lines else "(empty)"
        return "(none)"


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
    counts: Mapping[str, int], elapsed: float, tty: bool, control: str = "", *,
    scores: Mapping[str, Any] | None = None, health: Mapping[str, Any] | None = None,
    alarms: list[str] | None = None, note: str = "", broker: str = "",
) -> str:
    """The live view of one refresh: a panel for a terminal, one line otherwise."""
    direction = {1: "up", 2: "down", 3: "stop"}.get(int(state.get("direction", 3) or 3), "?")
    faults = ", ".join(f"{k}={v}" for k, v in active.items())
    code = fault_code or (f"{state['fault_code']}" if state.get("fault_code") else "")
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
        ("fault", code or ("-" if state else "?")),
    ]
    if faults:
        items.append(("injected", faults))
    sc = scores or {}
    learn = ("being learned" if sc.get("learning") else "ready") if sc else "waiting for a trip"
    wear = ", ".join(f"{k.split('.')[0]} {v}" for k, v in sc.items() if k.endswith(".score"))
    items += [("detectors", f"baseline {learn}; trips {sc.get('trips', 0)}"
               + (f"; scores {wear}" if wear else "")),
              ("health", _health(health or {})),
              ("modbus", f"{counts['ok']} reads ok, {counts['failed']} failed"
                         + (f" (last: {error})" if error else ""))]
    if not tty:
        line = f"t={elapsed:6.1f}s " + " | ".join(f"{k} {v}" for k, v in items)
        if alarms:
            line += " | alarms: " + "; ".join(alarms)
        return line + "\n"
    lines = [f"liftguard demo   t = {elapsed:6.1f} s   broker {broker or '?'} (TLS)", "",
             "  Elevator, as the agent reports it to the platform:"]
    lines += [f"    {k:<10} {v}" for k, v in items]
    lines += ["", "  Alarms arriving at the platform (newest last):"]
    lines += [f"    {a}" for a in (alarms or [])] or ["    none yet"]
    if note:
        lines += ["", f"  Schedule: {note}"]
    lines += ["", "  Ctrl-C stops everything. Add a fault from another terminal:",
              f"  liftguard sim inject --control {control} NAME=VALUE",
              "  (the catalogue: liftguard sim faults)"]
    return "\n".join(lines) + "\n"


def _health(h: Mapping[str, Any]) -> str:
    if not h:
        return "?"
    parts = [f"{k} {v}" for k, v in h.items()
             if k in ("controller", "accel", "audio", "uplink", "storage")]
    return f"{h.get('health', '?')} ({', '.join(parts)})"


def _num(state: Mapping[str, Any], key: str, fmt: str) -> str:
    value = state.get(key)
    with contextlib.suppress(TypeError, ValueError):
        return fmt.format(float(value))  # type: ignore[arg-type]
    return "?"
